"""Engine.metrics() phase timings and the coalescing status write-back."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.sync.dispatch import PhaseTimes
from connector.sync.statusback import StatusPublisher
from tests.sync.fakes import Rig


@dataclass(frozen=True)
class _Status:
    listing_id: int
    qty: int


def test_status_publisher_holds_for_the_window_and_the_latest_value_per_listing_wins() -> None:
    batches: list[list[Any]] = []
    lock = threading.Lock()

    def write(statuses: Sequence[Any]) -> None:
        with lock:
            batches.append(list(statuses))

    publisher = StatusPublisher(write, interval_s=0.3)
    publisher.start()
    try:
        for qty in range(5):
            publisher.publish([_Status(1, qty), _Status(2, 10 + qty)])
        time.sleep(0.1)
        assert batches == []  # still inside the window: nothing written yet
        deadline = time.monotonic() + 3
        while not batches and time.monotonic() < deadline:
            time.sleep(0.01)
        assert batches == [[_Status(1, 4), _Status(2, 14)]]
        publisher.publish([_Status(3, 1)])
        assert publisher.wait_idle(1.0)  # wait_idle writes at once, not after the window
        assert batches[-1] == [_Status(3, 1)] and publisher.writes == 2
    finally:
        publisher.stop()


def test_stop_writes_what_is_still_queued() -> None:
    written: list[Any] = []
    publisher = StatusPublisher(written.extend, interval_s=60)
    publisher.start()
    publisher.publish([_Status(7, 1)])
    publisher.stop()
    assert written == [_Status(7, 1)]


def test_phase_times_percentiles_and_batch_counts() -> None:
    times = PhaseTimes()
    for ms in range(1, 101):
        times.add("snapshot", float(ms))
    times.add("http", 5.0, count=4)
    summary = times.summary()
    assert summary["snapshot"]["p50"] == 50.0 and summary["snapshot"]["p99"] == 99.0
    assert summary["snapshot"]["max"] == 100.0 and summary["http"]["n"] == 4.0


def test_metrics_report_every_phase_of_a_flush(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    try:
        rig.engine.start()
        rig.engine.times.reset()
        rig.source.set("MUG", 3)
        rig.feed.emit(rig.source.pid("MUG"))
        rig.engine.wake()
        assert rig.engine.wait_idle(5)
        metrics = rig.engine.metrics()
        phases = metrics["phases_ms"]
        for name in ("coalesce", "feed_read", "snapshot", "compute", "queue_wait", "rate_limit_wait", "http",
                     "record", "queue_wait:amazon_de"):
            assert name in phases, name
        assert metrics["flushes"] >= 1 and metrics["events_read"] >= 1
    finally:
        rig.engine.stop()
