"""The sync engine: a small coordinator of the rooms that own the sync's state.

A flush takes a set of product ids, reads their truth in one batched snapshot (Rule 1),
computes every listing's published value, skips values the marketplace already has
(Rule 5) and hands the rest to the channels' workers, all at once (Rule 4); the workers
keep one push per listing in flight and let a newer value replace a queued one (Rule 3).
Outcomes land in the state file before the change-feed cursor moves (Rule 2); failures
are parked for retry or shown as error/locked (Rule 6); every push is journaled (Rule 8).

Who owns what:
- intake.TriggerIntake: products and events woken and not read yet;
- feed_cycle.FeedCycle: the feed position, early reads, fast-path coverage, the cursor
  tracker and its tickets;
- ledger.ListingLedger: each listing's last durable value (the diff baseline);
- plan: the pure diff (results + baseline + mode -> decisions), shared with explain;
- workers.ChannelWorkers: one push worker per channel;
- outcomes.OutcomeRecorder: results -> durable outcomes, the retry policy, listeners and
  the status write-back;
- audit.DriftAudit: reading listings back; alerts.OversoldAlerts: oversold products.
The engine holds the flush lock (ERP reads and hand-overs in read order), runs the flusher
thread and the commands (resync, retry, audit, explain).

Threads: one flusher (flushes at once when idle; wake-ups that arrive during a flush
batch into the next one), one feed reader, one worker per channel, one outcome writer,
one status writer, plus the caller's threads for resync/retry/explain.

Usage::

    engine = Engine(deps, settings, store)
    engine.start()                  # first full sync, then live
    engine.wake()                   # a webhook arrived
    engine.wait_idle(10)
    engine.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from connector.state.rows import PushRecord
from connector.state.store import Store
from connector.sync.delay_recorder import DelayRecorder
from connector.sync.alerts import OversoldAlerts
from connector.sync.audit import AuditQueue, DriftAudit
from connector.sync.dispatch import ChannelWorker, PhaseTimes
from connector.sync.explain import explain_sku
from connector.sync.feed_cycle import FeedCycle
from connector.sync.flusher import Flusher
from connector.sync.handover import HandOver
from connector.sync.intake import TriggerIntake
from connector.sync.ledger import ListingLedger
from connector.sync.outcomes import OutcomeRecorder, RetryPolicy
from connector.sync.plan import PlanMode, Trigger, bind_compute
from connector.sync.ports import FeedPosition
from connector.sync.report import ResyncReport
from connector.sync.resync import await_outcomes, recompute
from connector.sync.settings import EngineDeps, EngineSettings
from connector.sync.tickets import Ticket
from connector.sync.tracing import PushTracer
from connector.sync.workers import ChannelWorkers

__all__ = ["Engine", "EngineDeps", "EngineSettings"]

log = logging.getLogger(__name__)

REPLAY_MAX_CYCLES = 20  # feed reads (each up to the feed's page) replayed before the start-up sync


class Engine:
    """Keeps every channel equal to the ERP. See the module docstring."""

    def __init__(self, deps: EngineDeps, settings: EngineSettings, store: Store) -> None:
        self.deps = deps
        self.settings = settings
        self.store = store
        self._flush_lock = threading.RLock()
        self._stop = threading.Event()
        self.tracer: PushTracer | None = None  # per-push traces, off unless start_tracing()
        self.times = PhaseTimes()  # shared with the workers; see metrics()
        self.ledger = ListingLedger.load(store)
        self.alerts = OversoldAlerts(store)
        self.outcomes = OutcomeRecorder(
            self.ledger, store, self.times, deps.clock,
            RetryPolicy(settings.max_attempts, settings.retry_base_s, settings.retry_max_s),
            status_write=deps.status_sink.write if deps.status_sink else None,
            status_factory=deps.status_factory,
            status_interval_s=settings.status_interval_s,
            delays=DelayRecorder.load(store),
        )
        self._workers = ChannelWorkers(
            deps.adapter_factory, record=self.outcomes.record, expected=self.outcomes.expected,
            times=self.times, tracer=lambda: self.tracer, stopping=self._stop.is_set,
        )
        self.handover = HandOver(
            bind_compute(deps.compute, deps.zero_stock_defaults, deps.marketplace_caps),
            self.ledger, self.alerts, self._workers, settings.disabled_channels,
        )
        self.intake = TriggerIntake()
        self.feed_cycle = FeedCycle(
            feed=deps.feed, source=deps.source, store=store, intake=self.intake, workers=self._workers,
            apply=self.handover.apply, flush_lock=self._flush_lock, times=self.times, tracer=lambda: self.tracer,
            stopping=self._stop,
            can_prefetch=self._can_prefetch,
        )
        self.drift = DriftAudit(self._workers, settings.disabled_channels)
        self.flusher = Flusher(self.feed_cycle, self.intake, poll_interval_s=settings.poll_interval_s,
                               stopping=self._stop, startup_sync=self._startup_sync)

    def _can_prefetch(self) -> bool:
        """An early feed read only while the flusher is live (it owns the read position)."""
        return self.flusher.started and self.flusher.ready.is_set() and not self._stop.is_set()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, initial_sync: bool = True) -> ResyncReport | None:
        """Start the threads; with `initial_sync`, first run a full sync and return its report.

        If the first sync fails (ERP down), the flusher keeps trying before going live.
        """
        self.outcomes.start()
        report: ResyncReport | None = None
        if initial_sync:
            report = self._startup_sync()
        else:
            self.feed_cycle.init_position(fresh_sync=False)
            self.flusher.ready.set()
        self.flusher.start()
        return report

    def stop(self) -> None:
        self._stop.set()
        self.intake.signal()
        self.flusher.join(10)
        self._workers.stop(self.settings.stop_timeout_s)
        self.outcomes.writer.stop()
        if self.outcomes.delays is not None:
            self.outcomes.delays.save()
        self.feed_cycle.close()
        if self.outcomes.publisher:
            self.outcomes.publisher.stop()

    @property
    def ready(self) -> bool:
        """The first full sync has finished (at start-up, or later by the flusher's retries)."""
        return self.flusher.ready.is_set()

    def add_listener(self, listener: Callable[[PushRecord], None]) -> None:
        """Call `listener(outcome)` after every durable push outcome (live output, demo)."""
        self.outcomes.add_listener(listener)

    @property
    def woken_flushes(self) -> int:
        return self.flusher.woken_flushes

    @property
    def flushes(self) -> int:
        return self.feed_cycle.flushes

    @property
    def fast_reads(self) -> int:
        return self.feed_cycle.fast_reads

    @property
    def events_read(self) -> int:
        return self.feed_cycle.events_read

    # -- triggers --------------------------------------------------------------------------

    def wake(self, product_ids: Iterable[int] = (), events: Iterable[tuple[int, int, str]] = ()) -> None:
        """Something changed: read the change feed now, and look at these products.

        `events` are the webhook's (event id, product id, reason): the flush pushes those
        products from a fresh read at once, before the change feed answers, and the feed
        read then only confirms them (see connector.sync.feed_cycle)."""
        announced = list(events)
        now = time.monotonic()
        tracer = self.tracer
        if tracer is not None and announced:
            tracer.arrived(((eid, pid) for eid, pid, _reason in announced), time.time())
        self.intake.add(product_ids, announced, now)
        self.feed_cycle.start_prefetch(now)
        self.intake.signal()

    def start_tracing(self, keep: int = 100_000) -> PushTracer:
        """Keep per-push traces from now on (benchmarks); see connector.sync.tracing."""
        if self.tracer is None:
            self.tracer = PushTracer(keep)
        return self.tracer

    def flush_status(self, timeout: float = 10.0) -> bool:
        """Write the queued sync statuses to the ERP now (starting the writer if the engine
        was never started, as in a one-shot CLI resync). True when all were written."""
        publisher = self.outcomes.publisher
        if publisher is None:
            return True
        publisher.start()
        return publisher.wait_idle(timeout)

    def wait_idle(self, timeout: float) -> bool:
        """True once every trigger seen so far is processed and nothing is in flight."""
        deadline = time.monotonic() + timeout
        publisher = self.outcomes.publisher
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            quiet = self.flusher.round_quiet(remaining)
            if quiet is None:
                return False
            if quiet and self._workers.idle():
                if publisher is None or publisher.wait_idle(max(0.0, deadline - time.monotonic())):
                    return True
            time.sleep(0.005)
        return False

    # -- the flusher thread ----------------------------------------------------------------

    def _startup_sync(self) -> ResyncReport:
        try:
            position = self.feed_cycle.init_position(fresh_sync=True)
            if position is None:
                self._replay()
            report = self.resync(trigger=Trigger.STARTUP, position=position, audit=False)
        except Exception as exc:
            log.error("first full sync failed: %s; retrying in the background", exc)
            report = ResyncReport(errors=[f"first full sync failed: {exc}"])
            report.finished_at = time.time()
            return report
        self.flusher.ready.set()
        return report

    def _replay(self) -> None:
        """After a restart, process the change feed from the stored cursor as events first
        (Rule 2), so the pushes a crash left undone are journaled with the events that
        caused them (Rule 8); the full sync that follows then finds them queued or done.
        Bounded: a long backlog's remainder is read by the flusher once live."""
        for _ in range(REPLAY_MAX_CYCLES):
            if self._stop.is_set() or not self.feed_cycle.run():
                return

    # -- commands: resync, retry, audit, explain -------------------------------------------

    def resync(
        self,
        skus: Sequence[str] | None = None,
        channels: Sequence[str] | None = None,
        *,
        force: bool = False,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
        audit: bool = False,
        trigger: str = Trigger.RESYNC,
        position: FeedPosition = None,
        wait_s: float | None = None,
        repair: bool = False,
    ) -> ResyncReport:
        """Recompute listings (all, or of `skus`) and push what differs (all with `force`).

        `dry_run` pushes nothing and reports what would change. `audit` also reads back
        every unchanged listing from its marketplace and corrects drift (the scheduled,
        budgeted audit is `audit_drift`). `repair` (the safety net) also re-pushes
        listings whose retries ran out or whose accepted value is not the wanted one. Waits up to
        `wait_s` (default settings.wait_outcomes_s) for the pushes' outcomes.
        """
        report = ResyncReport(dry_run=dry_run, forced=force)
        mode = PlanMode(trigger=trigger, force=force, channels=frozenset(channels) if channels else None,
                        repair=repair, dry_run=dry_run)
        tracker = self.feed_cycle.tracker
        ticket = tracker.open(position) if position is not None else Ticket()
        audit_queue = AuditQueue() if audit and not dry_run else None
        try:
            with self.flusher.busy():
                report.products = recompute(self.deps.source, self._flush_lock, self.handover.apply, skus, mode,
                                            ticket, report, audit_queue, progress)
        except BaseException:
            if position is not None:
                tracker.discard(ticket)
            raise
        if audit_queue is not None and audit_queue.by_channel:
            try:
                self._correct_drift(audit_queue, report, ticket)
            except Exception as exc:  # the drift audit is a bonus; the resync itself is done
                report.errors.append(f"drift audit failed: {exc}")
        ticket.seal()
        if not dry_run:
            await_outcomes(self.store, ticket, report,
                           self.settings.wait_outcomes_s if wait_s is None else wait_s)
        report.finished_at = time.time()
        return report

    def audit_drift(self, reads: Mapping[str, int] | None = None) -> ResyncReport:
        """The scheduled drift audit: read back a slice of each channel's settled listings
        and re-push (from a fresh ERP read) those the marketplace changed behind our back.

        Each run reads at most `reads[marketplace]` listings per channel (default
        audit.AUDIT_READS, e.g. Etsy 20: two GETs each, every 30 min = 1,920 of its 10,000
        daily calls), continuing where the previous run stopped, so every listing is checked
        in turn. Live pushes come first: a channel with pushes queued is left for the next run.
        """
        report = ResyncReport()
        queue = self.drift.scheduled_queue(self.store.listings(), reads, self._workers.scheduled)
        ticket = Ticket()
        if queue.by_channel:
            self._correct_drift(queue, report, ticket, yield_to_pushes=True)
        report.checked = sum(self.drift.read.values())
        ticket.seal()
        report.finished_at = time.time()
        return report

    def _correct_drift(
        self, queue: AuditQueue, report: ResyncReport, ticket: Ticket, yield_to_pushes: bool = False
    ) -> None:
        """Read queued listings back; force a fresh push where the marketplace drifted."""
        drifted, products = self.drift.check(queue, report, yield_to_pushes)
        if not drifted:
            return
        with self._flush_lock:
            snapshot = self.deps.source.snapshot(sorted(products))
            self.handover.apply(snapshot, PlanMode(trigger=Trigger.DRIFT, force_ids=frozenset(drifted)),
                        ticket=ticket, report=report)
        report.drifted = sorted(drifted)

    def retry_due(self) -> int:
        """Re-read and push the retry queue's due listings; returns how many were due."""
        due = [
            r for r in self.store.due_retries(self.deps.clock())
            if self._workers.scheduled(r.channel_code, r.listing_id) is None
        ]
        if not due:
            return 0
        with self.flusher.busy(), self._flush_lock:
            snapshot = self.deps.source.snapshot(sorted({r.product_id for r in due}))
            handled = self.handover.apply(
                snapshot, PlanMode(trigger=Trigger.RETRY, force_ids=frozenset(r.listing_id for r in due))
            )
        # A listing archived or deleted, or a channel disabled or gone, gets no result: its
        # retry row would be re-read forever.
        orphans = sorted(r.listing_id for r in due if r.listing_id not in handled)
        if orphans:
            self.store.drop_retries(orphans)
            log.info("dropped %d retry entr(ies) of listings no longer synced: %s", len(orphans), orphans[:20])
        return len(due)

    def prune_journal(self, retention_days: float) -> int:
        removed = self.store.prune_journal(retention_days)
        if removed:
            log.info("pruned %d journal rows older than %s days", removed, retention_days)
        return removed

    def explain(self, sku: str, channel: str | None = None) -> list[dict[str, Any]]:
        """How each listing of `sku` got its number, read live from the ERP."""
        return explain_sku(self.deps.source, self.handover.compute, self.store, self.handover.previous_action, sku, channel,
                           lock=self._flush_lock)

    # -- metrics ---------------------------------------------------------------------------

    def workers(self) -> dict[str, ChannelWorker]:
        return self._workers.all()

    def metrics(self) -> dict[str, Any]:
        """Counters and per-phase times (ms) for status/health JSON and benchmarks.

        Phases: coalesce (wake-up -> flush start: no wait on an idle engine, else the
        running flush), feed_read (with an early snapshot running beside it), flush_lock_wait, snapshot (ERP
        read), compute (compute + diff + hand-over), queue_wait (hand-over -> worker takes
        it), rate_limit_wait (the marketplace's documented budget, in the adapter's token
        bucket), http (the rest of the push), record (durable outcome in the state file).
        """
        workers = self._workers.all()
        publisher = self.outcomes.publisher
        return {
            "flushes": self.flushes,
            "fast_reads": self.fast_reads,
            "events_read": self.events_read,
            "pushed": {code: w.pushed for code, w in workers.items()},
            "replaced": {code: w.replaced for code, w in workers.items()},
            "status_writes": publisher.writes if publisher else 0,
            "phases_ms": self.times.summary(),
        }
