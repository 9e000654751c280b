"""The feed cycle: fast pushes of woken products, the change-feed read, its cursor and tickets.

Owns the feed position read so far, the read started early by a wake-up (prefetch), the
fast-path coverage (which announced events a fast read already covered, and which listings
those products have), the cursor tracker and the flush counters. Each ERP read and its
hand-over happen under the engine's flush lock, through the engine's `apply`.

Products a webhook named are read at once (the fast path: one quants read when their
catalog rows are cached) and their values handed to the workers without waiting for the
change-feed read, which runs beside it on its own connection; wake-ups arriving while that
read is out get their fast path too. The feed read then settles: a product whose feed
entries were all announced before one of its fast reads began is covered by that read (the
webhook is sent after the commit), and the cursor only waits for what is scheduled for its
listings; any other product in the feed is read again now (a lost webhook loses nothing).
The cursor moves only by the feed (Rule 2); values reach the workers in the order they
were read (Rule 3).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from connector.state.store import Store
from connector.stock.model import StockSnapshot
from connector.sync.dispatch import PhaseTimes
from connector.sync.handover import Apply
from connector.sync.intake import TriggerIntake
from connector.sync.plan import PlanMode, Trigger
from connector.sync.ports import ChangeFeed, FeedPosition, StockSourceLike
from connector.sync.tickets import CursorTracker, Ticket
from connector.sync.tracing import PushTracer, Span
from connector.sync.workers import ChannelWorkers

log = logging.getLogger("connector.sync.engine")

COVERED_MAX = 10_000  # announced events kept per product before they are simply forgotten
MANUAL = "manual"  # the reason of a channel/listing/allocation edit: config and catalog are read again

FeedRead = tuple[dict[int, list[int]], FeedPosition]


def delivered_by_int(position: FeedPosition, event_id: int) -> bool:
    """For a feed whose position is the last event id read (no `delivered` of its own)."""
    return isinstance(position, int) and event_id <= position


@dataclass(slots=True)
class Coverage:
    """Announced events a fast read covered, per product, and the listings it found."""

    covered: dict[int, set[int]] = field(default_factory=dict)  # product -> event ids
    listings: dict[int, list[tuple[str, int]]] = field(default_factory=dict)  # product -> (channel, listing)


class FeedCycle:
    """One cycle per flusher round; see the module docstring."""

    def __init__(
        self,
        *,
        feed: ChangeFeed | None,
        source: StockSourceLike,
        store: Store,
        intake: TriggerIntake,
        workers: ChannelWorkers,
        apply: Apply,
        flush_lock: threading.RLock,
        times: PhaseTimes,
        tracer: Callable[[], PushTracer | None],
        stopping: threading.Event,
        can_prefetch: Callable[[], bool],
    ) -> None:
        self._feed = feed
        self._source = source
        self._store = store
        self._intake = intake
        self._workers = workers
        self._apply = apply
        self._flush_lock = flush_lock
        self._times = times
        self._tracer = tracer
        self._stop = stopping
        self._can_prefetch = can_prefetch
        self._lock = threading.Lock()  # prefetch, flushing, coverage, the feed pool
        self._coverage = Coverage()
        self._read_pos: FeedPosition = None  # written by the flusher only
        self._prefetch: tuple[FeedPosition, float, Future[FeedRead]] | None = None
        self._flushing = False
        self._feed_reader: ThreadPoolExecutor | None = None
        self._seen_saved_at = 0.0
        feed_name = feed.name if feed else "none"
        self.tracker = CursorTracker(lambda pos: store.set_cursor(feed_name, pos))
        self.flushes = 0  # change-feed reads that found entries (benchmarks: RPC per flush)
        self.fast_reads = 0  # fast-path reads of webhook-named products
        self.events_read = 0  # change-feed entries read

    # -- position ----------------------------------------------------------------------------

    def init_position(self, fresh_sync: bool) -> FeedPosition:
        """Where the change feed starts; on a fresh state file, the position before the sync."""
        feed = self._feed
        if feed is None:
            return None
        stored = self._store.get_cursor(feed.name)
        if stored is not None:
            self._read_pos = stored
            return None
        start = feed.start()
        self._read_pos = start
        if not fresh_sync:
            self._store.set_cursor(feed.name, start)
            return None
        return start

    def coverage(self) -> Coverage:
        """A copy of the fast-path coverage (tests and diagnostics)."""
        with self._lock:
            return Coverage({p: set(e) for p, e in self._coverage.covered.items()},
                            {p: list(ls) for p, ls in self._coverage.listings.items()})

    # -- prefetch ----------------------------------------------------------------------------

    def start_prefetch(self, now: float) -> None:
        """Start reading the change feed right away when the flusher is idle, so the read
        overlaps the hand-over to the flusher and its snapshot (the flusher is the only
        writer of the read position, and it is between cycles)."""
        feed = self._feed
        with self._lock:
            if feed is None or self._flushing or self._prefetch is not None or not self._can_prefetch():
                return
            position = self._read_pos
            self._prefetch = (position, now, self._pool().submit(feed.read, position))

    def _pool(self) -> ThreadPoolExecutor:
        """The feed reader (caller holds `_lock`): webhook threads and the flusher get here."""
        if self._feed_reader is None:
            self._feed_reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed")
        return self._feed_reader

    def close(self) -> None:
        with self._lock:
            reader = self._feed_reader
        if reader is not None:
            reader.shutdown(wait=False)

    # -- the cycle ---------------------------------------------------------------------------

    def run(self, woken: float | None = None) -> bool:
        """One round (see the module docstring). False if nothing new."""
        with self._lock:
            self._flushing = True
        try:
            return self._cycle(woken)
        finally:
            with self._lock:
                self._flushing = False

    def _cycle(self, woken: float | None) -> bool:
        started = time.monotonic()
        feed = self._feed
        source = self._source
        with self._lock:
            prefetch, self._prefetch = self._prefetch, None
        last_wake = self._intake.last_wake
        if feed is None:
            return self._flush_without_feed()
        reading: Future[FeedRead]
        feed_started = time.time()
        if prefetch is not None and prefetch[0] == self._read_pos:
            reading = prefetch[2]
            feed_started -= started - prefetch[1]
            if last_wake > prefetch[1]:
                # A wake-up came after the read started: its entries may be missing from
                # it, so the next cycle runs at once instead of at the next poll.
                self._intake.wake.set()
        else:
            with self._lock:
                reading = self._pool().submit(feed.read, self._read_pos)
        fast_wake = self._intake.fast_wake
        reading.add_done_callback(lambda _f: fast_wake.set())
        fast_found = False
        if woken is not None and not self._intake.pending():
            self._times.add("coalesce", (started - woken) * 1000)  # a plain wake-up -> this read
        while True:
            fast_wake.clear()
            if self._fast_path(woken):
                fast_found = True
            woken = None
            if reading.done() or self._stop.is_set():
                break
            if not self._intake.pending():
                fast_wake.wait(1.0)
        if not reading.done():  # stopping with the ERP still answering: leave it to the replay
            return fast_found
        events, new_pos = reading.result()
        feed_span = (feed_started, time.time())
        tracer = self._tracer()
        if tracer is not None:
            tracer.waited("feed", *feed_span)  # the fast paths do not wait for it
        read = time.monotonic()
        if not events:
            if new_pos != self._read_pos:  # entries with no product: just move on
                self.tracker.open(new_pos).seal()
                self._read_pos = new_pos
            return fast_found
        with self._flush_lock:
            locked = time.monotonic()
            config_edit = MANUAL in (getattr(feed, "last_reasons", None) or ())
            if config_edit:
                # A channel/listing/allocation edit: config and catalog are read again, and
                # no earlier fast read counts for this flush.
                source.refresh_config()
            with self._lock:
                covered = set() if config_edit else {
                    pid for pid, ids in events.items()
                    if ids and set(ids) <= self._coverage.covered.get(pid, set())
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
            ticket = self.tracker.open(new_pos)
            try:
                # Already handed over by a fast path: this flush's ticket waits for those
                # pushes (or newer ones) and hands over nothing itself, so a newer value
                # scheduled meanwhile (a retry, a resync) is never replaced by an older read.
                self._attach(covered, ticket)
                if snapshot is not None:
                    self._apply(snapshot, PlanMode(trigger=Trigger.EVENT), events=events, ticket=ticket,
                                erp_spans=spans)
            except BaseException:
                self.tracker.discard(ticket)
                raise
            ticket.seal()
        self._settled(events, new_pos)
        done = time.monotonic()
        times = self._times
        times.add("feed_read", (read - started) * 1000)
        times.add("flush_lock_wait", (locked - read) * 1000)
        times.add("snapshot", (taken - locked) * 1000)
        times.add("compute", (done - taken) * 1000)  # compute, diff, hand-over to workers
        self._read_pos = new_pos
        self._save_seen(new_pos)
        return True

    def _fast_path(self, woken: float | None) -> bool:
        """Read the woken products now and hand their values over; False if none waited."""
        products, announced, first_wake = self._intake.take()
        if not products:
            return False
        begin = time.monotonic()
        since = first_wake if first_wake is not None else woken
        # the wake-up on the wall clock: where a value's measured delay starts
        origin_at = time.time() - (begin - since) if since is not None else None
        source = self._source
        try:
            with self._flush_lock:
                if any(reason == MANUAL for found in announced.values() for reason in found.values()):
                    # A channel/listing/allocation edit: config and catalog are read again
                    # before this read, not after the cache TTL.
                    source.refresh_config()
                with self._lock:
                    # announced before this read began: the read covers them
                    for pid, found in announced.items():
                        self._coverage.covered.setdefault(pid, set()).update(found)
                begun = time.time()
                snapshot = source.snapshot(sorted(products), cached=True)
                span = (begun, time.time())
                read = time.monotonic()
                self.fast_reads += 1
                self._index_listings(snapshot, announced)
                self._apply(snapshot, PlanMode(trigger=Trigger.EVENT),
                            events={pid: sorted(found) for pid, found in announced.items()},
                            erp_spans=(span,), origin_at=origin_at)
        except BaseException:
            with self._lock:
                for pid, found in announced.items():
                    known = self._coverage.covered.get(pid)
                    if known is not None:
                        known.difference_update(found)
            self._intake.put_back(products, announced, first_wake)
            raise
        times = self._times
        if since is not None:
            times.add("coalesce", (begin - since) * 1000)  # wake-up -> its read starts
        times.add("fast_read", (span[1] - span[0]) * 1000)
        times.add("fast_compute", (time.monotonic() - read) * 1000)
        tracer = self._tracer()
        if tracer is not None:
            tracer.waited("erp", *span)
        return True

    def _flush_without_feed(self) -> bool:
        """No change feed (tests, plain wake-ups): read the woken products and push."""
        products, _announced, _first = self._intake.take()
        if not products:
            return False
        try:
            with self._flush_lock:
                snapshot = self._source.snapshot(sorted(products), cached=True)
                self.flushes += 1
                self._apply(snapshot, PlanMode(trigger=Trigger.MANUAL))
        except BaseException:
            self._intake.put_back(products)
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
        with self._lock:
            self._coverage.listings.update(by_product)

    def _attach(self, product_ids: set[int], ticket: Ticket) -> None:
        """Make `ticket` wait for whatever is scheduled for the listings of `product_ids`."""
        with self._lock:
            listings = [item for pid in product_ids for item in self._coverage.listings.get(pid, ())]
        for code, listing_id in listings:
            worker = self._workers.get(code)
            if worker is not None:
                worker.attach(listing_id, ticket)

    def _settled(self, events: Mapping[int, list[int]], position: FeedPosition) -> None:
        """Forget the coverage of feed entries that are now settled, and of announcements
        the feed had already delivered before their webhook came (it never returns them)."""
        delivered: Callable[[Any, int], bool] = getattr(self._feed, "delivered", None) or delivered_by_int
        with self._lock:
            covered = self._coverage.covered
            for pid, ids in events.items():
                known = covered.get(pid)
                if known is not None:
                    known.difference_update(ids)
            for pid in list(covered):
                known = covered[pid]
                if known:
                    known.difference_update([eid for eid in known if delivered(position, eid)])
                if not known or len(known) > COVERED_MAX:
                    del covered[pid]
                    self._coverage.listings.pop(pid, None)

    def _save_seen(self, position: FeedPosition) -> None:
        """Remember (at most once a second) how far the feed was read, for `status`' lag."""
        feed = self._feed
        now = time.monotonic()
        if feed is None or position is None or now - self._seen_saved_at < 1.0:
            return
        self._seen_saved_at = now
        self._store.set_cursor(f"{feed.name}:seen", position)


