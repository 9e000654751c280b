"""A manual clock for adapter tests and benchmarks (adapters take `now`/`sleep` callables)."""

from __future__ import annotations

import threading


class ManualClock:
    """A clock for tests and benchmarks: sleeping advances time instantly, and is recorded."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.sleep(seconds)
