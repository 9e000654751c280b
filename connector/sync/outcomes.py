"""The outcome recorder: push results -> durable outcomes, with the retry policy (Rule 6).

On the channel's worker thread it classifies each result (ok, retry with a due time, gave
up, failed or locked), updates the listing ledger at once (the next flush diffs against
it), hands the outcomes to the group-commit writer (the state file), and once they are
durable tells the worker (tickets, so the cursor may move: Rule 2), the listeners (the
live table, the demo) and the status write-back to the ERP.

Usage::

    recorder = OutcomeRecorder(ledger, store, times, clock, RetryPolicy(), publisher, factory)
    recorder.start(); worker = ChannelWorker(..., record=recorder.record); recorder.stop()
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from connector.marketplaces.base import FailureCategory, PushResult
from connector.marketplaces.base import Outcome as PushOutcome
from connector.state.rows import PushRecord
from connector.state.store import Store
from connector.stock.model import SyncState
from connector.sync.delay_recorder import DelayRecorder
from connector.sync.dispatch import Job, PhaseTimes
from connector.sync.ledger import GAVE_UP, Known, ListingLedger
from connector.sync.plan import ZERO_ACTIONS
from connector.sync.ports import StatusFactory
from connector.sync.statusback import StatusPublisher
from connector.sync.writer import OutcomeWriter

log = logging.getLogger("connector.sync.engine")


class Result(StrEnum):
    """What one push came to (the journal's `result`)."""

    OK = "ok"
    RETRY = "retry"  # parked in the retry queue
    FAILED = "failed"  # error or locked, not retried (Rule 6)
    GAVE_UP = "gave_up"  # transient failures ran out


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a transient failure is tried again, and when it stops."""

    max_attempts: int = 12  # transient failures in a row before a listing goes to error
    base_s: float = 5.0
    max_s: float = 900.0

    def backoff(self, attempts: int) -> float:
        return float(min(self.max_s, self.base_s * 2 ** max(0, attempts - 1)))

    def due(self, now: float, res: PushResult, attempts: int, deferred: bool) -> float:
        """When a retry goes: never before the marketplace's own `retry_at`, and for plain
        failures never before the backoff either (an adapter's default 30 s would otherwise
        spend all attempts of a 5-minute outage in minutes). A deferred hold or a
        compare-and-set answer (the marketplace's value is known) goes at `retry_at`:
        nothing is wrong, the next push just needs a fresh ERP read."""
        floor = now + 1.0
        if deferred or res.applied_quantity is not None:
            return max(res.retry_at or floor, floor)
        return max(res.retry_at or 0.0, now + self.backoff(attempts), floor)


@dataclass(frozen=True, slots=True)
class Classified:
    """One push result as an outcome, and what the ledger keeps of it."""

    record: PushRecord
    attempts: int  # transient failures in a row after this one
    remote_qty: int | None  # what the marketplace said it holds (compare-and-set), if it did


def classify(
    job: Job, res: PushResult, known: Known | None, now: float, policy: RetryPolicy, duration_ms: float = 0.0
) -> Classified:
    """A push result as a durable outcome (pure)."""
    qty, action = job.wanted
    attempts = 0
    due: float | None = None
    deferred = False
    category: str | None = None
    accepted = False
    remote: int | None = None
    message = res.message
    if res.outcome is PushOutcome.OK:
        state = SyncState.DEACTIVATED if action in ZERO_ACTIONS else SyncState.SYNCED
        result = Result.OK
        accepted = True
    elif res.outcome is PushOutcome.RETRY:
        # A deferred hold (eBay's per-listing revision budget) is not a failure: it waits
        # for its slot and never counts toward giving up.
        deferred = res.deferred
        attempts = (known.attempts if known else 0) + (0 if deferred else 1)
        remote = res.applied_quantity
        if not deferred and attempts >= policy.max_attempts:
            state, result = SyncState.ERROR, Result.GAVE_UP
            message = f"gave up after {attempts} attempts: {message}"
            category = GAVE_UP
            attempts = 0
        else:
            state, result = SyncState.PENDING, Result.RETRY
            due = policy.due(now, res, attempts, deferred)
    else:
        state = SyncState.LOCKED if res.category is FailureCategory.LOCKED else SyncState.ERROR
        result = Result.FAILED
        category = res.category.value if res.category else FailureCategory.OTHER.value
    record = PushRecord(
        meta=job.meta,
        quantity=qty,
        action=action,
        state=state,
        result=str(result),
        message=message,
        error_category=category,
        old_qty=known.pushed_qty if known else None,
        events=job.events,
        trigger=job.trigger,
        duration_ms=duration_ms,
        retry_due_at=due,
        explanation=job.explanation,
        accepted=accepted,
        deferred=deferred and result is Result.RETRY,
    )
    return Classified(record, attempts, remote)


def next_known(o: PushRecord, prior: Known | None, attempts: int, remote_qty: int | None) -> Known:
    """The ledger entry after outcome `o` (`remote_qty`: the marketplace's answer, if any)."""
    if o.accepted:
        seen: int | None = None
    else:
        seen = remote_qty if remote_qty is not None else (prior.remote_qty if prior else None)
    return Known(
        wanted_qty=o.quantity,
        wanted_action=o.action,
        state=o.state,
        pushed_qty=o.quantity if o.accepted else (prior.pushed_qty if prior else None),
        pushed_action=o.action if o.accepted else (prior.pushed_action if prior else None),
        attempts=attempts,
        remote_qty=seen,
        gave_up=o.result == Result.GAVE_UP,
    )


@dataclass(frozen=True, slots=True)
class StatusNote:
    """A listing's sync status waiting for the write-back to the ERP (latest wins)."""

    listing_id: int
    state: SyncState
    pushed_qty: int | None
    error: str | None
    at: float


class OutcomeRecorder:
    """Owns the outcome writer, the listeners and the status write-back."""

    def __init__(
        self,
        ledger: ListingLedger,
        store: Store,
        times: PhaseTimes,
        clock: Callable[[], float],
        policy: RetryPolicy,
        *,
        status_write: Callable[[Sequence[Any]], Any] | None = None,
        status_factory: StatusFactory | None = None,
        status_interval_s: float = 1.0,
        delays: DelayRecorder | None = None,
    ) -> None:
        self._ledger = ledger
        self.delays = delays
        self._clock = clock
        self.policy = policy
        self.writer = OutcomeWriter(store.record_outcomes, times)
        self._listeners: list[Callable[[PushRecord], None]] = []
        self._status_factory = status_factory
        self.publisher: StatusPublisher | None = (
            StatusPublisher(status_write, interval_s=status_interval_s, build=self._statuses)
            if status_write is not None and status_factory is not None
            else None
        )

    def start(self) -> None:
        if self.publisher:
            self.publisher.start()
        self.writer.start()

    def stop(self) -> None:
        self.writer.stop()
        if self.publisher:
            self.publisher.stop()

    def add_listener(self, listener: Callable[[PushRecord], None]) -> None:
        self._listeners.append(listener)

    def expected(self, listing_id: int) -> int | None:
        """What the marketplace holds as far as we know (compare-and-set pushes send it)."""
        known = self._ledger.get(listing_id)
        return known.expected_qty if known is not None else None

    def record(
        self,
        channel_code: str,
        jobs: Sequence[Job],
        results: Sequence[PushResult],
        duration_ms: float,
        done: Callable[[bool], None] | None = None,
    ) -> None:
        """Turn push results into outcomes (on the channel's worker thread): the ledger now,
        the state file by the outcome writer, then `done(ok)`."""
        now = self._clock()
        before = self._ledger.entries(job.listing_id for job in jobs)
        classified = [classify(job, res, before.get(job.listing_id), now, self.policy, duration_ms)
                      for job, res in zip(jobs, results)]
        outcomes = [c.record for c in classified]
        if self.delays is not None:
            accepted_at = time.time()
            for job, o in zip(jobs, outcomes):
                if o.accepted and o.result == Result.OK:
                    origin = job.origin_at if job.origin_at is not None else job.created_at
                    self.delays.accepted(o.meta.channel_code, origin, accepted_at)
        after: dict[int, Known] = {}
        for c, o in zip(classified, outcomes):
            lid = o.meta.listing_id
            after[lid] = next_known(o, after.get(lid) or before.get(lid), c.attempts, c.remote_qty)
        self._ledger.replace(after)

        def written(ok: bool) -> None:
            if done is not None:
                done(ok)  # tickets first: a slow listener must not hold the cursor back
            if ok:
                self._after_record(outcomes, now)

        self.writer.submit(outcomes, now, written)

    def _after_record(self, outcomes: Sequence[PushRecord], now: float) -> None:
        for o in outcomes:
            level = logging.INFO if o.result == Result.OK else logging.WARNING
            log.log(
                level,
                "%s %s (%s): %s -> %s %s%s",
                o.meta.channel_code, o.meta.sku, o.meta.channel_sku, o.old_qty, o.quantity,
                o.action, "" if o.result == Result.OK else f" [{o.state}] {o.message}",
            )
            for listener in list(self._listeners):
                try:
                    listener(o)
                except Exception:  # a printing bug must not stop the pushes
                    log.debug("listener failed", exc_info=True)
        if self.publisher is not None:
            known = self._ledger.entries(o.meta.listing_id for o in outcomes)
            notes = []
            for o in outcomes:
                k = known.get(o.meta.listing_id)
                notes.append(StatusNote(o.meta.listing_id, o.state, k.pushed_qty if k else None,
                                        o.message if o.result != Result.OK else None, now))
            self.publisher.publish(notes)

    def _statuses(self, notes: Sequence[StatusNote]) -> list[Any]:
        """The write-back batch: one common last_sync_at (the newest), so that listings with
        equal values share one ERP write."""
        factory = self._status_factory
        assert factory is not None
        at = datetime.fromtimestamp(max(n.at for n in notes))
        return [factory(n.listing_id, n.state, n.pushed_qty, at, n.error) for n in notes]
