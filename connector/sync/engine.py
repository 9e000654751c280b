"""The sync engine: triggers in, one ERP read, the computation, a diff, pushes out.

A flush takes a set of product ids, reads their truth in one batched snapshot (Rule 1),
computes every listing's published value, skips values the marketplace already has
(Rule 5) and hands the rest to the channels' workers, all at once (Rule 4); the workers
keep one push per listing in flight and let a newer value replace a queued one (Rule 3).
Outcomes land in the state file before the change-feed cursor moves (Rule 2); failures
are parked for retry or shown as error/locked (Rule 6); every push is journaled (Rule 8).

Threads: one flusher (flushes at once when idle; wake-ups that arrive during a flush
batch into the next one), one feed reader (starts the outbox read as a wake-up arrives),
one worker per channel, one status writer, plus the caller's threads for
resync/retry/explain. ERP
reads and the hand-over to workers are serialised by `_flush_lock`, so values reach the
workers in the order they were read.

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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime
from typing import Any

from connector.marketplaces.base import FailureCategory, PushResult, StockUpdate
from connector.marketplaces.base import Outcome as PushOutcome
from connector.stock.model import PushAction, StockSnapshot, SyncState, ZeroStockAction
from connector.sync.dispatch import BACK_IN_STOCK, ChannelWorker, Job, PhaseTimes
from connector.sync.ports import (
    AdapterFactory,
    ChangeFeed,
    ComputeFn,
    ListingResultLike,
    StatusFactory,
    StatusSink,
    StockSourceLike,
)
from connector.sync.report import Change, ResyncReport
from connector.state.rows import ListingMeta, PushRecord
from connector.state.store import Store
from connector.sync.statusback import StatusPublisher
from connector.sync.tickets import CursorTracker, Ticket
from connector.sync.tracing import PushTracer, Span
from connector.sync.writer import OutcomeWriter

log = logging.getLogger(__name__)

OVERSOLD = "oversold"
# Listings the scheduled drift audit reads back per channel and run ("*": any other
# marketplace). Etsy reads cost two calls each against a 10,000/day budget; Amazon's and
# eBay's read share the push rate bucket; the rest allow far more.
AUDIT_READS: dict[str, int] = {"*": 100, "etsy": 20, "amazon": 30, "ebay": 50}
COVERED_MAX = 10_000  # announced events kept per product before they are simply forgotten
REPLAY_MAX_CYCLES = 20  # feed reads (each up to the feed's page) replayed before the start-up sync
GAVE_UP = "gave_up"  # error category of a listing whose transient retries ran out
_ZERO_ACTIONS = (PushAction.DEACTIVATE, PushAction.END)


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """The knobs of the engine (from config.bridge; see `from_config` in wiring)."""

    # No longer a wait: an idle engine flushes at once on a wake-up, and wake-ups that arrive
    # while a flush runs batch into the next flush by themselves. Kept for config files.
    coalesce_s: float = 0.03
    poll_interval_s: float = 2.0
    max_attempts: int = 12  # transient failures in a row before a listing goes to error
    retry_base_s: float = 5.0
    retry_max_s: float = 900.0
    disabled_channels: frozenset[str] = frozenset()
    resync_page_size: int | None = None
    wait_outcomes_s: float = 120.0  # how long resync waits for its pushes to finish
    status_interval_s: float = 1.0  # sync status write-back to the ERP: at most this late
    stop_timeout_s: float = 5.0  # how long stop() waits for pushes in flight, all channels together


@dataclass(slots=True)
class EngineDeps:
    """The engine's collaborators; the real ones are wired in connector.sync.wiring."""

    source: StockSourceLike
    compute: ComputeFn
    adapter_factory: AdapterFactory
    feed: ChangeFeed | None = None
    status_sink: StatusSink | None = None
    status_factory: StatusFactory | None = None
    zero_stock_defaults: Mapping[str, ZeroStockAction] | None = None
    clock: Callable[[], float] = time.time
    # marketplace -> the most it stores for one listing (adapters' max_quantity): the
    # computation caps there, so the recorded value is what the marketplace really holds.
    marketplace_caps: Mapping[str, int] | None = None


@dataclass(slots=True)
class _Known:
    """The durable baseline of one listing, mirrored in memory."""

    wanted_qty: int | None
    wanted_action: PushAction | None
    state: SyncState
    pushed_qty: int | None
    attempts: int = 0
    # The action the marketplace last accepted: what "previous" means to the computation
    # (a REACTIVATE that failed leaves the listing switched off, so the retry reactivates).
    pushed_action: PushAction | None = None
    # What the marketplace told us it holds when it refused a compare-and-set (Shopify
    # *_STALE): the next push compares with it, after a fresh ERP read (Rule 1 and 3).
    remote_qty: int | None = None
    gave_up: bool = False  # error after transient retries ran out: the safety net tries again


@dataclass(frozen=True, slots=True)
class _StatusNote:
    """A listing's sync status waiting for the write-back to the ERP (latest wins)."""

    listing_id: int
    state: SyncState
    pushed_qty: int | None
    error: str | None
    at: float


@dataclass(slots=True)
class _Audit:
    """Unchanged listings the drift audit reads back from their marketplace."""

    by_channel: dict[str, list[tuple[int, int, str, str | None, int, PushAction]]] = field(
        default_factory=dict
    )


class Engine:
    """Keeps every channel equal to the ERP. See the module docstring."""

    def __init__(self, deps: EngineDeps, settings: EngineSettings, store: Store) -> None:
        self.deps = deps
        self.settings = settings
        self.store = store
        self._flush_lock = threading.RLock()
        self._known_lock = threading.Lock()
        self._known: dict[int, _Known] = {}
        self._workers: dict[str, ChannelWorker] = {}
        self._workers_lock = threading.Lock()
        self._listeners: list[Callable[[PushRecord], None]] = []
        self._open_alerts: set[int] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._cycle_seq = 0
        self._cycle_done = 0
        self._last_cycle_empty = False
        self._pending_products: set[int] = set()
        self._pending_events: dict[int, dict[int, str]] = {}  # product -> announced event -> reason
        # product -> events announced before one of its fast reads began (not yet settled)
        self._covered: dict[int, set[int]] = {}
        self._fast_listings: dict[int, list[tuple[str, int]]] = {}  # product -> (channel, listing)
        self._fast_wake = threading.Event()  # a wake-up or the feed read's answer, mid-cycle
        self.tracer: PushTracer | None = None  # per-push traces, off unless start_tracing()
        self._busy_jobs = 0
        self._ready = threading.Event()
        self._flusher: threading.Thread | None = None
        self._read_pos: Any = None
        self._seen_saved_at = 0.0
        self._woken_at: float | None = None  # monotonic time of the first wake-up not yet flushed
        self._feed_reader: ThreadPoolExecutor | None = None  # reads the feed beside an early snapshot
        # A feed read started by wake() while the flusher was idle: (position, started, future).
        self._prefetch: tuple[Any, float, Future[tuple[dict[int, list[int]], Any]]] | None = None
        self._flushing = False  # the flusher is in a cycle (guarded by _cond)
        self._last_wake = 0.0  # monotonic time of the newest wake-up
        self._audit_after: dict[str, int] = {}  # channel -> last listing id the drift audit read
        self._audit_read: dict[str, int] = {}  # channel -> listings read by the last audit
        self.times = PhaseTimes()  # shared with the workers; see metrics()
        self._writer = OutcomeWriter(store.record_outcomes, self.times)
        feed_name = deps.feed.name if deps.feed else "none"
        self._tracker = CursorTracker(lambda pos: store.set_cursor(feed_name, pos))
        self._publisher: StatusPublisher | None = (
            StatusPublisher(deps.status_sink.write, interval_s=settings.status_interval_s, build=self._statuses)
            if deps.status_sink and deps.status_factory
            else None
        )
        self.flushes = 0  # change-feed reads that found entries (benchmarks: RPC per flush)
        self.fast_reads = 0  # fast-path reads of webhook-named products
        self.events_read = 0  # change-feed entries read
        self.woken_flushes = 0  # flushes that found work right after a wake-up (not a poll)
        self._load()

    # -- lifecycle -------------------------------------------------------------------------

    def _load(self) -> None:
        attempts = {r.listing_id: r.attempts for r in self.store.retries()}
        for row in self.store.listings():
            self._known[row.listing_id] = _Known(
                wanted_qty=row.wanted_qty,
                wanted_action=PushAction(row.wanted_action) if row.wanted_action else None,
                state=SyncState(row.state),
                pushed_qty=row.pushed_qty,
                pushed_action=PushAction(row.pushed_action) if row.pushed_action else None,
                attempts=attempts.get(row.listing_id, 0),
                gave_up=row.state == SyncState.ERROR.value and (
                    row.error_category == GAVE_UP or (row.last_error or "").startswith("gave up after")
                ),
            )
        self._open_alerts = {a.product_id for a in self.store.alerts() if a.kind == OVERSOLD}

    def start(self, initial_sync: bool = True) -> ResyncReport | None:
        """Start the threads; with `initial_sync`, first run a full sync and return its report.

        If the first sync fails (ERP down), the flusher keeps trying before going live.
        """
        if self._publisher:
            self._publisher.start()
        self._writer.start()
        report: ResyncReport | None = None
        if initial_sync:
            report = self._startup_sync()
        else:
            self._init_position(fresh_sync=False)
            self._ready.set()
        self._flusher = threading.Thread(target=self._run, name="flusher", daemon=True)
        self._flusher.start()
        return report

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._fast_wake.set()
        if self._flusher is not None:
            self._flusher.join(10)
        with self._workers_lock:
            workers = list(self._workers.values())
        for worker in workers:  # all at once: ten slow channels must not take ten timeouts
            worker.signal_stop()
        deadline = time.monotonic() + self.settings.stop_timeout_s
        for worker in workers:
            worker.stop(max(0.0, deadline - time.monotonic()))
        self._writer.stop()
        if self._feed_reader is not None:
            self._feed_reader.shutdown(wait=False)
        if self._publisher:
            self._publisher.stop()

    @property
    def ready(self) -> bool:
        """The first full sync has finished (at start-up, or later by the flusher's retries)."""
        return self._ready.is_set()

    def add_listener(self, listener: Callable[[PushRecord], None]) -> None:
        """Call `listener(outcome)` after every durable push outcome (live output, demo)."""
        self._listeners.append(listener)

    # -- triggers --------------------------------------------------------------------------

    def wake(self, product_ids: Iterable[int] = (), events: Iterable[tuple[int, int, str]] = ()) -> None:
        """Something changed: read the change feed now, and look at these products.

        `events` are the webhook's (event id, product id, reason): the flush pushes those
        products from a fresh read at once, before the change feed answers, and the feed
        read then only confirms them (see `_cycle`)."""
        announced = list(events)
        ids = set(product_ids) | {pid for _eid, pid, _reason in announced}
        now = time.monotonic()
        tracer = self.tracer
        if tracer is not None and announced:
            tracer.arrived(((eid, pid) for eid, pid, _reason in announced), time.time())
        with self._cond:
            self._pending_products |= ids
            for eid, pid, reason in announced:
                self._pending_events.setdefault(pid, {})[eid] = reason
            self._last_wake = now
            if self._woken_at is None:
                self._woken_at = now
            self._start_prefetch(now)
        self._wake.set()
        self._fast_wake.set()

    def start_tracing(self, keep: int = 100_000) -> PushTracer:
        """Keep per-push traces from now on (benchmarks); see connector.sync.tracing."""
        if self.tracer is None:
            self.tracer = PushTracer(keep)
        return self.tracer

    def _start_prefetch(self, now: float) -> None:
        """Start reading the change feed right away when the flusher is idle, so the read
        overlaps the hand-over to the flusher and its snapshot. Caller holds `_cond`; the
        flusher is the only writer of `_read_pos`, and it is between cycles."""
        feed = self.deps.feed
        if (
            feed is None or self._flushing or self._prefetch is not None or self._flusher is None
            or not self._ready.is_set() or self._stop.is_set()
        ):
            return
        position = self._read_pos
        self._prefetch = (position, now, self._feed_pool().submit(feed.read, position))

    def flush_status(self, timeout: float = 10.0) -> bool:
        """Write the queued sync statuses to the ERP now (starting the writer if the engine
        was never started, as in a one-shot CLI resync). True when all were written."""
        if self._publisher is None:
            return True
        self._publisher.start()
        return self._publisher.wait_idle(timeout)

    def wait_idle(self, timeout: float) -> bool:
        """True once every trigger seen so far is processed and nothing is in flight."""
        deadline = time.monotonic() + timeout
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._cond:
                start = self._cycle_seq
            self._wake.set()
            with self._cond:
                if not self._cond.wait_for(lambda: self._cycle_done > start, remaining):
                    return False
                quiet = self._last_cycle_empty and self._busy_jobs == 0
            if quiet and self._workers_idle():
                if self._publisher is None or self._publisher.wait_idle(max(0.0, deadline - time.monotonic())):
                    return True
            time.sleep(0.005)
        return False

    def _workers_idle(self) -> bool:
        with self._workers_lock:
            return all(w.is_idle() for w in self._workers.values())

    # -- the flusher thread ----------------------------------------------------------------

    def _init_position(self, fresh_sync: bool) -> Any:
        """Where the change feed starts; on a fresh state file, the position before the sync."""
        feed = self.deps.feed
        if feed is None:
            return None
        stored = self.store.get_cursor(feed.name)
        if stored is not None:
            self._read_pos = stored
            return None
        start = feed.start()
        self._read_pos = start
        if not fresh_sync:
            self.store.set_cursor(feed.name, start)
            return None
        return start

    def _startup_sync(self) -> ResyncReport:
        try:
            position = self._init_position(fresh_sync=True)
            if position is None:
                self._replay()
            report = self.resync(trigger="startup", position=position, audit=False)
        except Exception as exc:
            log.error("first full sync failed: %s; retrying in the background", exc)
            report = ResyncReport(errors=[f"first full sync failed: {exc}"])
            report.finished_at = time.time()
            return report
        self._ready.set()
        return report

    def _replay(self) -> None:
        """After a restart, process the change feed from the stored cursor as events first
        (Rule 2), so the pushes a crash left undone are journaled with the events that
        caused them (Rule 8); the full sync that follows then finds them queued or done.
        Bounded: a long backlog's remainder is read by the flusher once live."""
        for _ in range(REPLAY_MAX_CYCLES):
            if self._stop.is_set() or not self._cycle():
                return

    def _run(self) -> None:
        delay = self.settings.poll_interval_s
        while not self._ready.is_set() and not self._stop.is_set():
            if self._stop.wait(delay):
                return
            report = self._startup_sync()
            delay = min(60.0, delay * 2)
            if report.errors:
                continue
        while not self._stop.is_set():
            woke = self._wake.wait(self.settings.poll_interval_s)
            if self._stop.is_set():
                return
            # No coalescing wait: an idle engine flushes at once (the latency target), and
            # the wake-ups that arrive while this flush runs make up the next one.
            self._wake.clear()
            with self._cond:
                woken, self._woken_at = self._woken_at, None
                self._flushing = True
                self._cycle_seq += 1
                seq = self._cycle_seq
            found = True
            try:
                found = self._cycle(woken)
                if found and woke and woken is not None:
                    self.woken_flushes += 1
            except Exception as exc:
                if self._stop.is_set():
                    return
                log.error("flush failed (will retry): %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
                self._stop.wait(min(self.settings.poll_interval_s, 1.0))
            with self._cond:
                self._flushing = False
                self._cycle_done = seq
                self._last_cycle_empty = not found
                self._cond.notify_all()

    def _cycle(self, woken: float | None = None) -> bool:
        """One round: fast pushes of woken products while the change feed is read, then the
        feed's new entries settled. False if nothing new.

        Products a webhook named are read at once (the fast path: one quants read when their
        catalog rows are cached) and their values handed to the workers without waiting for
        the change-feed read, which runs beside it on its own connection; wake-ups arriving
        while that read is out get their fast path too. The feed read then settles: a
        product whose feed entries were all announced before one of its fast reads began is
        covered by that read (the webhook is sent after the commit), and the cursor only
        waits for what is scheduled for its listings; any other product in the feed is
        read again now (a lost webhook loses nothing). The cursor moves only by the feed
        (Rule 2); every read and its hand-over happen under `_flush_lock`, so values reach
        the workers in the order they were read (Rule 3).
        """
        started = time.monotonic()
        feed = self.deps.feed
        source = self.deps.source
        with self._cond:
            prefetch, self._prefetch = self._prefetch, None
            last_wake = self._last_wake
        if feed is None:
            return self._flush_without_feed(woken)
        reading: Future[tuple[dict[int, list[int]], Any]]
        feed_started = time.time()
        if prefetch is not None and prefetch[0] == self._read_pos:
            reading = prefetch[2]
            feed_started -= started - prefetch[1]
            if last_wake > prefetch[1]:
                # A wake-up came after the read started: its entries may be missing from
                # it, so the next cycle runs at once instead of at the next poll.
                self._wake.set()
        else:
            reading = self._feed_pool().submit(feed.read, self._read_pos)
        reading.add_done_callback(lambda _f: self._fast_wake.set())
        fast_found = False
        with self._cond:
            plain = not self._pending_products
        if woken is not None and plain:
            self.times.add("coalesce", (started - woken) * 1000)  # a plain wake-up -> this read
        while True:
            self._fast_wake.clear()
            if self._fast_path(woken):
                fast_found = True
            woken = None
            if reading.done() or self._stop.is_set():
                break
            with self._cond:
                more = bool(self._pending_products)
            if not more:
                self._fast_wake.wait(1.0)
        if not reading.done():  # stopping with the ERP still answering: leave it to the replay
            return fast_found
        events, new_pos = reading.result()
        feed_span = (feed_started, time.time())
        tracer = self.tracer
        if tracer is not None:
            tracer.waited("feed", *feed_span)  # the fast paths do not wait for it
        read = time.monotonic()
        if not events:
            if new_pos != self._read_pos:  # entries with no product: just move on
                self._tracker.open(new_pos).seal()
                self._read_pos = new_pos
            return fast_found
        with self._flush_lock:
            locked = time.monotonic()
            config_edit = "manual" in (getattr(feed, "last_reasons", None) or ())
            if config_edit:
                # A channel/listing/allocation edit: config and catalog are read again, and
                # no earlier fast read counts for this flush.
                source.refresh_config()
            with self._cond:
                covered = set() if config_edit else {
                    pid for pid, ids in events.items() if ids and set(ids) <= self._covered.get(pid, set())
                }
            rest = set(events) - covered
            snapshot: StockSnapshot | None = None
            spans: tuple[Span, ...] = ()
            if rest:
                begun = time.time()
                snapshot = source.snapshot(sorted(rest), cached=True)
                spans = (feed_span, (begun, time.time()))
                if tracer is not None:
                    tracer.waited("erp", *spans[1])
            self.flushes += 1
            self.events_read += sum(len(ids) for ids in events.values())
            taken = time.monotonic()
            ticket = self._tracker.open(new_pos)
            try:
                # Already handed over by a fast path: this flush's ticket waits for those
                # pushes (or newer ones) and hands over nothing itself, so a newer value
                # scheduled meanwhile (a retry, a resync) is never replaced by an older read.
                self._attach(covered, ticket)
                if snapshot is not None:
                    self._apply(snapshot, trigger="event", events=events, ticket=ticket, erp_spans=spans)
            except BaseException:
                self._tracker.discard(ticket)
                raise
            ticket.seal()
        self._settled(events, new_pos)
        done = time.monotonic()
        times = self.times
        times.add("feed_read", (read - started) * 1000)
        times.add("flush_lock_wait", (locked - read) * 1000)
        times.add("snapshot", (taken - locked) * 1000)
        times.add("compute", (done - taken) * 1000)  # compute, diff, hand-over to workers
        self._read_pos = new_pos
        self._save_seen(new_pos)
        return True

    def _fast_path(self, woken: float | None) -> bool:
        """Read the woken products now and hand their values over; False if none waited."""
        with self._cond:
            products, self._pending_products = self._pending_products, set()
            announced, self._pending_events = self._pending_events, {}
            first_wake, self._woken_at = self._woken_at, None
        if not products:
            return False
        begin = time.monotonic()
        source = self.deps.source
        try:
            with self._flush_lock:
                if any(reason == "manual" for found in announced.values() for reason in found.values()):
                    # A channel/listing/allocation edit: config and catalog are read again
                    # before this read, not after the cache TTL.
                    source.refresh_config()
                with self._cond:
                    # announced before this read began: the read covers them
                    for pid, found in announced.items():
                        self._covered.setdefault(pid, set()).update(found)
                begun = time.time()
                snapshot = source.snapshot(sorted(products), cached=True)
                span = (begun, time.time())
                read = time.monotonic()
                self.fast_reads += 1
                self._index_listings(snapshot, announced)
                self._apply(snapshot, trigger="event",
                            events={pid: sorted(found) for pid, found in announced.items()},
                            erp_spans=(span,))
        except BaseException:
            with self._cond:
                self._pending_products |= products
                for pid, found in announced.items():
                    self._pending_events.setdefault(pid, {}).update(found)
                    known = self._covered.get(pid)
                    if known is not None:
                        known.difference_update(found)
                if self._woken_at is None:
                    self._woken_at = first_wake
            raise
        times = self.times
        since = first_wake if first_wake is not None else woken
        if since is not None:
            times.add("coalesce", (begin - since) * 1000)  # wake-up -> its read starts
        times.add("fast_read", (span[1] - span[0]) * 1000)
        times.add("fast_compute", (time.monotonic() - read) * 1000)
        if self.tracer is not None:
            self.tracer.waited("erp", *span)
        return True

    def _flush_without_feed(self, woken: float | None) -> bool:
        """No change feed (tests, plain wake-ups): read the woken products and push."""
        with self._cond:
            products, self._pending_products = self._pending_products, set()
            self._pending_events = {}
            self._woken_at = None
        if not products:
            return False
        try:
            with self._flush_lock:
                snapshot = self.deps.source.snapshot(sorted(products), cached=True)
                self.flushes += 1
                self._apply(snapshot, trigger="manual")
        except BaseException:
            with self._cond:
                self._pending_products |= products
            raise
        return True

    def _index_listings(self, snapshot: StockSnapshot, announced: Iterable[int]) -> None:
        """Remember which listings a fast-read product with announced events has, for
        `_attach` when the change feed settles those events."""
        codes = {c.id: c.code for c in snapshot.channels.values()}
        wanted = set(announced)
        by_product: dict[int, list[tuple[str, int]]] = {pid: [] for pid in snapshot.product_ids & wanted}
        for listing in snapshot.listings:
            if listing.product_id in wanted:
                by_product[listing.product_id].append((codes.get(listing.channel_id, ""), listing.id))
        with self._cond:
            self._fast_listings.update(by_product)

    def _attach(self, product_ids: set[int], ticket: Ticket) -> None:
        """Make `ticket` wait for whatever is scheduled for the listings of `product_ids`."""
        with self._cond:
            listings = [item for pid in product_ids for item in self._fast_listings.get(pid, ())]
        for code, listing_id in listings:
            with self._workers_lock:
                worker = self._workers.get(code)
            if worker is not None:
                worker.attach(listing_id, ticket)

    def _settled(self, events: Mapping[int, list[int]], position: Any) -> None:
        """Forget the coverage of feed entries that are now settled, and of announcements
        the feed had already delivered before their webhook came (it never returns them)."""
        delivered = getattr(self.deps.feed, "delivered", None) or _delivered_by_int
        with self._cond:
            for pid, ids in events.items():
                known = self._covered.get(pid)
                if known is not None:
                    known.difference_update(ids)
            for pid in list(self._covered):
                known = self._covered[pid]
                if known:
                    known.difference_update([eid for eid in known if delivered(position, eid)])
                if not known or len(known) > COVERED_MAX:
                    del self._covered[pid]
                    self._fast_listings.pop(pid, None)

    def _feed_pool(self) -> ThreadPoolExecutor:
        with self._cond:  # wake() (webhook threads) and the flusher both get here
            if self._feed_reader is None:
                self._feed_reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed")
            return self._feed_reader

    def _save_seen(self, position: Any) -> None:
        """Remember (at most once a second) how far the feed was read, for `status`' lag."""
        feed = self.deps.feed
        now = time.monotonic()
        if feed is None or position is None or now - self._seen_saved_at < 1.0:
            return
        self._seen_saved_at = now
        self.store.set_cursor(f"{feed.name}:seen", position)

    # -- the flush ---------------------------------------------------------------------------

    def _scheduled(self, channel_code: str, listing_id: int) -> tuple[int, PushAction] | None:
        with self._workers_lock:
            worker = self._workers.get(channel_code)
        return worker.scheduled(listing_id) if worker else None

    def _previous_action(self, channel_code: str, listing_id: int) -> PushAction | None:
        """The action the marketplace has or is about to get: the scheduled one, else the
        last one it accepted (not merely wanted: a refused REACTIVATE left it off)."""
        scheduled = self._scheduled(channel_code, listing_id)
        if scheduled is not None:
            return scheduled[1]
        with self._known_lock:
            known = self._known.get(listing_id)
        if known is None:
            return None
        return known.pushed_action or known.wanted_action

    def _baseline(
        self, channel_code: str, listing_id: int, scheduled: tuple[int, PushAction] | None | bool = True
    ) -> tuple[int | None, PushAction | None, bool]:
        """(qty, action, settled) the marketplace has or will have, newest first.
        `scheduled`: the worker's queued value when the caller already asked (True: ask)."""
        if scheduled is True:
            scheduled = self._scheduled(channel_code, listing_id)
        if isinstance(scheduled, tuple):
            return scheduled[0], scheduled[1], True
        with self._known_lock:
            known = self._known.get(listing_id)
        if known is None:
            return None, None, False
        # Any durable outcome counts (error and locked too: Rule 6, not retried forever;
        # pending means parked in the retry queue, which owns that value).
        return known.wanted_qty, known.wanted_action, True

    def _apply(
        self,
        snapshot: StockSnapshot,
        *,
        trigger: str,
        events: Mapping[int, list[int]] | None = None,
        ticket: Ticket | None = None,
        force: bool = False,
        force_ids: frozenset[int] = frozenset(),
        channels: frozenset[str] | None = None,
        dry_run: bool = False,
        report: ResyncReport | None = None,
        audit: _Audit | None = None,
        repair: bool = False,
        erp_spans: tuple[Span, ...] = (),
    ) -> set[int]:
        """Compute, diff and hand changed listings to the workers. Caller holds _flush_lock.

        `repair` (the safety net) also re-pushes listings whose transient retries ran out
        and listings whose last accepted value is not the wanted one. Returns the ids of
        the listings that got a result (a live listing on an enabled channel)."""
        handled: set[int] = set()
        channel_codes = {c.id: c.code for c in snapshot.channels.values()}
        listings = {listing.id: listing for listing in snapshot.listings}
        previous: dict[int, PushAction] = {}
        for listing in snapshot.listings:
            action = self._previous_action(channel_codes.get(listing.channel_id, ""), listing.id)
            if action is not None:
                previous[listing.id] = action
        results = self._compute(snapshot, previous)
        self._handle_oversold(snapshot, results, report)
        for result in results:
            code = result.channel_code
            if code in self.settings.disabled_channels or (channels is not None and code not in channels):
                continue
            if report is not None:
                report.checked += 1
            handled.add(result.listing_id)
            scheduled = self._scheduled(code, result.listing_id)
            old_qty, old_action, settled = self._baseline(code, result.listing_id, scheduled)
            forced = force or result.listing_id in force_ids or (repair and self._needs_repair(result.listing_id))
            unchanged = settled and old_qty == result.quantity and (
                old_action == result.action
                # a listing switched back on (or about to be) that keeps its number
                or (old_action in BACK_IN_STOCK and result.action is PushAction.SET)
            )
            if unchanged and not forced:
                if scheduled is not None and ticket is not None and not dry_run:
                    # The value is on its way already: this flush's cursor waits for it too.
                    self._worker(code, result.marketplace).attach(result.listing_id, ticket, scheduled)
                if report is not None:
                    report.unchanged += 1
                if audit is not None and old_qty is not None and old_action is not None:
                    self._queue_audit(audit, result, listings, old_qty, old_action)
                continue
            meta = self._meta(result, snapshot, listings)
            reason = "first" if old_qty is None else ("changed" if not unchanged else "forced")
            if trigger in ("retry", "drift") and unchanged:
                reason = trigger
            if report is not None:
                report.changes.append(
                    Change(
                        listing_id=result.listing_id,
                        channel_code=code,
                        marketplace=result.marketplace,
                        sku=meta.sku,
                        channel_sku=meta.channel_sku,
                        old_qty=old_qty,
                        old_action=str(old_action) if old_action else None,
                        new_qty=result.quantity,
                        action=str(result.action),
                        reason=reason,
                        oversold=result.oversold,
                    )
                )
            if dry_run:
                continue
            job = Job(
                update=StockUpdate(
                    listing_id=result.listing_id,
                    sku=meta.channel_sku,
                    quantity=result.quantity,
                    action=result.action,
                    external_id=meta.external_id,
                ),
                meta=meta,
                trigger=trigger,
                events=list((events or {}).get(result.product_id, []))[-50:],
                explanation=partial(_explanation_dict, result),
                tickets=[ticket] if ticket is not None else [],
                erp_spans=erp_spans,
            )
            if ticket is not None:
                ticket.add()
            self._worker(code, result.marketplace).submit(job)
        return handled

    def _compute(self, snapshot: StockSnapshot, previous: Mapping[int, PushAction]) -> Sequence[ListingResultLike]:
        return self.deps.compute(
            snapshot,
            snapshot.taken_at,
            previous_actions=previous,
            zero_stock_defaults=self.deps.zero_stock_defaults,
            marketplace_caps=self.deps.marketplace_caps,
        )

    def _needs_repair(self, listing_id: int) -> bool:
        with self._known_lock:
            known = self._known.get(listing_id)
        if known is None:
            return False
        if known.state is SyncState.ERROR:
            return known.gave_up
        if known.state in (SyncState.SYNCED, SyncState.DEACTIVATED):
            return known.pushed_qty != known.wanted_qty
        return False  # pending: the retry queue owns it; locked: Rule 6

    def _meta(
        self, result: ListingResultLike, snapshot: StockSnapshot, listings: Mapping[int, Any]
    ) -> ListingMeta:
        listing = listings.get(result.listing_id)
        product = snapshot.products.get(result.product_id)
        return ListingMeta(
            listing_id=result.listing_id,
            channel_code=result.channel_code,
            marketplace=result.marketplace,
            product_id=result.product_id,
            sku=(product.default_code if product and product.default_code else result.sku) or "",
            channel_sku=listing.channel_sku if listing is not None else result.sku,
            external_id=result.external_id,
        )

    def _queue_audit(
        self,
        audit: _Audit,
        result: ListingResultLike,
        listings: Mapping[int, Any],
        qty: int,
        action: PushAction,
    ) -> None:
        listing = listings.get(result.listing_id)
        sku = listing.channel_sku if listing is not None else result.sku
        audit.by_channel.setdefault(result.channel_code, []).append(
            (result.listing_id, result.product_id, sku, result.external_id, qty, action)
        )

    def _handle_oversold(
        self,
        snapshot: StockSnapshot,
        results: Sequence[ListingResultLike],
        report: ResyncReport | None,
    ) -> None:
        oversold = {r.product_id for r in results if r.oversold}
        for product_id in sorted(oversold):
            product = snapshot.products.get(product_id)
            sku = (product.default_code if product else None) or f"product #{product_id}"
            if report is not None:
                report.oversold.append(sku)
            if product_id in self._open_alerts:
                continue
            message = f"OVERSOLD: free stock of {sku} is negative in the ERP; publishing 0 everywhere"
            self.store.open_alert(OVERSOLD, product_id, sku, message)
            self._open_alerts.add(product_id)
            log.error(message)
        for product_id in snapshot.product_ids - oversold:
            if product_id in self._open_alerts:
                self.store.clear_alert(OVERSOLD, product_id)
                self._open_alerts.discard(product_id)
                log.warning("product #%s is no longer oversold", product_id)

    # -- workers and outcomes --------------------------------------------------------------

    def _worker(self, channel_code: str, marketplace: str) -> ChannelWorker:
        with self._workers_lock:
            worker = self._workers.get(channel_code)
            if worker is None:
                factory = self.deps.adapter_factory
                worker = ChannelWorker(
                    channel_code,
                    lambda: factory(channel_code, marketplace),
                    record=self._record,
                    expected=self._expected,
                    times=self.times,
                    tracer=lambda: self.tracer,
                )
                if not self._stop.is_set():  # a flush finishing during stop() starts no pushes
                    worker.start()
                self._workers[channel_code] = worker
            return worker

    def metrics(self) -> dict[str, Any]:
        """Counters and per-phase times (ms) for status/health JSON and benchmarks.

        Phases: coalesce (wake-up -> flush start: no wait on an idle engine, else the
        running flush), feed_read (with an early snapshot running beside it), flush_lock_wait, snapshot (ERP
        read), compute (compute + diff + hand-over), queue_wait (hand-over -> worker takes
        it), rate_limit_wait (the marketplace's documented budget, in the adapter's token
        bucket), http (the rest of the push), record (durable outcome in the state file).
        """
        with self._workers_lock:
            workers = dict(self._workers)
        return {
            "flushes": self.flushes,
            "fast_reads": self.fast_reads,
            "events_read": self.events_read,
            "pushed": {code: w.pushed for code, w in workers.items()},
            "replaced": {code: w.replaced for code, w in workers.items()},
            "status_writes": self._publisher.writes if self._publisher else 0,
            "phases_ms": self.times.summary(),
        }

    def workers(self) -> dict[str, ChannelWorker]:
        with self._workers_lock:
            return dict(self._workers)

    def _expected(self, listing_id: int) -> int | None:
        with self._known_lock:
            known = self._known.get(listing_id)
            if known is None:
                return None
            return known.remote_qty if known.remote_qty is not None else known.pushed_qty

    def _backoff(self, attempts: int) -> float:
        return float(min(self.settings.retry_max_s, self.settings.retry_base_s * 2 ** max(0, attempts - 1)))

    def _due(self, now: float, res: PushResult, attempts: int, deferred: bool) -> float:
        """When a retry goes: never before the marketplace's own `retry_at`, and for plain
        failures never before the engine's backoff either (an adapter's default 30 s
        would otherwise spend all attempts of a 5-minute outage in minutes). A deferred
        hold or a compare-and-set answer (the marketplace's value is known) goes at
        `retry_at`: nothing is wrong, the next push just needs a fresh ERP read."""
        floor = now + 1.0
        if deferred or res.applied_quantity is not None:
            return max(res.retry_at or floor, floor)
        return max(res.retry_at or 0.0, now + self._backoff(attempts), floor)

    def _record(
        self,
        channel_code: str,
        jobs: Sequence[Job],
        results: Sequence[PushResult],
        duration_ms: float,
        done: Callable[[bool], None] | None = None,
    ) -> None:
        """Turn push results into outcomes (on the channel's worker thread): the in-memory
        baseline now, the state file by the outcome writer, then `done(ok)`."""
        now = self.deps.clock()
        outcomes: list[PushRecord] = []
        attempts_after: dict[int, int] = {}
        remote: dict[int, int] = {}  # listing -> what the marketplace said it holds (CAS)
        for job, res in zip(jobs, results):
            lid = job.listing_id
            qty, action = job.wanted
            with self._known_lock:
                known = self._known.get(lid)
            old = known.pushed_qty if known else None
            attempts = 0
            due: float | None = None
            deferred = False
            category: str | None = None
            accepted = False
            message = res.message
            if res.outcome is PushOutcome.OK:
                state = SyncState.DEACTIVATED if action in _ZERO_ACTIONS else SyncState.SYNCED
                result = "ok"
                accepted = True
            elif res.outcome is PushOutcome.RETRY:
                # A deferred hold (eBay's per-listing revision budget) is not a failure:
                # it waits for its slot and never counts toward giving up.
                deferred = res.deferred
                attempts = (known.attempts if known else 0) + (0 if deferred else 1)
                if res.applied_quantity is not None:
                    remote[lid] = res.applied_quantity
                if not deferred and attempts >= self.settings.max_attempts:
                    state, result = SyncState.ERROR, "gave_up"
                    message = f"gave up after {attempts} attempts: {message}"
                    category = GAVE_UP
                    attempts = 0
                else:
                    state, result = SyncState.PENDING, "retry"
                    due = self._due(now, res, attempts, deferred)
            else:
                state = SyncState.LOCKED if res.category is FailureCategory.LOCKED else SyncState.ERROR
                result = "failed"
                category = res.category.value if res.category else FailureCategory.OTHER.value
            attempts_after[lid] = attempts
            outcomes.append(
                PushRecord(
                    meta=job.meta,
                    quantity=qty,
                    action=action,
                    state=state,
                    result=result,
                    message=message,
                    error_category=category,
                    old_qty=old,
                    events=job.events,
                    trigger=job.trigger,
                    duration_ms=duration_ms,
                    retry_due_at=due,
                    explanation=job.explanation,
                    accepted=accepted,
                    deferred=deferred and result == "retry",
                )
            )
        with self._known_lock:
            for o in outcomes:
                lid = o.meta.listing_id
                prior = self._known.get(lid)
                if o.accepted:
                    seen: int | None = None
                else:
                    seen = remote.get(lid, prior.remote_qty if prior else None)
                self._known[lid] = _Known(
                    wanted_qty=o.quantity,
                    wanted_action=o.action,
                    state=o.state,
                    pushed_qty=o.quantity if o.accepted else (prior.pushed_qty if prior else None),
                    pushed_action=o.action if o.accepted else (prior.pushed_action if prior else None),
                    attempts=attempts_after[lid],
                    remote_qty=seen,
                    gave_up=o.result == "gave_up",
                )

        def written(ok: bool) -> None:
            if done is not None:
                done(ok)  # tickets first: a slow listener must not hold the cursor back
            if ok:
                self._after_record(outcomes, now)

        self._writer.submit(outcomes, now, written)

    def _after_record(self, outcomes: Sequence[PushRecord], now: float) -> None:
        for o in outcomes:
            level = logging.INFO if o.result == "ok" else logging.WARNING
            log.log(
                level,
                "%s %s (%s): %s -> %s %s%s",
                o.meta.channel_code, o.meta.sku, o.meta.channel_sku, o.old_qty, o.quantity,
                o.action, "" if o.result == "ok" else f" [{o.state}] {o.message}",
            )
            for listener in list(self._listeners):
                try:
                    listener(o)
                except Exception:  # a printing bug must not stop the pushes
                    log.debug("listener failed", exc_info=True)
        if self._publisher is not None:
            notes = []
            with self._known_lock:
                for o in outcomes:
                    known = self._known.get(o.meta.listing_id)
                    notes.append(
                        _StatusNote(
                            o.meta.listing_id,
                            o.state,
                            known.pushed_qty if known else None,
                            o.message if o.result != "ok" else None,
                            now,
                        )
                    )
            self._publisher.publish(notes)

    def _statuses(self, notes: Sequence[_StatusNote]) -> list[Any]:
        """The write-back batch: one common last_sync_at (the newest), so that listings with
        equal values share one ERP write."""
        factory = self.deps.status_factory
        assert factory is not None
        at = datetime.fromtimestamp(max(n.at for n in notes))
        return [factory(n.listing_id, n.state, n.pushed_qty, at, n.error) for n in notes]

    # -- resync, retry, audit ---------------------------------------------------------------

    def resync(
        self,
        skus: Sequence[str] | None = None,
        channels: Sequence[str] | None = None,
        *,
        force: bool = False,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
        audit: bool = False,
        trigger: str = "resync",
        position: Any = None,
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
        channel_set = frozenset(channels) if channels else None
        source = self.deps.source
        with self._cond:
            self._busy_jobs += 1
        ticket = self._tracker.open(position) if position is not None else Ticket()
        audit_state = _Audit() if audit and not dry_run else None
        try:
            if skus:
                with self._flush_lock:
                    found = source.product_ids_for_skus(list(skus))
                report.unknown_skus = [s for s in skus if s not in found]
                product_ids = sorted(set(found.values()))
                pages: Iterable[Sequence[int]] = [product_ids] if product_ids else []
            else:
                with self._flush_lock:
                    product_ids = sorted(set(source.listed_product_ids()))
                size = self.settings.resync_page_size or 500
                pages = [product_ids[i : i + size] for i in range(0, len(product_ids), size)]
            total, done = len(product_ids), 0
            for page in pages:
                with self._flush_lock:
                    snapshot = source.snapshot(list(page))
                    self._apply(
                        snapshot, trigger=trigger, ticket=ticket, force=force, channels=channel_set,
                        dry_run=dry_run, report=report, audit=audit_state, repair=repair,
                    )
                done += len(page)
                if progress is not None:
                    progress(done, total)
            report.products = total
        except BaseException:
            if position is not None:
                self._tracker.discard(ticket)
            raise
        finally:
            with self._cond:
                self._busy_jobs -= 1
        if audit_state is not None and audit_state.by_channel:
            try:
                self._correct_drift(audit_state, report, ticket)
            except Exception as exc:  # the drift audit is a bonus; the resync itself is done
                report.errors.append(f"drift audit failed: {exc}")
        ticket.seal()
        if not dry_run:
            self._await_outcomes(ticket, report, wait_s)
        report.finished_at = time.time()
        return report

    def _await_outcomes(self, ticket: Ticket, report: ResyncReport, wait_s: float | None) -> None:
        if not report.changes:
            return
        report.complete = ticket.wait(self.settings.wait_outcomes_s if wait_s is None else wait_s)
        rows = {r.listing_id: r for r in self.store.listings(ids=[c.listing_id for c in report.changes])}
        for change in report.changes:
            row = rows.get(change.listing_id)
            if row is not None and row.wanted_qty == change.new_qty and row.wanted_action == change.action:
                change.result = row.state
                change.message = row.last_error
            else:
                change.result = "pending"

    def audit_drift(self, reads: Mapping[str, int] | None = None) -> ResyncReport:
        """The scheduled drift audit: read back a slice of each channel's settled listings
        and re-push (from a fresh ERP read) those the marketplace changed behind our back.

        Each run reads at most `reads[marketplace]` listings per channel (default
        AUDIT_READS, e.g. Etsy 20: two GETs each, every 30 min = 1,920 of its 10,000 daily
        calls), continuing where the previous run stopped, so every listing is checked in
        turn. Live pushes come first: a channel with pushes queued is left for the next run.
        """
        budget = dict(AUDIT_READS)
        budget.update(reads or {})
        report = ResyncReport()
        audit = _Audit()
        by_channel: dict[str, list[Any]] = {}
        for row in self.store.listings():
            if row.channel_code in self.settings.disabled_channels or row.wanted_qty is None:
                continue
            if row.state not in (SyncState.SYNCED.value, SyncState.DEACTIVATED.value) or not row.wanted_action:
                continue
            by_channel.setdefault(row.channel_code, []).append(row)
        for code, rows in by_channel.items():
            rows.sort(key=lambda r: r.listing_id)
            limit = max(0, budget.get(rows[0].marketplace, budget["*"]))
            after = self._audit_after.get(code, 0)
            start = next((i for i, r in enumerate(rows) if r.listing_id > after), 0)
            chosen = (rows[start:] + rows[:start])[:limit]
            for r in chosen:
                if self._scheduled(code, r.listing_id) is None:
                    audit.by_channel.setdefault(code, []).append(
                        (r.listing_id, r.product_id, r.channel_sku, r.external_id, int(r.wanted_qty),
                         PushAction(r.wanted_action))
                    )
        ticket = Ticket()
        if audit.by_channel:
            self._correct_drift(audit, report, ticket, yield_to_pushes=True)
        report.checked = sum(self._audit_read.values())
        ticket.seal()
        report.finished_at = time.time()
        return report

    def _correct_drift(
        self, audit: _Audit, report: ResyncReport, ticket: Ticket, yield_to_pushes: bool = False
    ) -> None:
        """Read unchanged listings back; force a fresh push where the marketplace drifted."""
        drifted: set[int] = set()
        products: set[int] = set()
        self._audit_read = {}

        def check(code: str) -> list[tuple[int, int]]:
            worker = self.workers().get(code)
            adapter = worker.adapter() if worker else None
            if adapter is None:
                return []
            found: list[tuple[int, int]] = []
            items = audit.by_channel[code]
            step = 10 if yield_to_pushes else 50
            for start in range(0, len(items), step):
                if yield_to_pushes and worker is not None and worker.backlog():
                    break  # reads share the account's rate budget: live pushes go first
                chunk = items[start : start + step]
                self._audit_after[code] = chunk[-1][0]
                self._audit_read[code] = self._audit_read.get(code, 0) + len(chunk)
                remote = {r.sku: r for r in adapter.read([(sku, ext) for _l, _p, sku, ext, _q, _a in chunk])}
                for lid, pid, sku, _ext, qty, action in chunk:
                    seen = remote.get(sku)
                    if seen is None or not seen.found:
                        continue
                    if action in _ZERO_ACTIONS:
                        drift = bool(seen.active) and (seen.quantity or 0) > 0
                    else:
                        drift = seen.quantity is not None and seen.quantity != qty
                    if drift:
                        log.warning("drift on %s %s: marketplace has %s, we pushed %s", code, sku, seen.quantity, qty)
                        found.append((lid, pid))
            return found

        codes = list(audit.by_channel)
        with ThreadPoolExecutor(max_workers=max(1, len(codes)), thread_name_prefix="audit") as pool:
            futures = {code: pool.submit(check, code) for code in codes}
            for code, future in futures.items():
                try:
                    for lid, pid in future.result():
                        drifted.add(lid)
                        products.add(pid)
                except Exception as exc:  # a channel that cannot be read is skipped, not fatal
                    report.errors.append(f"drift audit of {code} failed: {exc}")
        if not drifted:
            return
        with self._flush_lock:
            snapshot = self.deps.source.snapshot(sorted(products))
            self._apply(snapshot, trigger="drift", ticket=ticket, force_ids=frozenset(drifted), report=report)
        report.drifted = sorted(drifted)

    def retry_due(self) -> int:
        """Re-read and push the retry queue's due listings; returns how many were due."""
        due = [
            r for r in self.store.due_retries(self.deps.clock())
            if self._scheduled(r.channel_code, r.listing_id) is None
        ]
        if not due:
            return 0
        with self._cond:
            self._busy_jobs += 1
        try:
            with self._flush_lock:
                snapshot = self.deps.source.snapshot(sorted({r.product_id for r in due}))
                handled = self._apply(snapshot, trigger="retry", force_ids=frozenset(r.listing_id for r in due))
        finally:
            with self._cond:
                self._busy_jobs -= 1
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

    # -- explain ---------------------------------------------------------------------------

    def explain(self, sku: str, channel: str | None = None) -> list[dict[str, Any]]:
        """How each listing of `sku` got its number, read live from the ERP."""
        with self._flush_lock:
            found = self.deps.source.product_ids_for_skus([sku])
            product_ids = set(found.values()) or {
                r.product_id for r in self.store.listings(sku=sku)
            }
            if not product_ids:
                return []
            snapshot = self.deps.source.snapshot(sorted(product_ids))
            listings = {listing.id: listing for listing in snapshot.listings}
            previous = {}
            for listing in snapshot.listings:
                code = next((c.code for c in snapshot.channels.values() if c.id == listing.channel_id), "")
                action = self._previous_action(code, listing.id)
                if action is not None:
                    previous[listing.id] = action
            results = self._compute(snapshot, previous)
        stored = {r.listing_id: r for r in self.store.listings(ids=[r.listing_id for r in results])}
        out = []
        for result in results:
            if channel is not None and result.channel_code != channel:
                continue
            meta = self._meta(result, snapshot, listings)
            if sku not in (meta.sku, meta.channel_sku):
                continue
            row = stored.get(result.listing_id)
            out.append(
                {
                    "source": "live",
                    "channel": result.channel_code,
                    "marketplace": result.marketplace,
                    "listing_id": result.listing_id,
                    "sku": meta.sku,
                    "channel_sku": meta.channel_sku,
                    "quantity": result.quantity,
                    "action": str(result.action),
                    "oversold": result.oversold,
                    "text": result.explanation.render(),
                    "explanation": _explanation_dict(result),
                    "last_pushed_qty": row.pushed_qty if row else None,
                    "state": row.state if row else None,
                    "last_error": row.last_error if row else None,
                }
            )
        return out


def _delivered_by_int(position: Any, event_id: int) -> bool:
    """For a feed whose position is the last event id read (no `delivered` of its own)."""
    return isinstance(position, int) and event_id <= position


def _explanation_dict(result: ListingResultLike) -> dict[str, Any] | None:
    try:
        data = result.explanation.to_dict()
        data.setdefault("text", result.explanation.render())
        return data
    except Exception:  # an explanation must never stop a push
        log.debug("explanation of listing %s failed", result.listing_id, exc_info=True)
        return None
