"""Engine behaviour asked for by the first review: compare-and-set answers, backoff and
deferred holds, the safety net's repair, the cursor waiting for a scheduled job, orphan
retry rows, the budgeted drift audit and config reloads on manual events."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import pytest

from connector.marketplaces.base import Outcome, PushResult, StockUpdate
from connector.sync.engine import Engine
from tests.sync.fakes import Rig

pytestmark = pytest.mark.timeout(30)


def test_a_cas_answer_is_the_next_compare_value_after_a_fresh_erp_read(rig: Rig) -> None:
    rig.engine.start()
    amazon = rig.adapters["amazon_de"]
    lid = rig.lid("amazon_de", "MUG")
    seen: list[tuple[int, int | None]] = []

    def cas(u: StockUpdate) -> PushResult:
        seen.append((u.quantity, u.expected_quantity))
        if u.expected_quantity == 4:  # the marketplace sold one meanwhile: it holds 4
            return PushResult.ok(u)
        return PushResult(u.listing_id, Outcome.RETRY, message="stale", retry_at=rig.now[0] + 2,
                          applied_quantity=4)

    amazon.decide = cas
    rig.source.set("MUG", 3)
    rig.engine.wake([rig.source.pid("MUG")])
    assert rig.engine.wait_idle(5)
    assert seen == [(3, 5)]  # compared with what we pushed last
    [entry] = rig.store.retries()
    assert entry.due_at == rig.now[0] + 2  # the adapter's short retry, not the backoff
    rig.source.set("MUG", 2)  # the ERP imported the sale by the time of the retry
    rig.now[0] += 2
    assert rig.engine.retry_due() == 1
    assert rig.engine.wait_idle(5)
    assert seen[-1] == (2, 4)  # fresh ERP value, compared with the marketplace's own
    row = rig.store.listing(lid)
    assert row is not None and row.state == "synced" and row.pushed_qty == 2


def test_retry_waits_for_the_engine_backoff_and_deferred_holds_never_give_up(tmp_path: Path) -> None:
    rig = Rig(tmp_path, max_attempts=2)
    try:
        rig.engine.start()
        amazon = rig.adapters["amazon_de"]
        amazon.decide = lambda u: PushResult.retry(u, "HTTP 503", retry_at=rig.now[0] + 1)
        rig.source.set("MUG", 2)
        rig.engine.wake([rig.source.pid("MUG")])
        assert rig.engine.wait_idle(5)
        [entry] = rig.store.retries()
        assert entry.due_at == rig.now[0] + rig.settings.retry_base_s  # max(retry_at, backoff)
        # A budget hold (eBay revisions) three times over: never "gave up".
        amazon.decide = lambda u: PushResult.retry(u, "held", retry_at=rig.now[0] + 60, deferred=True)
        for _ in range(3):
            rig.now[0] += 3600
            assert rig.engine.retry_due() == 1
            assert rig.engine.wait_idle(5)
        row = rig.store.listing(rig.lid("amazon_de", "MUG"))
        assert row is not None and row.state == "pending"
        assert rig.store.retries()[0].due_at == rig.now[0] + 60
    finally:
        rig.engine.stop()


def test_deferred_holds_do_not_count_toward_giving_up_across_a_restart(tmp_path: Path) -> None:
    rig = Rig(tmp_path, max_attempts=2)
    try:
        rig.engine.start()
        amazon = rig.adapters["amazon_de"]
        amazon.decide = lambda u: PushResult.retry(u, "held", retry_at=rig.now[0] + 60, deferred=True)
        rig.source.set("MUG", 2)
        rig.engine.wake([rig.source.pid("MUG")])
        assert rig.engine.wait_idle(5)
        for _ in range(2):
            rig.now[0] += 3600
            assert rig.engine.retry_due() == 1
            assert rig.engine.wait_idle(5)
        assert [r.attempts for r in rig.store.retries()] == [0]
        rig.engine.stop()
        rig.store.close()
        rig.engine = rig.new_engine()  # the count comes back from the state file
        rig.engine.start(initial_sync=False)
        # One real failure now: attempt 1 of 2, not a give-up on three stored holds.
        amazon.decide = lambda u: PushResult.retry(u, "HTTP 503", retry_at=0)
        rig.now[0] += 3600
        assert rig.engine.retry_due() == 1
        assert rig.engine.wait_idle(5)
        row = rig.store.listing(rig.lid("amazon_de", "MUG"))
        assert row is not None and row.state == "pending", row
        assert [r.attempts for r in rig.store.retries()] == [1]
    finally:
        rig.engine.stop()


def test_marketplace_caps_reach_the_computation(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.engine = Engine(dataclasses.replace(rig.engine.deps, marketplace_caps={"amazon": 3}), rig.settings, rig.store)
    try:
        rig.engine.start()
        assert rig.adapters["amazon_de"].remote[rig.sku("amazon_de", "MUG")] == (3, True)  # 5 capped
        assert rig.adapters["etsy_shop"].remote[rig.sku("etsy_shop", "MUG")] == (5, True)
    finally:
        rig.engine.stop()


def test_the_safety_net_repushes_a_listing_whose_retries_ran_out(tmp_path: Path) -> None:
    rig = Rig(tmp_path, max_attempts=1)
    try:
        rig.engine.start()
        amazon = rig.adapters["amazon_de"]
        amazon.decide = lambda u: PushResult.retry(u, "HTTP 503", retry_at=0)
        rig.source.set("LAMP", 0)
        rig.engine.wake([rig.source.pid("LAMP")])
        assert rig.engine.wait_idle(5)
        lid = rig.lid("amazon_de", "LAMP")
        row = rig.store.listing(lid)
        assert row is not None and row.state == "error"
        assert rig.engine.resync().changes == []  # a plain resync leaves errors alone (Rule 6)
        amazon.decide = None  # the outage is over
        report = rig.engine.resync(trigger="safety_net", repair=True)
        assert [c.listing_id for c in report.changes] == [lid]
        row = rig.store.listing(lid)
        assert row is not None and row.state == "synced" and row.pushed_qty == 0
    finally:
        rig.engine.stop()


def test_a_flush_skipping_a_scheduled_value_holds_the_cursor_until_it_is_durable(rig: Rig) -> None:
    rig.engine.start()
    amazon = rig.adapters["amazon_de"]
    amazon.gate = threading.Event()
    amazon.started.clear()
    rig.source.set("MUG", 1)
    rig.engine.resync(skus=["MUG"], wait_s=0)  # the safety net queued 1 (untracked)
    assert amazon.started.wait(5)
    event = rig.feed.emit(rig.source.pid("MUG"))  # the outbox entry for the same change
    rig.engine.wake()
    # The flush reads the event, finds 1 already scheduled on amazon and skips it there.
    deadline = threading.Event()
    for _ in range(200):
        if rig.feed.reads >= 2 and rig.store.get_cursor("outbox") != event and rig.engine.feed_cycle.tracker.pending():
            break
        deadline.wait(0.01)
    assert rig.store.get_cursor("outbox") != event, "cursor passed an event whose push is only in memory"
    amazon.gate.set()
    assert rig.engine.wait_idle(5)
    assert rig.store.get_cursor("outbox") == event


def test_retry_rows_of_listings_gone_or_disabled_are_dropped(rig: Rig) -> None:
    rig.engine.start()
    amazon = rig.adapters["amazon_de"]
    amazon.decide = lambda u: PushResult.retry(u, "HTTP 503", retry_at=0)
    rig.source.set("MUG", 2)
    rig.engine.wake([rig.source.pid("MUG")])
    assert rig.engine.wait_idle(5)
    assert len(rig.store.retries()) == 1
    lid = rig.lid("amazon_de", "MUG")
    rig.source.listings = [li for li in rig.source.listings if li.id != lid]  # archived in the ERP
    rig.now[0] += 3600
    assert rig.engine.retry_due() == 1
    assert rig.engine.wait_idle(5)
    assert rig.store.retries() == []
    assert rig.engine.retry_due() == 0


def test_the_drift_audit_rotates_within_its_budget_and_corrects_drift(rig: Rig) -> None:
    rig.engine.start()
    amazon = rig.adapters["amazon_de"]
    reads: list[list[str]] = []
    real_read = amazon.read

    def read(skus: Any) -> Any:
        reads.append([s for s, _ in skus])
        return real_read(skus)

    amazon.read = read  # type: ignore[method-assign]
    amazon.remote[rig.sku("amazon_de", "TEA")] = (99, True)  # changed behind our back
    budget = {"*": 0, "amazon": 2}
    first = rig.engine.audit_drift(budget)
    second = rig.engine.audit_drift(budget)
    assert [len(r) for r in reads] == [2, 2]
    assert set(reads[0]) | set(reads[1]) == {rig.sku("amazon_de", s) for s in ("MUG", "LAMP", "TEA")}
    assert rig.engine.wait_idle(5)
    assert rig.lid("amazon_de", "TEA") in first.drifted + second.drifted
    assert amazon.remote[rig.sku("amazon_de", "TEA")] == (10, True)


def test_the_drift_audit_leaves_a_busy_channel_for_the_next_run(rig: Rig) -> None:
    rig.engine.start()
    amazon = rig.adapters["amazon_de"]
    amazon.gate = threading.Event()
    amazon.started.clear()
    rig.source.set("MUG", 1)
    rig.engine.wake([rig.source.pid("MUG")])
    assert amazon.started.wait(5)
    report = rig.engine.audit_drift({"*": 0, "etsy": 0, "amazon": 10})
    assert report.checked == 0  # pushes first
    amazon.gate.set()
    assert rig.engine.wait_idle(5)


def test_manual_events_reload_the_erp_config_before_the_snapshot(rig: Rig) -> None:
    rig.engine.start()
    reloads: list[int] = []
    rig.source.refresh_config = lambda: reloads.append(1)  # type: ignore[method-assign]
    rig.feed.last_reasons = {"move_done"}  # type: ignore[attr-defined]
    rig.feed.emit(rig.source.pid("MUG"))
    rig.engine.wake()
    assert rig.engine.wait_idle(5)
    assert reloads == []
    rig.feed.last_reasons = {"manual"}  # type: ignore[attr-defined]
    rig.feed.emit(rig.source.pid("MUG"))
    rig.engine.wake()
    assert rig.engine.wait_idle(5)
    assert reloads == [1]
