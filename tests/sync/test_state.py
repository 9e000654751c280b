"""The state file: migrations, transactions, readers beside a writer, pruning, and the
cursor rule surviving a SIGKILL of the writer process."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from connector.stock.model import PushAction, SyncState
from connector.sync.engine import Engine, EngineDeps, EngineSettings
from connector.state.errors import StateError
from connector.state.rows import ListingMeta, PushRecord
from connector.state.schema import MIGRATIONS, SCHEMA_VERSION
from connector.state.sqlite import StateStore
from tests.sync.fakes import FakeAdapter, FakeFeed, FakeSource, fake_compute
from tests.sync.fakes import CHANNELS

META = ListingMeta(1, "bol_nl", "bol", 7, "MUG", "8712345678906", "1234")


def outcome(qty: int, **kw: object) -> PushRecord:
    fields: dict[str, object] = dict(meta=META, quantity=qty, action=PushAction.SET, state=SyncState.SYNCED,
                                     result="ok", accepted=True)
    fields.update(kw)
    return PushRecord(**fields)  # type: ignore[arg-type]


def test_fresh_file_gets_the_latest_schema(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    assert store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    mode = sqlite3.connect(tmp_path / "s.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_an_old_file_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    store = StateStore.open(path)
    store.close()
    conn = sqlite3.connect(path)  # make it look like a version-1 file
    conn.executescript("DROP TABLE alert; DROP TABLE credential; DELETE FROM schema_version WHERE version > 1;")
    conn.execute("INSERT INTO cursor VALUES ('outbox', '41', 0)")
    conn.commit()
    conn.close()
    store = StateStore.open(path)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.get_cursor("outbox") == 41
    assert store.open_alert("oversold", 7, "MUG", "negative") is True


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    StateStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="newer"):
        StateStore.open(path)


def test_cursor_values_round_trip(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    store.set_cursor("outbox", 12)
    store.set_cursor("write_date", "2025-01-02 03:04:05")
    store.set_cursor("dt", datetime(2025, 1, 2, 3, 4, 5))
    assert store.get_cursor("outbox") == 12
    assert store.get_cursor("write_date") == "2025-01-02 03:04:05"
    assert store.get_cursor("dt") == datetime(2025, 1, 2, 3, 4, 5)
    assert store.get_cursor("missing") is None


def test_outcomes_retry_queue_and_journal(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    store.record_outcomes([outcome(5)], now=1000.0)
    store.record_outcomes([outcome(3, state=SyncState.PENDING, result="retry", accepted=False,
                                   message="HTTP 429", retry_due_at=1030.0, old_qty=5)], now=1001.0)
    row = store.listing(1)
    assert row is not None
    assert (row.pushed_qty, row.wanted_qty, row.state, row.last_error) == (5, 3, "pending", "HTTP 429")
    [retry] = store.due_retries(now=1030.0)
    assert (retry.quantity, retry.attempts) == (3, 1)
    assert store.due_retries(now=1029.0) == []
    store.record_outcomes([outcome(3, old_qty=5)], now=1031.0)
    assert store.retries() == []
    assert [(j.old_qty, j.new_qty, j.result) for j in store.journal(sku="MUG")] == [
        (None, 5, "ok"), (5, 3, "retry"), (5, 3, "ok")]
    assert store.journal(sku="8712345678906", since=1001.0)[0].result == "retry"


def test_deferred_holds_keep_the_stored_attempt_count(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    held = dict(state=SyncState.PENDING, result="retry", accepted=False, message="revision budget",
                deferred=True)
    store.record_outcomes([outcome(3, retry_due_at=1100.0, **held)], now=1000.0)
    assert [r.attempts for r in store.retries()] == [0]  # a first hold is no attempt
    failed = dict(state=SyncState.PENDING, result="retry", accepted=False, message="HTTP 503")
    store.record_outcomes([outcome(3, retry_due_at=1200.0, **failed)], now=1100.0)
    store.record_outcomes([outcome(3, retry_due_at=1300.0, **held)], now=1200.0)
    store.record_outcomes([outcome(3, retry_due_at=1400.0, **held)], now=1300.0)
    [retry] = store.retries()
    assert (retry.attempts, retry.due_at, retry.last_message) == (1, 1400.0, "revision budget")


def test_drop_retries_removes_only_the_named_listings(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    other = ListingMeta(2, "bol_nl", "bol", 8, "CUP", "8712345678913", "1235")
    failed = dict(state=SyncState.PENDING, result="retry", accepted=False, message="HTTP 503",
                  retry_due_at=1030.0)
    store.record_outcomes([outcome(3, **failed), outcome(4, meta=other, **failed)], now=1000.0)
    assert store.drop_retries([]) == 0
    assert store.drop_retries([1, 99]) == 1
    assert [r.listing_id for r in store.retries()] == [2]
    row = store.listing(1)
    assert row is not None and row.wanted_qty == 3  # the listing row itself stays


def test_a_failing_batch_writes_nothing(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    broken = outcome(2, meta=ListingMeta(2, "x", "x", 1, None, "s"))  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        store.record_outcomes([outcome(4), broken])
    assert store.listings() == [] and store.journal() == []


def test_pruning_removes_only_old_journal_rows(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")
    store.record_outcomes([outcome(1)], now=time.time() - 100 * 86400)
    store.record_outcomes([outcome(2)], now=time.time())
    assert store.prune_journal(90) == 1
    assert [j.new_qty for j in store.journal()] == [2]


def test_a_reader_process_sees_commits_while_the_writer_is_open(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    writer = StateStore.open(path)
    writer.record_outcomes([outcome(5)])
    reader = StateStore.open(path, read_only=True)
    assert reader.listing(1) is not None
    writer.record_outcomes([outcome(6)])
    row = reader.listing(1)
    assert row is not None and row.pushed_qty == 6
    with pytest.raises(sqlite3.OperationalError):
        reader.set_cursor("outbox", 1)
    with pytest.raises(StateError):
        StateStore.open(tmp_path / "absent.sqlite3", read_only=True)


def test_sigkill_mid_push_keeps_the_cursor_and_a_restart_converges(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.sync.crash_child", str(path)],
        cwd=root, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        reader = StateStore.open(path, read_only=True)
        deadline = time.monotonic() + 10
        amazon_mug = 1001
        while (row := reader.listing(amazon_mug)) is None or row.pushed_qty != 2:
            assert time.monotonic() < deadline, "amazon never got the new value"
            time.sleep(0.02)
        assert reader.get_cursor("outbox") == 0  # etsy's push is still in flight
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    # restart on the same file: the event is replayed, etsy converges, the cursor moves
    source = FakeSource(CHANNELS, {"MUG": 2, "LAMP": 1, "TEA": 10})
    feed = FakeFeed(events=[(1, source.pid("MUG"))])
    adapters = {code: FakeAdapter(code) for code, _ in CHANNELS}
    engine = Engine(
        EngineDeps(source=source, compute=fake_compute, adapter_factory=lambda c, m: adapters[c], feed=feed),
        EngineSettings(poll_interval_s=0.05),
        StateStore.open(path),
    )
    try:
        engine.start()
        assert engine.wait_idle(10)
        assert [p for p in adapters["etsy_shop"].pushed() if p[0] == "etsy_shop-MUG"] == [
            ("etsy_shop-MUG", 2, PushAction.SET)]
        assert adapters["amazon_de"].pushed() == []  # it already had 2: nothing re-sent
        assert engine.store.get_cursor("outbox") == 1
    finally:
        engine.stop()


def test_only_the_last_explanation_of_a_listing_in_one_write_is_built(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite3")

    def never() -> dict[str, object]:
        raise AssertionError("an overwritten explanation was built")

    store.record_outcomes([outcome(5, explanation=never), outcome(4, explanation=lambda: {"text": "free 4"})])
    row = store.listing(1)
    assert row is not None and row.wanted_qty == 4 and row.explanation == {"text": "free 4"}
    store.record_outcomes([outcome(3, explanation={"text": "free 3"})])  # a plain dict still works
    row = store.listing(1)
    assert row is not None and row.explanation == {"text": "free 3"}
    assert [j.new_qty for j in store.journal(sku="MUG")][-3:] in ([5, 4, 3], [3, 4, 5])
