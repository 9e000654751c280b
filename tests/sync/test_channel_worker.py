"""The channel worker alone (Rule 3 and 4): one value per listing, the newest wins, tickets
wait for a durable outcome, and a failed record queues the batch again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest

from connector.marketplaces.base import PushResult, StockUpdate
from connector.state.rows import ListingMeta
from connector.stock.model import PushAction
from connector.sync.dispatch import ChannelWorker, Job
from connector.sync.tickets import Ticket
from tests.sync.fakes import FakeAdapter, wait

pytestmark = pytest.mark.timeout(30)


def job(listing_id: int, qty: int, action: PushAction = PushAction.SET, ticket: Ticket | None = None) -> Job:
    meta = ListingMeta(listing_id, "amazon_de", "amazon", 100 + listing_id, f"SKU-{listing_id}", f"C-{listing_id}")
    return Job(update=StockUpdate(listing_id, f"C-{listing_id}", qty, action=action), meta=meta,
               tickets=[ticket] if ticket else [])


class Recorder:
    """Records like the engine: outcomes durable at once, or refused `fail` times first."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.batches: list[list[tuple[int, int]]] = []
        self.lock = threading.Lock()

    def __call__(self, code: str, jobs: Sequence[Job], results: Sequence[PushResult], duration_ms: float,
                 done: Callable[[bool], None]) -> None:
        with self.lock:
            if self.fail:
                self.fail -= 1
                done(False)
                return
            self.batches.append([(j.listing_id, j.update.quantity) for j in jobs])
        done(True)


@pytest.fixture
def adapter() -> FakeAdapter:
    return FakeAdapter("amazon_de")


def start(adapter: FakeAdapter, record: Recorder) -> ChannelWorker:
    worker = ChannelWorker("amazon_de", lambda: adapter, record=record)
    worker.start()
    return worker


def test_a_newer_value_replaces_a_queued_one_and_inherits_its_ticket(adapter: FakeAdapter) -> None:
    adapter.gate = threading.Event()
    record = Recorder()
    worker = start(adapter, record)
    try:
        worker.submit(job(1, 5))
        wait(adapter.started.is_set, "the first push in flight")
        older, newer = Ticket(), Ticket()
        older.add()
        worker.submit(job(2, 7, ticket=older))
        newer.add()
        worker.submit(job(2, 3, ticket=newer))
        assert worker.replaced == 1 and worker.scheduled(2) == (3, PushAction.SET)
        older.seal()
        newer.seal()
        adapter.gate.set()
        assert older.wait(5) and newer.wait(5)  # both flushes wait for the one newest push
        wait(worker.is_idle, "the worker to drain")
        pushed = [(u.listing_id, u.quantity) for call in adapter.calls for u in call]
        assert pushed == [(1, 5), (2, 3)]  # 7 was never sent
    finally:
        worker.stop()


def test_a_set_replacing_a_reactivation_still_switches_the_listing_on(adapter: FakeAdapter) -> None:
    adapter.gate = threading.Event()
    worker = start(adapter, Recorder())
    try:
        worker.submit(job(1, 1))
        wait(adapter.started.is_set, "a push in flight")
        worker.submit(job(2, 4, PushAction.REACTIVATE))
        worker.submit(job(2, 6, PushAction.SET))
        assert worker.scheduled(2) == (6, PushAction.REACTIVATE)
        adapter.gate.set()
        wait(worker.is_idle, "the worker to drain")
    finally:
        worker.stop()


def test_attach_waits_only_for_the_value_it_names(adapter: FakeAdapter) -> None:
    adapter.gate = threading.Event()
    worker = start(adapter, Recorder())
    try:
        worker.submit(job(1, 5))
        wait(adapter.started.is_set, "a push in flight")
        wrong, right = Ticket(), Ticket()
        assert not worker.attach(1, wrong, (4, PushAction.SET))
        assert worker.attach(1, right, (5, PushAction.SET))
        assert not worker.attach(99, right)  # nothing scheduled for it
        right.seal()
        assert not right.done
        adapter.gate.set()
        assert right.wait(5)
    finally:
        worker.stop()


def test_a_batch_whose_outcomes_were_not_recorded_is_pushed_again(adapter: FakeAdapter) -> None:
    record = Recorder(fail=2)
    worker = start(adapter, record)
    try:
        ticket = Ticket()
        ticket.add()
        worker.submit(job(1, 5, ticket=ticket))
        ticket.seal()
        assert ticket.wait(10)  # only once an outcome is durable
        assert record.batches == [[(1, 5)]] and len(adapter.calls) == 3
    finally:
        worker.stop()


def test_an_adapter_that_cannot_be_built_fails_each_listing(adapter: FakeAdapter) -> None:
    results: list[PushResult] = []

    def record(code: str, jobs: Sequence[Job], res: Sequence[PushResult], ms: float,
               done: Callable[[bool], None]) -> None:
        results.extend(res)
        done(True)

    def broken() -> FakeAdapter:
        raise ValueError("missing key client_id")

    worker = ChannelWorker("amazon_de", broken, record=record)
    worker.start()
    try:
        worker.submit(job(1, 5))
        wait(lambda: len(results) == 1, "a result")
        assert results[0].category is not None and "missing key client_id" in results[0].message
        assert worker.adapter() is None
    finally:
        worker.stop()
