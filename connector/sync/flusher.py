"""The flusher thread: runs the feed cycle round after round, and knows when all is quiet.

It owns the round counters (`wait_idle` waits for a round that started after it asked),
the count of commands running beside it (resync, retry), the readiness flag (the first
full sync has finished) and the thread itself. Until ready it retries the start-up sync
with a growing delay; then it waits for a wake-up (or the poll interval) and runs one
cycle at once: no coalescing wait, so an idle engine flushes at once, and the wake-ups
that arrive meanwhile make up the next round.

Usage::

    flusher = Flusher(cycle, intake, poll_interval_s=2.0, stopping=stop, startup_sync=sync)
    flusher.start(); flusher.round_quiet(5.0); flusher.join(10)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from connector.sync.feed_cycle import FeedCycle
from connector.sync.intake import TriggerIntake
from connector.sync.report import ResyncReport

log = logging.getLogger("connector.sync.engine")


class Flusher:
    """The flusher thread and its round counters."""

    def __init__(
        self,
        cycle: FeedCycle,
        intake: TriggerIntake,
        *,
        poll_interval_s: float,
        stopping: threading.Event,
        startup_sync: Callable[[], ResyncReport],
    ) -> None:
        self._cycle = cycle
        self._intake = intake
        self._poll_s = poll_interval_s
        self._stop = stopping
        self._startup_sync = startup_sync
        self._cond = threading.Condition()
        self._seq = 0  # rounds started
        self._done = 0  # the newest round finished
        self._last_empty = False  # the newest round found nothing new
        self._busy = 0  # commands running beside the flusher
        self.ready = threading.Event()  # the first full sync has finished
        self.thread: threading.Thread | None = None
        self.woken_flushes = 0  # rounds that found work right after a wake-up (not a poll)

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="flusher", daemon=True)
        self.thread.start()

    @property
    def started(self) -> bool:
        return self.thread is not None

    def join(self, timeout: float) -> None:
        if self.thread is not None:
            self.thread.join(timeout)

    @contextmanager
    def busy(self) -> Iterator[None]:
        """A command (resync, retry) runs: the engine is not idle meanwhile."""
        with self._cond:
            self._busy += 1
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1

    def round_quiet(self, timeout: float) -> bool | None:
        """Wake the flusher and wait for a round that started after this call: None when
        none finished in `timeout`, else whether it found nothing and no command runs."""
        with self._cond:
            start = self._seq
        self._intake.wake.set()
        with self._cond:
            if not self._cond.wait_for(lambda: self._done > start, timeout):
                return None
            return self._last_empty and self._busy == 0

    def _run(self) -> None:
        delay = self._poll_s
        while not self.ready.is_set() and not self._stop.is_set():
            if self._stop.wait(delay):
                return
            report = self._startup_sync()
            delay = min(60.0, delay * 2)
            if report.errors:
                continue
        wake = self._intake.wake
        while not self._stop.is_set():
            woke = wake.wait(self._poll_s)
            if self._stop.is_set():
                return
            wake.clear()
            with self._cond:
                woken = self._intake.take_woken()
                self._seq += 1
                seq = self._seq
            found = True
            try:
                found = self._cycle.run(woken)
                if found and woke and woken is not None:
                    self.woken_flushes += 1
            except Exception as exc:
                if self._stop.is_set():
                    return
                log.error("flush failed (will retry): %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
                self._stop.wait(min(self._poll_s, 1.0))
            with self._cond:
                self._done = seq
                self._last_empty = not found
                self._cond.notify_all()
