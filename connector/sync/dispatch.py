"""One worker thread per channel: the "locker" that keeps Rule 3 and Rule 4.

A channel's worker owns its listings' pushes: it holds at most one wanted value per
listing (a newer one replaces a queued older one), pushes them in batches through the
channel's adapter, one batch at a time (so one push per listing in flight and never an
older value after a newer one), and hands every result to `record`; the flush tickets go
only once `record` reports the outcomes durable, while the worker already sends its next
batch (when recording fails, the batch is queued again with its tickets and the worker
backs off, so the cursor never passes an unrecorded outcome). Channels never
share a worker, so a slow API delays only itself.

Usage::

    worker = ChannelWorker("amazon_de", lambda: build_adapter(...), record=engine.record)
    worker.start(); worker.submit(job); ...; worker.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from connector.marketplaces.base import FailureCategory, PushResult, StockUpdate
from connector.marketplaces.base import Outcome as PushOutcome
from connector.marketplaces.http import AuthFailed, RetryLater
from connector.state.rows import ListingMeta
from connector.stock.model import PushAction
from connector.sync.plan import BACK_IN_STOCK
from connector.sync.ports import AdapterLike
from connector.sync.tickets import Ticket
from connector.sync.tracing import PushTrace, PushTracer, Span

log = logging.getLogger(__name__)

MAX_TAKE = 500  # listings per worker round; the adapter splits them to its batch limit
# After the state file refused a batch's outcomes: first wait, doubled per failure in a row.
RECORD_BACKOFF_S = 0.05
RECORD_BACKOFF_MAX_S = 5.0


class PhaseTimes:
    """Where the bridge's time goes: bounded samples (ms) per named phase, thread-safe.

    Light enough for the hot path (one monotonic pair and a deque append per sample); the
    benchmark and `metrics()` read percentiles. Usage::

        times = PhaseTimes(); times.add("snapshot", 3.2); times.summary()["snapshot"]["p50"]
    """

    def __init__(self, keep: int = 50_000) -> None:
        self._keep = keep
        self._samples: dict[str, deque[float]] = {}
        self._totals: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def add(self, phase: str, ms: float, count: int = 1) -> None:
        """Record `count` samples of `ms` (a batch's wait counts once per listing in it)."""
        with self._lock:
            samples = self._samples.get(phase)
            if samples is None:
                samples = self._samples[phase] = deque(maxlen=self._keep)
            samples.extend([ms] * max(1, count))
            n, total = self._totals.get(phase, (0, 0.0))
            self._totals[phase] = (n + max(1, count), total + ms * max(1, count))

    def reset(self) -> None:
        with self._lock:
            self._samples.clear()
            self._totals.clear()

    def summary(self) -> dict[str, dict[str, float]]:
        """phase -> {n, mean, p50, p99, max} in ms, over the kept samples."""
        with self._lock:
            data = {k: sorted(v) for k, v in self._samples.items()}
            totals = dict(self._totals)
        out: dict[str, dict[str, float]] = {}
        for phase, values in data.items():
            if not values:
                continue
            n, total = totals[phase]
            out[phase] = {
                "n": float(n),
                "mean": total / n,
                "p50": values[(len(values) - 1) // 2],
                "p99": values[min(len(values) - 1, round(0.99 * (len(values) - 1)))],
                "max": values[-1],
            }
        return out


@dataclass(slots=True)
class Job:
    """One wanted value for one listing, and the flushes waiting for its outcome."""

    update: StockUpdate
    meta: ListingMeta
    trigger: str = ""
    events: list[int] = field(default_factory=list)
    # built when written (connector.state.rows.PushRecord.explanation), not on the flush's path
    explanation: dict[str, Any] | Callable[[], dict[str, Any] | None] | None = None
    tickets: list[Ticket] = field(default_factory=list)
    queued_at: float = field(default_factory=time.monotonic)
    created_at: float = field(default_factory=time.time)  # wall clock; a replacing job keeps the older's
    # wall clock of the ERP wake-up this value answers (None: a poll or a resync decided it);
    # the measured delay runs from here (or created_at) to the marketplace's acceptance
    origin_at: float | None = None
    erp_spans: tuple[Span, ...] = ()  # wall-clock ERP reads behind this value (traces)

    @property
    def listing_id(self) -> int:
        return self.update.listing_id

    @property
    def wanted(self) -> tuple[int, PushAction]:
        return self.update.quantity, self.update.action


def _keep_back_in_stock(older: Job, newer: Job) -> None:
    """A newer SET taking the place of a back-in-stock push that has not succeeded keeps
    switching the listing back on (or the listing would stay off with a quantity on it)."""
    if older.update.action in BACK_IN_STOCK and newer.update.action is PushAction.SET:
        newer.update = replace(newer.update, action=older.update.action)


# record(channel, jobs, results, duration_ms, done): take the outcomes (on the worker thread)
# and call done(True) once they are durable, done(False) if writing them failed (maybe on
# another thread, maybe before returning); raising counts as done(False).
Recorder = Callable[[str, Sequence[Job], Sequence[PushResult], float, Callable[[bool], None]], None]


class ChannelWorker:
    """Pushes one channel's wanted values, latest first-class, one batch in flight."""

    def __init__(
        self,
        channel_code: str,
        make_adapter: Callable[[], AdapterLike],
        record: Recorder,
        expected: Callable[[int], int | None] = lambda _lid: None,
        times: PhaseTimes | None = None,
        tracer: Callable[[], PushTracer | None] = lambda: None,
    ) -> None:
        self.channel_code = channel_code
        self._make_adapter = make_adapter
        self._adapter: AdapterLike | None = None
        self._adapter_error: str | None = None
        self._record = record
        self._expected = expected
        self._tracer = tracer
        self._pending: dict[int, Job] = {}
        self._inflight: dict[int, Job] = {}
        self._recording: dict[int, list[Job]] = {}  # pushed, outcome not yet durable
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.pushed = 0  # listings handed to the adapter (for benchmarks and status)
        self.replaced = 0  # queued values replaced by a newer one before being sent
        self.times = times or PhaseTimes()
        self._record_failures = 0  # failed records in a row (sets the back-off)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._loop, name=f"push-{self.channel_code}", daemon=True
        )
        self._thread.start()

    def signal_stop(self) -> None:
        """Ask the worker to stop after its current batch (stop() then waits for it)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        self.signal_stop()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._adapter is not None:
            try:
                self._adapter.close()
            except Exception:  # closing must never stop a shutdown
                log.debug("closing adapter %s failed", self.channel_code, exc_info=True)

    # -- the engine's side -----------------------------------------------------------------

    def submit(self, job: Job) -> None:
        """Queue a wanted value; a queued older value of the same listing is replaced."""
        with self._cond:
            older = self._pending.get(job.listing_id)
            if older is not None:
                # The older flush's obligation passes to the newer value (read later).
                _keep_back_in_stock(older, job)
                job.tickets = older.tickets + job.tickets
                job.events = (older.events + job.events)[-50:]
                job.queued_at = older.queued_at
                job.created_at = older.created_at  # the listing has been waiting since then
                if older.origin_at is not None:
                    job.origin_at = min(job.origin_at or older.origin_at, older.origin_at)
                self.replaced += 1
            self._pending[job.listing_id] = job
            self._cond.notify_all()

    def scheduled(self, listing_id: int) -> tuple[int, PushAction] | None:
        """The newest value queued, in flight or not yet durable for a listing, if any: a
        flush that finds it unchanged must still attach its ticket to it (Rule 2)."""
        with self._cond:
            job = self._latest(listing_id)
            return job.wanted if job else None

    def attach(self, listing_id: int, ticket: Ticket, wanted: tuple[int, PushAction] | None = None) -> bool:
        """Make `ticket` wait for the newest job of `listing_id` (queued, in flight or being
        recorded), or only when it carries `wanted` if given: a flush that skips a listing
        because its value is already on its way must not let the cursor pass before that
        value's outcome is durable (Rule 2). False when no such job is left (its outcome is
        already in the state file)."""
        with self._cond:
            job = self._latest(listing_id)
            if job is None or (wanted is not None and job.wanted != wanted):
                return False
            ticket.add()
            job.tickets.append(ticket)
            return True

    def _latest(self, listing_id: int) -> Job | None:
        """The newest job of a listing: queued, else in flight, else being recorded."""
        job = self._pending.get(listing_id) or self._inflight.get(listing_id)
        if job is None and self._recording.get(listing_id):
            job = self._recording[listing_id][-1]
        return job

    def is_idle(self) -> bool:
        with self._cond:
            return not self._pending and not self._inflight and not self._recording

    def backlog(self) -> int:
        with self._cond:
            return len(self._pending) + len(self._inflight) + len(self._recording)

    def adapter(self) -> AdapterLike | None:
        """The channel's adapter (built on first use), or None when it cannot be built."""
        if self._adapter is None and self._adapter_error is None:
            try:
                self._adapter = self._make_adapter()
            except Exception as exc:  # a missing key or unknown marketplace: a config problem
                self._adapter_error = str(exc)
                log.error("channel %s cannot push: %s", self.channel_code, exc)
        return self._adapter

    def _throttled_s(self) -> float:
        """Seconds the adapter's token bucket has slept so far (the marketplace-imposed wait,
        told apart from the bridge's own time); 0 for an adapter without one."""
        bucket = getattr(getattr(self._adapter, "session", None), "bucket", None)
        return float(getattr(bucket, "waited_s", 0.0))

    # -- the worker thread -----------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                ids = list(self._pending)[:MAX_TAKE]
                batch = [self._pending.pop(i) for i in ids]
                self._inflight = {j.listing_id: j for j in batch}
            taken = time.monotonic()
            for job in batch:
                waited = (taken - job.queued_at) * 1000
                self.times.add("queue_wait", waited)
                self.times.add(f"queue_wait:{self.channel_code}", waited)
            handed = False
            try:
                handed = self._push(batch)
            except Exception:  # the recorder failed (disk full?): keep the worker alive
                log.exception("channel %s: recording outcomes failed; the batch is queued again", self.channel_code)
            finally:
                with self._cond:
                    self._inflight = {}
                    if not handed:  # jobs still being recorded are older: not "newer" here
                        self._requeue(batch, newer_in_recording=False)
                        self._record_failures += 1
                    self._cond.notify_all()
            with self._cond:
                failing = self._record_failures > 0
            if failing:
                self._back_off()

    def _durable(self, batch: list[Job], ok: bool) -> None:
        """The recorder's answer for `batch`: settle its tickets, or queue it again."""
        with self._cond:
            # Tickets are collected under the lock that `attach` takes, so a ticket attached
            # to a job being recorded is either seen here or finds no job.
            self._forget_recording(batch)
            if ok:
                tickets = [t for job in batch for t in job.tickets]
                self._record_failures = 0
            else:
                tickets = []
                self._requeue(batch)
                self._record_failures += 1
            self._cond.notify_all()
        for ticket in tickets:
            ticket.settle()

    def _forget_recording(self, batch: list[Job]) -> None:
        """Take `batch`'s jobs out of the being-recorded set. Caller holds `_cond`."""
        for job in batch:
            jobs = self._recording.get(job.listing_id)
            if jobs is None:
                continue
            jobs[:] = [j for j in jobs if j is not job]
            if not jobs:
                del self._recording[job.listing_id]

    def _requeue(self, batch: list[Job], newer_in_recording: bool = True) -> None:
        """Put a batch whose outcomes could not be recorded back in the queue, tickets and
        all, so the cursor waits for them (Rule 2) and moves once the state file works
        again. A newer value of the same listing (queued, in flight or being recorded: the
        worker does not wait for the state file) keeps its place (Rule 3) and takes over the
        older job's tickets, as `submit` does. Caller holds `_cond`."""
        for job in batch:
            lid = job.listing_id
            newer = self._pending.get(lid) or self._inflight.get(lid)
            if newer is None and newer_in_recording and self._recording.get(lid):
                newer = self._recording[lid][-1]
            if newer is None or newer is job:
                self._pending[lid] = job
                continue
            if self._pending.get(lid) is newer:
                _keep_back_in_stock(job, newer)
                newer.queued_at = min(newer.queued_at, job.queued_at)
            newer.tickets = job.tickets + newer.tickets
            newer.events = (job.events + newer.events)[-50:]

    def _back_off(self) -> None:
        """Wait before retrying after a failed record (doubling up to RECORD_BACKOFF_MAX_S),
        so a broken state file is not hammered; `stop` cuts the wait short."""
        delay = min(RECORD_BACKOFF_MAX_S, RECORD_BACKOFF_S * 2 ** (self._record_failures - 1))
        deadline = time.monotonic() + delay
        with self._cond:
            while not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(remaining)

    def _push(self, batch: list[Job]) -> bool:
        """Send `batch` and hand the results to the recorder; True once handed over."""
        updates = [replace(j.update, expected_quantity=self._expected(j.listing_id)) for j in batch]
        throttled = self._throttled_s()
        started_at = time.time()
        started = time.monotonic()
        results = self._send(updates)
        sent = time.monotonic()
        duration_ms = (sent - started) * 1000
        waited_ms = min(duration_ms, (self._throttled_s() - throttled) * 1000)
        for suffix in ("", f":{self.channel_code}"):
            self.times.add("rate_limit_wait" + suffix, waited_ms, len(batch))
            self.times.add("http" + suffix, duration_ms - waited_ms, len(batch))
        tracer = self._tracer()
        if tracer is not None:
            tracer.waited(f"market:{self.channel_code}", started_at, started_at + duration_ms / 1000)
            tracer.pushed(PushTrace(self.channel_code, j.listing_id, j.update.sku, j.update.quantity,
                                    started_at, waited_ms, j.erp_spans, j.created_at) for j in batch)
        self.pushed += len(batch)
        with self._cond:
            for job, res in zip(batch, results):
                newer = self._pending.get(job.listing_id)
                if newer is not None and res.outcome is not PushOutcome.OK:
                    _keep_back_in_stock(job, newer)  # the listing is still switched off
                self._recording.setdefault(job.listing_id, []).append(job)
        try:
            self._record(self.channel_code, batch, results, duration_ms,
                         lambda ok: self._durable(batch, ok))
        except BaseException:
            with self._cond:
                self._forget_recording(batch)
            raise
        self.times.add("hand_to_writer", (time.monotonic() - sent) * 1000)
        return True

    def _send(self, updates: list[StockUpdate]) -> list[PushResult]:
        adapter = self.adapter()
        if adapter is None:
            message = f"channel not configured: {self._adapter_error}"
            return [PushResult.failed(u, FailureCategory.AUTH, message) for u in updates]
        try:
            results = adapter.push(updates)
        except RetryLater as exc:
            return [PushResult.retry(u, str(exc), exc.retry_at) for u in updates]
        except AuthFailed as exc:
            return [PushResult.failed(u, FailureCategory.AUTH, str(exc)) for u in updates]
        except Exception as exc:  # an adapter bug must not lose the values: retry later
            log.exception("channel %s: adapter raised", self.channel_code)
            message = f"{type(exc).__name__}: {exc}"
            return [PushResult(u.listing_id, PushOutcome.RETRY, message=message) for u in updates]
        by_id = {r.listing_id: r for r in results}
        return [
            by_id.get(u.listing_id)
            or PushResult.failed(u, FailureCategory.OTHER, "adapter returned no result")
            for u in updates
        ]
