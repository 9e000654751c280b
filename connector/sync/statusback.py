"""Writes listing sync status back to the ERP in batches, off the push path.

Channel workers hand over statuses after the outcome is durable in the state file (the
state file, not the ERP, is Rule 2's durable record). This thread holds them for up to
`interval_s` (newest per listing wins), then writes the whole batch at once, so a burst
of pushes costs a few status RPCs instead of one per flush, and a slow ERP never slows a
marketplace push. With `build`, statuses are made at write time with one common time
(the newest outcome's), so listings with equal state and quantity share one `write`.
A failed write is kept and tried again; `wait_idle` writes what is queued right away.

Usage::

    publisher = StatusPublisher(sink.write, interval_s=1.0); publisher.start()
    publisher.publish([status]); publisher.wait_idle(5); publisher.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)


class StatusPublisher:
    """A background, coalescing batcher in front of `write(statuses)`.

    `publish` takes items with a `listing_id`; `build(items)` (optional) turns a batch of
    them into what `write` takes.
    """

    def __init__(
        self,
        write: Callable[[Sequence[Any]], Any],
        batch: int = 1000,
        retry_s: float = 5.0,
        interval_s: float = 1.0,
        build: Callable[[Sequence[Any]], Sequence[Any]] | None = None,
    ) -> None:
        self._write = write
        self._batch = batch
        self._retry_s = retry_s
        self._interval_s = interval_s
        self._build = build
        self._queued: dict[int, Any] = {}
        self._first_at: float | None = None  # monotonic time the oldest queued item arrived
        self._urgent = 0  # callers in wait_idle: write now, do not wait for the window
        self._busy = False
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.writes = 0  # batches handed to `write`
        self.published = 0  # statuses handed to `publish`

    def start(self) -> None:
        """Start the writer thread (a second call does nothing)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="status-back", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued (bounded by `timeout`), then stop the thread."""
        with self._cond:
            self._urgent += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: not self._queued and not self._busy, min(timeout, 2.0))
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def publish(self, statuses: Sequence[Any]) -> None:
        with self._cond:
            for status in statuses:
                self._queued[int(status.listing_id)] = status
            self.published += len(statuses)
            if self._queued and self._first_at is None:
                self._first_at = time.monotonic()
            self._cond.notify_all()

    def is_idle(self) -> bool:
        with self._cond:
            return not self._queued and not self._busy

    def wait_idle(self, timeout: float) -> bool:
        """Write what is queued now and wait (bounded) until it is written."""
        with self._cond:
            self._urgent += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(lambda: not self._queued and not self._busy, timeout)
            finally:
                self._urgent -= 1

    def _due_in(self) -> float | None:
        """Seconds until the queued batch is due (0: now), None when nothing is queued."""
        if not self._queued:
            return None
        if self._urgent or self._stopping or len(self._queued) >= self._batch or self._first_at is None:
            return 0.0
        return max(0.0, self._first_at + self._interval_s - time.monotonic())

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    due = self._due_in()
                    if due == 0.0:
                        break
                    self._cond.wait(due)
                if self._stopping and not self._queued:
                    return
                ids = list(self._queued)[: self._batch]
                batch = [self._queued.pop(i) for i in ids]
                self._first_at = time.monotonic() if self._queued else None
                self._busy = True
            try:
                self._write(self._build(batch) if self._build else batch)
                self.writes += 1
            except Exception as exc:  # the ERP is down: keep the newest status, try later
                self.failures += 1
                log.warning("writing listing status to the ERP failed (%s); will retry", exc)
                with self._cond:
                    for status in batch:
                        self._queued.setdefault(int(status.listing_id), status)
                    if self._first_at is None:
                        self._first_at = time.monotonic()
                    self._busy = False
                    self._cond.notify_all()
                    if self._stopping:
                        return
                    self._cond.wait(self._retry_s)
                continue
            with self._cond:
                self._busy = False
                self._cond.notify_all()
