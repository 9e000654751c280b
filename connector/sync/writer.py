"""Group commit of push outcomes: one thread writes what every channel's worker hands it.

A worker used to write each batch's outcomes to the state file itself before it could send
its next batch, so every push on a busy channel waited for the previous push's SQLite
transaction too. Now the worker only updates the engine's in-memory view, hands the outcomes
here and goes on; this thread writes everything queued meanwhile in one transaction and
then reports back, and only then are the flush tickets settled (Rule 2: the cursor never
passes an outcome that is not in the state file). Submission order is write order, so a
listing's outcomes land in the order they happened.

Usage::

    writer = OutcomeWriter(store.record_outcomes)
    writer.start()
    writer.submit(outcomes, now, done=lambda ok: ...)   # done(True) once durable
    writer.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from connector.sync.dispatch import PhaseTimes
from connector.state.rows import PushRecord

log = logging.getLogger(__name__)

MAX_GROUP = 2_000  # outcomes per transaction


@dataclass(slots=True)
class _Item:
    outcomes: Sequence[PushRecord]
    now: float
    done: Callable[[bool], None]


class OutcomeWriter:
    """A FIFO of outcome groups written by one thread, many per transaction."""

    def __init__(self, write: Callable[..., None], times: PhaseTimes | None = None) -> None:
        self._write = write  # StateStore.record_outcomes(outcomes, now=...)
        self._times = times or PhaseTimes()
        self._queue: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._busy = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.transactions = 0

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name="outcome-writer", daemon=True)
            self._thread.start()

    def submit(self, outcomes: Sequence[PushRecord], now: float, done: Callable[[bool], None]) -> None:
        """Write `outcomes` soon; `done(ok)` is called on the writer thread afterwards."""
        if not outcomes:
            done(True)
            return
        with self._cond:
            if self._thread is None or self._stopping:
                stopped = True
            else:
                stopped = False
                self._queue.append(_Item(outcomes, now, done))
                self._cond.notify_all()
        if stopped:  # no writer thread (stopped engine, one-shot use): write here, after
            # anything still queued, so a listing's outcomes keep their order
            with self._cond:
                group = list(self._queue) + [_Item(outcomes, now, done)]
                self._queue.clear()
            self._run(group)

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued (bounded by `timeout`), then end the thread."""
        self.wait_idle(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    return
                group: list[_Item] = []
                size = 0
                while self._queue and (not group or size + len(self._queue[0].outcomes) <= MAX_GROUP):
                    item = self._queue.popleft()
                    group.append(item)
                    size += len(item.outcomes)
                self._busy = True
            try:
                self._run(group)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _run(self, group: list[_Item]) -> None:
        with self._write_lock:  # the thread and an inline write never interleave
            self._run_locked(group)

    def _run_locked(self, group: list[_Item]) -> None:
        started = time.monotonic()
        ok = True
        try:
            self._write([o for item in group for o in item.outcomes], now=group[-1].now)
            self.transactions += 1
        except Exception:  # disk full, locked: the workers queue the pushes again and back off
            log.exception("writing %d push outcome(s) to the state file failed; they are pushed again",
                          sum(len(item.outcomes) for item in group))
            ok = False
        self._times.add("record", (time.monotonic() - started) * 1000)
        for item in group:
            try:
                item.done(ok)
            except Exception:  # a callback bug must not stop the writer
                log.exception("outcome callback failed")
