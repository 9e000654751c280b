"""Regressions found by the review of the fast path and the group-commit writer: a failed
reactivation is retried as a reactivation, the cursor waits for outcomes still being written,
announcements the feed already delivered are forgotten, and stop() does not hang on a slow
outbox read or start pushes afterwards."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from connector.marketplaces.base import PushResult
from connector.stock.model import PushAction
from tests.sync.fakes import Rig, wait
from tests.sync.test_engine_fast_path import GatedFeed

pytestmark = pytest.mark.timeout(30)


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


def test_stop_does_not_wait_out_a_hung_outbox_read_nor_push_afterwards(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    gated = GatedFeed(rig)
    rig.engine.start()
    assert rig.engine.wait_idle(5)
    mug = rig.source.pid("MUG")
    gated.gate.clear()
    first = rig.feed.emit(mug)
    rig.engine.wake([mug], [(first, mug, "move_done")])
    wait(lambda: gated.waiting.is_set() and rig.engine.fast_reads >= 1, "the fast read beside a hung outbox read")
    started = time.monotonic()
    rig.engine.stop()
    took = time.monotonic() - started
    reads = len(rig.source.snapshots)
    flusher = rig.engine.flusher.thread
    rig.source.set("MUG", 2)
    second = rig.feed.emit(mug)
    rig.engine.wake([mug], [(second, mug, "move_done")])
    time.sleep(0.3)
    try:
        assert took < 5, f"stop() took {took:.1f}s"
        assert flusher is not None and not flusher.is_alive()
        assert len(rig.source.snapshots) == reads  # no ERP reads after stop
    finally:
        gated.gate.set()


def test_stop_waits_for_hung_channels_together_not_one_after_another(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.settings = replace(rig.settings, stop_timeout_s=0.5)
    rig.engine = rig.new_engine()
    rig.engine.start()
    assert rig.engine.wait_idle(5)
    for adapter in rig.adapters.values():  # every marketplace hangs on its next push
        adapter.gate = threading.Event()
        adapter.started = threading.Event()
    rig.source.set("MUG", 2)
    rig.engine.wake([rig.source.pid("MUG")])
    for adapter in rig.adapters.values():
        assert adapter.started.wait(5)
    started = time.monotonic()
    rig.engine.stop()
    took = time.monotonic() - started
    for adapter in rig.adapters.values():
        assert adapter.gate is not None
        adapter.gate.set()
    assert took < 1.4, f"stop() took {took:.1f}s for {len(rig.adapters)} hung channels"
