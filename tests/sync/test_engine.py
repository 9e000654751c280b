"""The engine against in-memory fakes: coalescing, diff, latest-wins, concurrency, retries,
permanent errors, oversold, the cursor rule and the drift audit."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from connector.marketplaces.base import FailureCategory, PushResult
from connector.stock.model import PushAction
from tests.sync.fakes import Rig

def test_first_sync_pushes_everything_and_a_second_resync_sends_nothing(rig: Rig) -> None:
    report = rig.engine.start()
    assert report is not None and report.ok
    assert report.checked == 9 and len(report.changes) == 9
    assert {c.result for c in report.changes} == {"synced"}
    assert rig.adapters["amazon_de"].remote[rig.sku("amazon_de", "MUG")] == (5, True)
    before = sum(len(a.pushed()) for a in rig.adapters.values())
    again = rig.engine.resync()
    assert again.unchanged == 9 and again.changes == []
    assert sum(len(a.pushed()) for a in rig.adapters.values()) == before
    forced = rig.engine.resync(skus=["MUG"], force=True)
    assert len(forced.changes) == 3 and all(c.reason == "forced" for c in forced.changes)


def test_dry_run_reports_without_pushing(rig: Rig) -> None:
    rig.engine.start()
    rig.source.set("TEA", 7)
    report = rig.engine.resync(dry_run=True, channels=["amazon_de"])
    assert [(c.channel_code, c.old_qty, c.new_qty) for c in report.changes] == [("amazon_de", 10, 7)]
    assert rig.adapters["amazon_de"].remote[rig.sku("amazon_de", "TEA")] == (10, True)


def test_burst_of_events_is_coalesced_into_few_snapshots(rig: Rig) -> None:
    rig.engine.start()
    rig.engine.wait_idle(5)
    taken = len(rig.source.snapshots)
    mug = rig.source.pid("MUG")
    for qty in range(20, 0, -1):
        rig.source.set("MUG", qty)
        rig.feed.emit(mug)
        rig.engine.wake()
    assert rig.engine.wait_idle(5)
    assert len(rig.source.snapshots) - taken <= 4
    assert rig.adapters["amazon_de"].remote[rig.sku("amazon_de", "MUG")] == (1, True)
    assert rig.store.get_cursor("outbox") == 20


def test_latest_value_wins_while_an_old_push_is_slow(rig: Rig) -> None:
    rig.engine.start()
    amazon = rig.adapters["amazon_de"]
    amazon.gate, amazon.started = threading.Event(), threading.Event()
    rig.source.set("MUG", 4)
    rig.engine.wake([rig.source.pid("MUG")])
    assert amazon.started.wait(5)  # the push of 4 is in flight
    worker = rig.engine.workers()["amazon_de"]
    lid = rig.lid("amazon_de", "MUG")
    for qty in (3, 2, 1):
        rig.source.set("MUG", qty)
        rig.engine.wake([rig.source.pid("MUG")])
        # An event, not a sleep: the flush has queued this value behind the one in flight.
        deadline = time.monotonic() + 5
        while worker.scheduled(lid) != (qty, PushAction.SET):
            assert time.monotonic() < deadline, f"{qty} never queued"
            time.sleep(0.002)
    amazon.gate.set()
    assert rig.engine.wait_idle(5)
    mug = rig.sku("amazon_de", "MUG")
    values = [q for sku, q, _a in amazon.pushed() if sku == mug]
    assert values[-2:] == [4, 1]  # 3 and 2 were replaced while 4 was in flight
    assert amazon.remote[mug] == (1, True)
    row = rig.store.listing(rig.lid("amazon_de", "MUG"))
    assert row is not None and row.pushed_qty == 1 and row.state == "synced"


def test_a_slow_channel_does_not_delay_the_others(rig: Rig) -> None:
    rig.engine.start()
    slow = rig.adapters["lazada_sg"]
    slow.gate, slow.started = threading.Event(), threading.Event()
    rig.source.set("TEA", 3)
    t0 = time.monotonic()
    rig.engine.wake([rig.source.pid("TEA")])
    assert slow.started.wait(5)
    deadline = time.monotonic() + 5
    while rig.adapters["amazon_de"].remote[rig.sku("amazon_de", "TEA")] != (3, True):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert time.monotonic() - t0 < 2
    assert slow.remote[rig.sku("lazada_sg", "TEA")] == (10, True)  # still blocked
    slow.gate.set()
    assert rig.engine.wait_idle(5)
    assert slow.remote[rig.sku("lazada_sg", "TEA")] == (3, True)


def test_retryable_failure_is_parked_then_delivered_by_the_retry_job(rig: Rig) -> None:
    rig.engine.start()
    shop = rig.adapters["amazon_de"]
    shop.decide = lambda u: PushResult.retry(u, "HTTP 429 slow down", retry_at=rig.now[0] + 30)
    rig.source.set("LAMP", 0)
    rig.engine.wake([rig.source.pid("LAMP")])
    assert rig.engine.wait_idle(5)
    lid = rig.lid("amazon_de", "LAMP")
    [entry] = rig.store.retries()
    assert (entry.listing_id, entry.quantity, entry.attempts) == (lid, 0, 1)
    assert entry.due_at == rig.now[0] + 30
    row = rig.store.listing(lid)
    assert row is not None and row.state == "pending" and "429" in (row.last_error or "")
    assert rig.engine.retry_due() == 0  # not due yet
    shop.decide = None
    rig.now[0] += 31
    assert rig.engine.retry_due() == 1
    assert rig.engine.wait_idle(5)
    assert rig.store.retries() == []
    assert shop.remote[rig.sku("amazon_de", "LAMP")] == (0, True)
    assert [j.result for j in rig.store.journal(sku="LAMP", channel="amazon_de")][-2:] == ["retry", "ok"]


def test_transient_failures_give_up_into_error_after_max_attempts(tmp_path: Path) -> None:
    rig = Rig(tmp_path, max_attempts=2)
    try:
        rig.engine.start()
        rig.adapters["amazon_de"].decide = lambda u: PushResult.retry(u, "HTTP 503", retry_at=0)
        rig.source.set("MUG", 2)
        rig.engine.wake([rig.source.pid("MUG")])
        assert rig.engine.wait_idle(5)
        rig.now[0] += 3600
        assert rig.engine.retry_due() == 1
        assert rig.engine.wait_idle(5)
        row = rig.store.listing(rig.lid("amazon_de", "MUG"))
        assert row is not None and row.state == "error" and "gave up after 2" in (row.last_error or "")
        assert rig.store.retries() == []
    finally:
        rig.engine.stop()


def test_permanent_error_parks_the_listing_and_is_not_retried(rig: Rig) -> None:
    rig.engine.start()
    lazada = rig.adapters["lazada_sg"]
    lazada.decide = lambda u: PushResult.failed(u, FailureCategory.LOCKED, "campaign stock locked at 5")
    rig.source.set("TEA", 2)
    rig.engine.wake([rig.source.pid("TEA")])
    assert rig.engine.wait_idle(5)
    row = rig.store.listing(rig.lid("lazada_sg", "TEA"))
    assert row is not None and row.state == "locked" and row.last_error == "campaign stock locked at 5"
    assert row.pushed_qty == 10  # the marketplace still holds the old value
    assert rig.adapters["amazon_de"].remote[rig.sku("amazon_de", "TEA")] == (2, True)
    calls = len(lazada.calls)
    rig.engine.resync()  # same value again: not retried
    rig.now[0] += 3600
    rig.engine.retry_due()
    assert rig.engine.wait_idle(5)
    assert len(lazada.calls) == calls
    lazada.decide = None
    rig.source.set("TEA", 6)  # a new value is a new attempt
    rig.engine.wake([rig.source.pid("TEA")])
    assert rig.engine.wait_idle(5)
    row = rig.store.listing(rig.lid("lazada_sg", "TEA"))
    assert row is not None and (row.state, row.pushed_qty, row.last_error) == ("synced", 6, None)


def test_oversold_publishes_zero_everywhere_and_raises_an_alert(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.engine.start()
    with caplog.at_level(logging.ERROR, logger="connector.sync.engine"):
        rig.source.set("LAMP", -1)
        rig.engine.wake([rig.source.pid("LAMP")])
        assert rig.engine.wait_idle(5)
    assert any("OVERSOLD" in r.message and r.levelno == logging.ERROR for r in caplog.records)
    [alert] = rig.store.alerts()
    assert alert.sku == "LAMP"
    assert rig.adapters["amazon_de"].remote[rig.sku("amazon_de", "LAMP")] == (0, True)
    assert rig.adapters["etsy_shop"].remote[rig.sku("etsy_shop", "LAMP")] == (0, False)
    etsy = rig.store.listing(rig.lid("etsy_shop", "LAMP"))
    assert etsy is not None and etsy.state == "deactivated"
    rig.source.set("LAMP", 3)
    rig.engine.wake([rig.source.pid("LAMP")])
    assert rig.engine.wait_idle(5)
    assert rig.store.alerts() == []
    assert rig.adapters["etsy_shop"].pushed()[-1] == (rig.sku("etsy_shop", "LAMP"), 3, PushAction.REACTIVATE)


def test_cursor_moves_only_after_durable_outcomes_and_a_restart_replays(rig: Rig) -> None:
    rig.engine.start()
    assert rig.engine.wait_idle(5)
    assert rig.store.get_cursor("outbox") == 0
    etsy = rig.adapters["etsy_shop"]
    etsy.gate, etsy.started = threading.Event(), threading.Event()
    rig.source.set("MUG", 1)
    rig.feed.emit(rig.source.pid("MUG"))
    rig.engine.wake()
    assert etsy.started.wait(5)
    time.sleep(0.1)
    assert rig.store.get_cursor("outbox") == 0  # etsy's outcome is not durable yet
    # "crash": the engine goes away with etsy's push unfinished
    rig.engine._stop.set()
    rig.engine = rig.new_engine()
    etsy.gate = None
    rig.engine.start()
    assert rig.engine.wait_idle(5)
    assert etsy.remote[rig.sku("etsy_shop", "MUG")] == (1, True)
    assert rig.store.get_cursor("outbox") == 1


def test_erp_failure_keeps_the_trigger_and_retries(rig: Rig) -> None:
    rig.engine.start()
    rig.source.fail = ConnectionError("ERP down")
    rig.source.set("TEA", 4)
    rig.feed.emit(rig.source.pid("TEA"))
    rig.engine.wake()
    time.sleep(0.2)
    assert rig.store.get_cursor("outbox") == 0
    rig.source.fail = None
    assert rig.engine.wait_idle(5)
    assert rig.adapters["amazon_de"].remote[rig.sku("amazon_de", "TEA")] == (4, True)
    assert rig.store.get_cursor("outbox") == 1


def test_drift_audit_corrects_a_marketplace_that_changed_behind_our_back(rig: Rig) -> None:
    rig.engine.start()
    lazada = rig.adapters["lazada_sg"]
    lazada.remote[rig.sku("lazada_sg", "TEA")] = (42, True)  # a promotion ended, stock drifted
    report = rig.engine.resync(audit=True)
    assert report.drifted == [rig.lid("lazada_sg", "TEA")]
    assert lazada.remote[rig.sku("lazada_sg", "TEA")] == (10, True)
    assert rig.engine.resync(audit=True).drifted == []


def test_journal_records_old_new_and_trigger_events(rig: Rig) -> None:
    rig.engine.start()
    rig.source.set("MUG", 2)
    event = rig.feed.emit(rig.source.pid("MUG"))
    rig.engine.wake()
    assert rig.engine.wait_idle(5)
    last = rig.store.journal(sku="MUG", channel="amazon_de")[-1]
    assert (last.old_qty, last.new_qty, last.events, last.result, last.trigger) == (5, 2, [event], "ok", "event")
