"""The fast path: products a webhook names are pushed from a fresh read before the outbox
read returns; the outbox read then only settles them (Rule 2), and an outbox entry the
webhook did not announce is read again (Rule 1), so a lost webhook loses nothing."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from connector.marketplaces.base import PushResult, StockUpdate
from connector.stock.model import PushAction
from connector.sync.dispatch import ChannelWorker, Job
from connector.sync.tracing import erp_overlap
from tests.sync.fakes import FakeAdapter, Rig, wait

pytestmark = pytest.mark.timeout(30)


class GatedFeed:
    """Holds every outbox read until `gate` is set (an ERP slow to answer the outbox read)."""

    def __init__(self, rig: Rig) -> None:
        self.real = rig.feed.read
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()
        rig.feed.read = self.read  # type: ignore[method-assign]

    def read(self, after: Any) -> tuple[dict[int, list[int]], Any]:
        self.waiting.set()
        assert self.gate.wait(10), "test never released the outbox read"
        return self.real(after)


def pushed_qty(adapter: FakeAdapter, sku: str) -> list[int]:
    return [q for s, q, _a in adapter.pushed() if s == sku]


def test_a_webhook_named_product_is_pushed_before_the_outbox_answers(rig: Rig) -> None:
    gated = GatedFeed(rig)
    rig.engine.start()
    assert rig.engine.wait_idle(5)
    mug = rig.source.pid("MUG")
    cursor = rig.store.get_cursor("outbox")
    gated.gate.clear()
    rig.source.set("MUG", 3)
    event = rig.feed.emit(mug)

    rig.engine.wake([mug], [(event, mug, "move_done")])

    amazon = rig.sku("amazon_de", "MUG")
    wait(lambda: 3 in pushed_qty(rig.adapters["amazon_de"], amazon), "the fast push")
    assert gated.waiting.is_set() and not gated.gate.is_set()  # the outbox read is still out
    assert rig.store.get_cursor("outbox") == cursor  # nothing settled without the outbox
    reads = len(rig.source.snapshots)
    gated.gate.set()
    assert rig.engine.wait_idle(5)
    assert rig.store.get_cursor("outbox") == event
    assert len(rig.source.snapshots) == reads  # announced before the read: not read again
    assert pushed_qty(rig.adapters["amazon_de"], amazon).count(3) == 1
    [row] = [r for r in rig.store.journal(sku="MUG") if r.channel_code == "amazon_de" and r.new_qty == 3]
    assert event in row.events


def test_an_outbox_entry_whose_webhook_was_lost_is_read_again(rig: Rig) -> None:
    gated = GatedFeed(rig)
    rig.engine.start()
    assert rig.engine.wait_idle(5)
    mug = rig.source.pid("MUG")
    gated.gate.clear()
    rig.source.set("MUG", 3)
    first = rig.feed.emit(mug)
    rig.engine.wake([mug], [(first, mug, "move_done")])
    amazon = rig.sku("amazon_de", "MUG")
    wait(lambda: 3 in pushed_qty(rig.adapters["amazon_de"], amazon), "the fast push")

    rig.source.set("MUG", 2)  # a second sale whose webhook never arrives
    second = rig.feed.emit(mug)
    gated.gate.set()

    assert rig.engine.wait_idle(5)
    assert pushed_qty(rig.adapters["amazon_de"], amazon)[-1] == 2
    assert rig.store.get_cursor("outbox") == second


def test_traces_split_the_bridge_time_from_the_erp_reads(rig: Rig) -> None:
    rig.engine.start()
    assert rig.engine.wait_idle(5)
    tracer = rig.engine.start_tracing()
    mug = rig.source.pid("MUG")
    rig.source.set("MUG", 4)
    event = rig.feed.emit(mug)
    before = time.time()
    rig.engine.wake([mug], [(event, mug, "move_done")])
    assert rig.engine.wait_idle(5)

    dump = tracer.dump()
    [[eid, pid, arrived]] = dump["arrivals"]
    assert (eid, pid) == (event, mug) and arrived >= before
    mine = [p for p in dump["pushes"] if p["listing_id"] == rig.lid("amazon_de", "MUG")]
    assert [p["quantity"] for p in mine] == [4]
    [(read_start, read_end)] = mine[0]["erp_spans"]
    assert arrived <= read_start <= read_end <= mine[0]["created_at"] <= mine[0]["handed_at"]
    assert any(on == "erp" for on, _lo, _hi in dump["waits"])  # the stock read it waited on
    assert any(on == "market:amazon_de" for on, _lo, _hi in dump["waits"])


def test_erp_overlap_counts_the_union_of_reads_inside_the_interval() -> None:
    spans = [(1.0, 3.0), (2.0, 4.0), (6.0, 7.0)]
    assert erp_overlap(spans, 0.0, 10.0) == pytest.approx(4.0)  # [1,4] and [6,7]
    assert erp_overlap(spans, 3.5, 6.5) == pytest.approx(1.0)  # [3.5,4] and [6,6.5]
    assert erp_overlap(spans, 4.0, 6.0) == 0.0


# -- a newer plain SET never undoes a reactivation (Rule 3 with zero-stock behaviour) ------


def _job(listing_id: int, qty: int, action: PushAction) -> Job:
    return Job(update=StockUpdate(listing_id=listing_id, sku=f"L{listing_id}", quantity=qty, action=action),
               meta=None)


def _worker(adapter: FakeAdapter) -> ChannelWorker:
    worker = ChannelWorker("etsy_shop", lambda: adapter, record=lambda *args: args[-1](True))
    worker.start()
    return worker


def test_a_set_replacing_a_queued_reactivate_still_reactivates() -> None:
    adapter = FakeAdapter("etsy_shop")
    adapter.gate = threading.Event()
    worker = _worker(adapter)
    try:
        worker.submit(_job(2, 1, PushAction.SET))  # in flight, held by the gate
        assert adapter.started.wait(5)
        worker.submit(_job(1, 3, PushAction.REACTIVATE))
        worker.submit(_job(1, 4, PushAction.SET))  # a newer number before it went out
        adapter.gate.set()
        wait(worker.is_idle, "the worker to finish")
    finally:
        worker.stop()
    assert ("L1", 4, PushAction.REACTIVATE) in adapter.pushed()
    assert not any(s == "L1" and a is PushAction.SET for s, _q, a in adapter.pushed())


def test_a_set_queued_behind_a_failed_reactivate_takes_the_reactivation_over() -> None:
    adapter = FakeAdapter("etsy_shop")
    adapter.gate = threading.Event()
    adapter.decide = lambda u: (PushResult.retry(u, "busy", 0.0) if u.action is PushAction.REACTIVATE
                                else PushResult.ok(u))
    worker = _worker(adapter)
    try:
        worker.submit(_job(1, 3, PushAction.REACTIVATE))  # in flight; it will fail
        assert adapter.started.wait(5)
        worker.submit(_job(1, 4, PushAction.SET))
        adapter.gate.set()
        wait(worker.is_idle, "the worker to finish")
    finally:
        worker.stop()
    assert adapter.pushed() == [("L1", 3, PushAction.REACTIVATE), ("L1", 4, PushAction.REACTIVATE)]


def test_settling_a_fast_push_never_replaces_a_newer_value_scheduled_meanwhile(rig: Rig) -> None:
    gated = GatedFeed(rig)
    rig.engine.start()
    assert rig.engine.wait_idle(5)
    amazon = rig.adapters["amazon_de"]
    amazon.gate = threading.Event()
    amazon.started = threading.Event()
    mug = rig.source.pid("MUG")
    gated.gate.clear()
    rig.source.set("MUG", 3)
    event = rig.feed.emit(mug)
    rig.engine.wake([mug], [(event, mug, "move_done")])
    wait(lambda: amazon.started.is_set(), "the fast push to go out")

    rig.source.set("MUG", 2)  # a newer read (here a support resync) queues 2 behind it
    rig.engine.resync(skus=["MUG"], wait_s=0)
    gated.gate.set()  # the outbox answers: the fast push is settled, not re-sent
    amazon.gate.set()

    assert rig.engine.wait_idle(5)
    sku = rig.sku("amazon_de", "MUG")
    assert pushed_qty(amazon, sku)[-2:] == [3, 2]
    assert rig.store.get_cursor("outbox") == event


def test_wake_ups_arriving_while_the_outbox_read_is_out_are_pushed_at_once(rig: Rig) -> None:
    gated = GatedFeed(rig)
    rig.engine.start()
    assert rig.engine.wait_idle(5)
    mug, tea = rig.source.pid("MUG"), rig.source.pid("TEA")
    gated.gate.clear()
    rig.source.set("MUG", 3)
    first = rig.feed.emit(mug)
    rig.engine.wake([mug], [(first, mug, "move_done")])
    amazon = rig.adapters["amazon_de"]
    wait(lambda: 3 in pushed_qty(amazon, rig.sku("amazon_de", "MUG")), "the first fast push")

    rig.source.set("TEA", 7)  # a second commit while the same outbox read is still out
    second = rig.feed.emit(tea)
    rig.engine.wake([tea], [(second, tea, "move_done")])
    wait(lambda: 7 in pushed_qty(amazon, rig.sku("amazon_de", "TEA")), "the second fast push")
    assert not gated.gate.is_set()  # it did not wait for the outbox read

    gated.gate.set()
    assert rig.engine.wait_idle(5)
    assert rig.store.get_cursor("outbox") == second
    assert pushed_qty(amazon, rig.sku("amazon_de", "TEA")).count(7) == 1
