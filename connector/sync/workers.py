"""The channel workers, one per channel, started on first use (connector.sync.dispatch).

Usage::

    workers = ChannelWorkers(adapter_factory, record=..., expected=..., times=..., tracer=..., stopping=...)
    workers.ensure("amazon_de", "amazon").submit(job)
    workers.scheduled("amazon_de", 12)     # (qty, action) on its way, or None
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from connector.stock.model import PushAction
from connector.sync.dispatch import ChannelWorker, PhaseTimes, Recorder
from connector.sync.ports import AdapterFactory
from connector.sync.tracing import PushTracer


class ChannelWorkers:
    """channel code -> its worker."""

    def __init__(
        self,
        factory: AdapterFactory,
        *,
        record: Recorder,
        expected: Callable[[int], int | None],
        times: PhaseTimes,
        tracer: Callable[[], PushTracer | None],
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self._factory = factory
        self._record = record
        self._expected = expected
        self._times = times
        self._tracer = tracer
        self._lock = threading.Lock()
        self._workers: dict[str, ChannelWorker] = {}
        self._stopping = stopping  # the engine is stopping: new workers stay unstarted

    def get(self, channel_code: str) -> ChannelWorker | None:
        with self._lock:
            return self._workers.get(channel_code)

    def ensure(self, channel_code: str, marketplace: str) -> ChannelWorker:
        """The channel's worker, created (and started, unless stopping) on first use."""
        with self._lock:
            worker = self._workers.get(channel_code)
            if worker is None:
                factory = self._factory
                worker = ChannelWorker(
                    channel_code,
                    lambda: factory(channel_code, marketplace),
                    record=self._record,
                    expected=self._expected,
                    times=self._times,
                    tracer=self._tracer,
                )
                if not self._stopping():  # a flush finishing during stop() starts no pushes
                    worker.start()
                self._workers[channel_code] = worker
            return worker

    def scheduled(self, channel_code: str, listing_id: int) -> tuple[int, PushAction] | None:
        """The value a channel's worker holds for a listing (queued, in flight, recording)."""
        worker = self.get(channel_code)
        return worker.scheduled(listing_id) if worker else None

    def all(self) -> dict[str, ChannelWorker]:
        with self._lock:
            return dict(self._workers)

    def idle(self) -> bool:
        with self._lock:
            return all(w.is_idle() for w in self._workers.values())

    def stop(self, timeout_s: float) -> None:
        """Stop every worker, all at once: ten slow channels must not take ten timeouts."""
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.signal_stop()
        deadline = time.monotonic() + timeout_s
        for worker in workers:
            worker.stop(max(0.0, deadline - time.monotonic()))
