"""Latency: an idle engine flushes at once on a wake-up (no coalescing wait) and starts the
outbox read from the wake-up itself; wake-ups during a flush batch into the next one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.sync.engine import Engine, EngineDeps, EngineSettings
from connector.state.sqlite import StateStore
from tests.sync.fakes import FakeAdapter, FakeFeed, FakeSource, fake_compute

pytestmark = pytest.mark.timeout(30)

CHANNELS = [("amazon_de", "amazon"), ("bol_nl", "bol")]


class ThreadedFeed(FakeFeed):
    """Remembers which thread read the feed, and can hold a read until released."""

    def __init__(self) -> None:
        super().__init__()
        self.readers: list[str] = []
        self.hold: threading.Event | None = None

    def read(self, after: Any) -> tuple[dict[int, list[int]], Any]:
        self.readers.append(threading.current_thread().name)
        if self.hold is not None:
            assert self.hold.wait(10), "test never released the feed read"
        return super().read(after)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Engine, FakeSource, ThreadedFeed, dict[str, FakeAdapter]]]:
    source = FakeSource(CHANNELS, {"MUG": 5})
    feed = ThreadedFeed()
    adapters = {code: FakeAdapter(code) for code, _ in CHANNELS}
    deps = EngineDeps(source=source, compute=fake_compute, adapter_factory=lambda code, mp: adapters[code],
                      feed=feed, clock=lambda: 1_750_000_000.0)
    # A long coalesce setting and a slow poll: neither may delay a wake-up on an idle engine.
    settings = EngineSettings(poll_interval_s=5.0)
    engine = Engine(deps, settings, StateStore.open(tmp_path / "state.sqlite3"))
    engine.start()
    assert engine.wait_idle(5)
    yield engine, source, feed, adapters
    if feed.hold is not None:
        feed.hold.set()
    engine.stop()


def wait(cond: Callable[[], bool], what: str, timeout: float = 5.0) -> float:
    start = time.monotonic()
    while not cond():
        assert time.monotonic() - start < timeout, f"timed out waiting for {what}"
        time.sleep(0.001)
    return time.monotonic() - start


def test_idle_engine_flushes_at_once_on_a_wake_up(rig: Any) -> None:
    engine, source, feed, adapters = rig
    source.set("MUG", 3)
    event = feed.emit(source.pid("MUG"))
    engine.wake([source.pid("MUG")])
    took = wait(lambda: adapters["bol_nl"].remote.get("bol_nl-MUG") == (3, True), "the push")
    assert took < 0.5, f"{took:.3f}s: the wake-up waited for the 1 s coalesce window"
    wait(lambda: engine.store.get_cursor("outbox") == event, "the cursor")


def test_plain_wake_up_starts_the_outbox_read_itself(rig: Any) -> None:
    engine, source, feed, adapters = rig
    feed.readers.clear()
    source.set("MUG", 2)
    event = feed.emit(source.pid("MUG"))
    engine.wake()  # no product ids: only the outbox says what changed
    wait(lambda: engine.store.get_cursor("outbox") == event, "the cursor")
    assert feed.readers and feed.readers[0].startswith("feed"), feed.readers
    assert adapters["amazon_de"].remote["amazon_de-MUG"] == (2, True)


def test_wake_ups_during_a_flush_batch_into_the_next_one(rig: Any) -> None:
    engine, source, feed, adapters = rig
    feed.hold = threading.Event()
    before = engine.flushes
    pid = source.pid("MUG")
    source.set("MUG", 4)
    feed.emit(pid)
    engine.wake()  # the first flush starts and waits on its outbox read
    wait(lambda: len(feed.readers) > 0, "the first outbox read")
    for qty in (3, 2, 1):  # these arrive while that flush runs (some before its read ends)
        source.set("MUG", qty)
        last = feed.emit(pid)
        engine.wake()
    feed.hold.set()
    wait(lambda: engine.store.get_cursor("outbox") == last, "the cursor to reach the last event")
    assert engine.flushes - before <= 2
    assert adapters["amazon_de"].remote["amazon_de-MUG"] == (1, True)
