"""Child process for the crash test: runs the engine on fakes; etsy's push never returns."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from connector.sync.engine import Engine, EngineDeps, EngineSettings
from connector.state.sqlite import StateStore
from tests.sync.fakes import FakeAdapter, FakeFeed, FakeSource, fake_compute
from tests.sync.fakes import CHANNELS


def main(path: str) -> None:
    source = FakeSource(CHANNELS, {"MUG": 5, "LAMP": 1, "TEA": 10})
    feed = FakeFeed()
    adapters = {code: FakeAdapter(code) for code, _ in CHANNELS}
    store = StateStore.open(Path(path))
    engine = Engine(
        EngineDeps(source=source, compute=fake_compute, adapter_factory=lambda c, m: adapters[c], feed=feed),
        EngineSettings(poll_interval_s=0.05),
        store,
    )
    engine.start()
    assert engine.wait_idle(10)
    adapters["etsy_shop"].gate = threading.Event()  # never released: killed mid-push
    source.set("MUG", 2)
    feed.emit(source.pid("MUG"))
    engine.wake()
    print("ready", flush=True)
    time.sleep(60)


if __name__ == "__main__":
    main(sys.argv[1])
