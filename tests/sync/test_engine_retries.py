"""Retries (Rule 6) through the engine: a compare-and-set answer is the next compare value,
the engine's backoff and deferred holds, holds across a restart, the safety net's repair,
retry rows of listings gone, and a failed reactivation retried as a reactivation."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.marketplaces.base import Outcome, PushResult, StockUpdate
from connector.stock.model import PushAction
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


def test_a_reactivation_that_failed_is_retried_as_a_reactivation(rig: Rig) -> None:
    rig.engine.start()
    assert rig.engine.wait_idle(5)
    lamp = rig.source.pid("LAMP")
    etsy, sku = rig.adapters["etsy_shop"], rig.sku("etsy_shop", "LAMP")
    rig.source.set("LAMP", 0)
    rig.engine.wake([lamp])
    assert rig.engine.wait_idle(5)
    assert etsy.pushed()[-1] == (sku, 0, PushAction.DEACTIVATE)
    etsy.decide = lambda u: (PushResult.retry(u, "503", rig.now[0] + 1)
                             if u.action is PushAction.REACTIVATE and len(etsy.pushed()) < 99 else PushResult.ok(u))
    rig.source.set("LAMP", 4)
    rig.engine.wake([lamp])
    assert rig.engine.wait_idle(5)
    assert etsy.pushed()[-1] == (sku, 4, PushAction.REACTIVATE)  # refused for now
    etsy.decide = None
    rig.now[0] += 10_000
    assert rig.engine.retry_due() >= 1
    assert rig.engine.wait_idle(5)
    assert etsy.pushed()[-1] == (sku, 4, PushAction.REACTIVATE)  # still switches it back on
