"""Rule 2 when the state file fails: a batch whose outcomes could not be recorded is queued
again with its tickets, so the cursor waits for it (never passes an unrecorded outcome)
and moves as soon as the state file works again; a newer value still wins (Rule 3)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from connector.marketplaces.base import PushResult, StockUpdate
from connector.stock.model import PushAction
from connector.sync.dispatch import ChannelWorker, Job
from connector.sync.engine import Engine, EngineDeps, EngineSettings
from connector.state.sqlite import StateStore
from connector.sync.tickets import CursorTracker, Ticket
from tests.sync.fakes import FakeAdapter, FakeFeed, FakeSource, fake_compute, wait

pytestmark = pytest.mark.timeout(30)

CHANNELS = [("amazon_de", "amazon"), ("etsy_shop", "etsy")]


class FlakyRecord:
    """Wraps a store's record_outcomes: the first `fail` calls raise like a full disk."""

    def __init__(self, real: Callable[..., None]) -> None:
        self.real = real
        self.fail = 0
        self.failed = 0
        self.lock = threading.Lock()

    def __call__(self, outcomes: Any, now: float | None = None) -> None:
        with self.lock:
            if self.failed < self.fail:
                self.failed += 1
                raise sqlite3.OperationalError("database or disk is full")
        self.real(outcomes, now=now)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[tuple[Engine, FakeSource, FakeFeed, dict[str, FakeAdapter], FlakyRecord]]:
    source = FakeSource(CHANNELS, {"MUG": 5, "TEA": 10})
    feed = FakeFeed()
    adapters = {code: FakeAdapter(code) for code, _ in CHANNELS}
    store = StateStore.open(tmp_path / "state.sqlite3")
    flaky = FlakyRecord(store.record_outcomes)
    store.record_outcomes = flaky  # type: ignore[method-assign]
    deps = EngineDeps(source=source, compute=fake_compute, adapter_factory=lambda code, mp: adapters[code],
                      feed=feed, clock=lambda: 1_750_000_000.0)
    eng = Engine(deps, EngineSettings(poll_interval_s=0.05), store)
    yield eng, source, feed, adapters, flaky
    eng.stop()


def test_cursor_moves_once_the_state_file_records_again(engine: Any) -> None:
    eng, source, feed, adapters, flaky = engine
    assert eng.start() is not None
    assert eng.wait_idle(5)
    mug = source.pid("MUG")
    flaky.fail = 3
    source.set("MUG", 4)
    first = feed.emit(mug)
    eng.wake()
    # While recording fails the cursor stays behind the unrecorded outcome.
    wait(lambda: flaky.failed >= 1, "a failed record")
    assert eng.store.get_cursor("outbox") != first
    source.set("MUG", 3)
    last = feed.emit(mug)
    eng.wake()
    wait(lambda: eng.store.get_cursor("outbox") == last, f"the cursor to reach event {last}")
    assert flaky.failed == 3
    assert eng.feed_cycle.tracker.pending() == 0  # no ticket left behind: the tracker's queue is empty
    for code, _mp in CHANNELS:
        lid = source.listing_id(code, "MUG")
        row = eng.store.listing(lid)
        assert row is not None and (row.wanted_qty, row.pushed_qty, row.state) == (3, 3, "synced"), code
        assert adapters[code].remote[f"{code}-MUG"] == (3, True)  # latest wins on the marketplace too


def _job(qty: int, ticket: Ticket) -> Job:
    ticket.add()
    update = StockUpdate(listing_id=7, sku="MUG", quantity=qty, action=PushAction.SET)
    return Job(update=update, meta=None, tickets=[ticket])


def test_worker_requeues_a_failed_batch_and_a_newer_value_takes_its_ticket() -> None:
    adapter = FakeAdapter("amazon_de")
    adapter.gate = threading.Event()
    recorded: list[tuple[int, str]] = []
    failures = [2]

    def record(_code: str, jobs: Sequence[Job], results: Sequence[PushResult], _ms: float,
               done: Callable[[bool], None]) -> None:
        if failures[0] > 0:
            failures[0] -= 1
            raise OSError("disk full")
        recorded.extend((j.update.quantity, r.outcome.value) for j, r in zip(jobs, results))
        done(True)

    stored: list[Any] = []
    tracker = CursorTracker(stored.append)
    worker = ChannelWorker("amazon_de", lambda: adapter, record=record)
    worker.start()
    try:
        old = tracker.open(position=1)
        worker.submit(_job(4, old))
        old.seal()
        assert adapter.started.wait(5)  # 4 is in flight; its record will fail
        new = tracker.open(position=2)
        worker.submit(_job(2, new))  # queued behind it
        new.seal()
        time.sleep(0.05)
        assert stored == []  # nothing recorded yet: the cursor stays
        adapter.gate.set()
        wait(lambda: stored[-1:] == [2], "the cursor to reach position 2")
        assert stored == [1, 2]
        assert old.done and new.done
        # 4's outcome never landed (the newer value replaced it when it was queued again);
        # the newest value is what was recorded and what the marketplace holds.
        assert recorded == [(2, "ok")]
        assert adapter.remote["MUG"] == (2, True)
        assert worker.is_idle()
    finally:
        adapter.gate.set()
        worker.stop()
