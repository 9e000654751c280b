"""stop(): it does not wait out a hung outbox read nor push afterwards, and waits for hung
channels together."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests.sync.fakes import Rig, wait
from tests.sync.test_engine_fast_path import GatedFeed

pytestmark = pytest.mark.timeout(30)


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
