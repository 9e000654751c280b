"""Group commit of push outcomes: the worker goes on while the state file is written, the
cursor still waits for the write (Rule 2), and a failed write never lets an older value
overtake a newer one (Rule 3)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from connector.marketplaces.base import PushResult, StockUpdate
from connector.stock.model import PushAction
from connector.sync.dispatch import ChannelWorker, Job
from connector.sync.tickets import CursorTracker
from connector.sync.writer import OutcomeWriter
from tests.sync.fakes import FakeAdapter, wait

pytestmark = pytest.mark.timeout(30)


class SlowStore:
    """record_outcomes that blocks on `gate` and can be told to fail."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.writes: list[list[Any]] = []
        self.fail = 0
        self.entered = threading.Event()

    def record_outcomes(self, outcomes: Sequence[Any], now: float | None = None) -> None:
        self.entered.set()
        assert self.gate.wait(10)
        if self.fail:
            self.fail -= 1
            raise OSError("disk full")
        self.writes.append(list(outcomes))


def test_outcomes_queued_during_a_write_go_together_in_the_next_transaction_in_order() -> None:
    store = SlowStore()
    store.gate.clear()
    writer = OutcomeWriter(store.record_outcomes)
    writer.start()
    answers: list[tuple[str, bool]] = []
    try:
        writer.submit(["a"], 1.0, lambda ok: answers.append(("a", ok)))  # type: ignore[list-item]
        assert store.entered.wait(5)
        for name in "bcd":
            writer.submit([name], 1.0, lambda ok, n=name: answers.append((n, ok)))  # type: ignore[misc, list-item]
        store.gate.set()
        assert writer.wait_idle(5)
    finally:
        writer.stop()
    assert store.writes == [["a"], ["b", "c", "d"]]
    assert answers == [("a", True), ("b", True), ("c", True), ("d", True)]
    assert writer.transactions == 2


def test_a_failed_write_answers_every_group_member_false() -> None:
    store = SlowStore()
    store.fail = 1
    writer = OutcomeWriter(store.record_outcomes)
    writer.start()
    answers: list[bool] = []
    try:
        writer.submit(["a"], 1.0, answers.append)  # type: ignore[list-item]
        assert writer.wait_idle(5)
        writer.submit(["b"], 1.0, answers.append)  # type: ignore[list-item]
        assert writer.wait_idle(5)
    finally:
        writer.stop()
    assert answers == [False, True] and store.writes == [["b"]]


def _job(listing: int, qty: int, tracker: CursorTracker, position: int) -> Job:
    ticket = tracker.open(position)
    job = Job(update=StockUpdate(listing_id=listing, sku=f"L{listing}", quantity=qty, action=PushAction.SET),
              meta=None, tickets=[ticket])
    ticket.add()  # as the engine does when it hands a job over
    ticket.seal()
    return job


class HeldRecorder:
    """A recorder whose durable answers the test gives by hand."""

    def __init__(self) -> None:
        self.waiting: list[tuple[list[int], Callable[[bool], None]]] = []
        self.lock = threading.Lock()

    def __call__(self, _code: str, jobs: Sequence[Job], _results: Sequence[PushResult], _ms: float,
                 done: Callable[[bool], None]) -> None:
        with self.lock:
            self.waiting.append(([j.update.quantity for j in jobs], done))

    def answer(self, index: int, ok: bool) -> None:
        with self.lock:
            _qty, done = self.waiting[index]
        done(ok)


@dataclass
class Held:
    """A channel worker whose recorder answers by hand, and the cursor positions it let go."""

    adapter: FakeAdapter
    recorder: HeldRecorder
    tracker: CursorTracker
    moved: list[int]
    worker: ChannelWorker


@pytest.fixture
def held() -> Iterator[Held]:
    moved: list[int] = []
    adapter, recorder = FakeAdapter("amazon_de"), HeldRecorder()
    worker = ChannelWorker("amazon_de", lambda: adapter, record=recorder)
    worker.start()
    yield Held(adapter, recorder, CursorTracker(moved.append), moved, worker)
    worker.stop()


def test_the_worker_sends_on_while_the_cursor_waits_for_the_write(held: Held) -> None:
    held.worker.submit(_job(1, 5, held.tracker, 1))
    wait(lambda: len(held.recorder.waiting) == 1, "the first push")
    held.worker.submit(_job(2, 7, held.tracker, 2))
    wait(lambda: len(held.recorder.waiting) == 2, "the second push, before the first write")
    assert held.moved == [] and not held.worker.is_idle()
    held.recorder.answer(0, True)
    held.recorder.answer(1, True)
    wait(held.worker.is_idle, "the worker to be idle")
    assert held.moved[-1] == 2


def test_a_failed_write_never_sends_the_older_value_after_a_newer_one(held: Held) -> None:
    held.worker.submit(_job(1, 5, held.tracker, 1))
    wait(lambda: len(held.recorder.waiting) == 1, "the first push")
    held.worker.submit(_job(1, 3, held.tracker, 2))  # the same listing, newer value
    wait(lambda: len(held.recorder.waiting) == 2, "the newer push")
    held.recorder.answer(0, False)  # the state file refused 5's outcome
    assert held.moved == []  # position 1 now waits for the newer value's outcome
    held.recorder.answer(1, True)
    wait(lambda: held.moved[-1:] == [2], "the cursor to reach position 2")
    time.sleep(0.05)
    assert [q for _s, q, _a in held.adapter.pushed()] == [5, 3]  # 5 was not sent again after 3
