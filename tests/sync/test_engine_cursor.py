"""The change-feed cursor (Rule 2) through the engine: it waits for a scheduled value a flush
skipped, for outcomes the writer has not made durable, and the fast path forgets
announcements the feed already delivered."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from connector.stock.model import PushAction
from tests.sync.fakes import Rig, wait
from tests.sync.test_engine_fast_path import GatedFeed

pytestmark = pytest.mark.timeout(30)


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


def test_the_cursor_waits_for_an_outcome_the_writer_has_not_made_durable(rig: Rig) -> None:
    gated = GatedFeed(rig)
    rig.engine.start()
    assert rig.engine.wait_idle(5)
    mug = rig.source.pid("MUG")
    writer: Any = rig.engine.outcomes.writer
    real_write = writer._write
    disk = threading.Event()

    def slow_write(*args: Any, **kwargs: Any) -> None:
        assert disk.wait(20)
        real_write(*args, **kwargs)

    writer._write = slow_write  # a slow disk
    gated.gate.clear()
    rig.source.set("MUG", 3)
    first = rig.feed.emit(mug)
    rig.engine.wake([mug], [(first, mug, "move_done")])
    worker = rig.engine.workers()["amazon_de"]
    wait(lambda: not worker.is_idle() and worker.scheduled(rig.lid("amazon_de", "MUG")) == (3, PushAction.SET),
         "the fast push to be handed over")
    second = rig.feed.emit(mug)  # same stock; its webhook is lost
    gated.gate.set()
    time.sleep(0.3)
    assert rig.store.get_cursor("outbox") != second  # 3 is not in the state file yet
    disk.set()
    assert rig.engine.wait_idle(5)
    assert rig.store.get_cursor("outbox") == second


def test_announcements_the_feed_already_delivered_are_forgotten(rig: Rig) -> None:
    rig.engine.start()
    assert rig.engine.wait_idle(5)
    mug = rig.source.pid("MUG")
    late = []
    for _ in range(20):
        event = rig.feed.emit(mug)
        wait(lambda e=event: rig.store.get_cursor("outbox") == e, "the poll to settle it")  # type: ignore[misc]
        late.append(event)
    for event in late:  # webhooks slower than the poll
        rig.engine.wake([mug], [(event, mug, "move_done")])
        assert rig.engine.wait_idle(5)
    event = rig.feed.emit(mug)
    rig.engine.wake([mug], [(event, mug, "move_done")])
    assert rig.engine.wait_idle(5)
    coverage = rig.engine.feed_cycle.coverage()
    assert coverage.covered == {} and coverage.listings == {}
