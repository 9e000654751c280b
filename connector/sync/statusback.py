"""Writes listing sync status back to the ERP in batches, off the push path.

Channel workers hand over statuses after the outcome is durable in the state file; this
thread batches them (newest per listing wins) and writes them with one RPC per batch,
so a slow ERP never slows a marketplace push. A failed write is kept and tried again.

Usage::

    publisher = StatusPublisher(sink.write); publisher.start()
    publisher.publish([status]); publisher.wait_idle(5); publisher.stop()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)


class StatusPublisher:
    """A background batcher in front of `write(statuses)`."""

    def __init__(
        self, write: Callable[[Sequence[Any]], None], batch: int = 200, retry_s: float = 5.0
    ) -> None:
        self._write = write
        self._batch = batch
        self._retry_s = retry_s
        self._queued: dict[int, Any] = {}
        self._busy = False
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.failures = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="status-back", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def publish(self, statuses: Sequence[Any]) -> None:
        with self._cond:
            for status in statuses:
                self._queued[int(status.listing_id)] = status
            self._cond.notify_all()

    def is_idle(self) -> bool:
        with self._cond:
            return not self._queued and not self._busy

    def wait_idle(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not self._queued and not self._busy, timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queued) or self._stopping)
                if self._stopping:
                    return
                ids = list(self._queued)[: self._batch]
                batch = [self._queued.pop(i) for i in ids]
                self._busy = True
            try:
                self._write(batch)
            except Exception as exc:  # the ERP is down: keep the newest status, try later
                self.failures += 1
                log.warning("writing listing status to the ERP failed (%s); will retry", exc)
                with self._cond:
                    for status in batch:
                        self._queued.setdefault(int(status.listing_id), status)
                    self._busy = False
                    self._cond.notify_all()
                    self._cond.wait(self._retry_s)
                continue
            with self._cond:
                self._busy = False
                self._cond.notify_all()
