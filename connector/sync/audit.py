"""The drift audit: read settled listings back from their marketplace and re-push (from a
fresh ERP read) those the marketplace changed behind our back.

Two uses: a resync with `audit` queues every unchanged listing it met (`AuditQueue`), and
the scheduled audit (`DriftAudit.scheduled_queue`) picks a budgeted slice of each channel's
settled listings, continuing where the previous run stopped.

Usage::

    queue = audit.scheduled_queue(store.listings(), reads={"etsy": 20}, scheduled=workers.scheduled)
    drifted, products = audit.check(queue, report, yield_to_pushes=True)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from connector.state.rows import ListingRow
from connector.stock.model import PushAction, SyncState
from connector.sync.plan import ZERO_ACTIONS, Scheduled
from connector.sync.report import ResyncReport
from connector.sync.workers import ChannelWorkers

log = logging.getLogger("connector.sync.engine")

# Listings the scheduled drift audit reads back per channel and run ("*": any other
# marketplace). Etsy reads cost two calls each against a 10,000/day budget; Amazon's and
# eBay's read share the push rate bucket; the rest allow far more.
AUDIT_READS: dict[str, int] = {"*": 100, "etsy": 20, "amazon": 30, "ebay": 50}


@dataclass(frozen=True, slots=True)
class AuditItem:
    """One listing to read back, with the value we last pushed."""

    listing_id: int
    product_id: int
    channel_sku: str
    external_id: str | None
    qty: int
    action: PushAction


@dataclass(slots=True)
class AuditQueue:
    """Listings to read back, per channel."""

    by_channel: dict[str, list[AuditItem]] = field(default_factory=dict)

    def add(self, channel_code: str, item: AuditItem) -> None:
        self.by_channel.setdefault(channel_code, []).append(item)


def drifted(item: AuditItem, found: bool, active: bool | None, quantity: int | None) -> bool:
    """The marketplace no longer shows what we pushed (pure)."""
    if not found:
        return False
    if item.action in ZERO_ACTIONS:
        return bool(active) and (quantity or 0) > 0
    return quantity is not None and quantity != item.qty


class DriftAudit:
    """Where each channel's scheduled audit stopped, and how much the last run read."""

    def __init__(self, workers: ChannelWorkers, disabled: frozenset[str] = frozenset()) -> None:
        self._workers = workers
        self._disabled = disabled
        self._after: dict[str, int] = {}  # channel -> last listing id the audit read
        self.read: dict[str, int] = {}  # channel -> listings read by the last check

    def scheduled_queue(
        self,
        rows: Iterable[ListingRow],
        reads: Mapping[str, int] | None,
        scheduled: Callable[[str, int], Scheduled | None],
    ) -> AuditQueue:
        """Each channel's next slice of settled listings, at most `reads[marketplace]`
        (default AUDIT_READS), leaving out listings with a push on its way."""
        budget = dict(AUDIT_READS)
        budget.update(reads or {})
        by_channel: dict[str, list[ListingRow]] = {}
        for row in rows:
            if row.channel_code in self._disabled or row.wanted_qty is None:
                continue
            if row.state not in (SyncState.SYNCED.value, SyncState.DEACTIVATED.value) or not row.wanted_action:
                continue
            by_channel.setdefault(row.channel_code, []).append(row)
        queue = AuditQueue()
        for code, chosen_rows in by_channel.items():
            chosen_rows.sort(key=lambda r: r.listing_id)
            limit = max(0, budget.get(chosen_rows[0].marketplace, budget["*"]))
            after = self._after.get(code, 0)
            start = next((i for i, r in enumerate(chosen_rows) if r.listing_id > after), 0)
            for r in (chosen_rows[start:] + chosen_rows[:start])[:limit]:
                if scheduled(code, r.listing_id) is None:
                    assert r.wanted_qty is not None and r.wanted_action is not None
                    queue.add(code, AuditItem(r.listing_id, r.product_id, r.channel_sku, r.external_id,
                                              int(r.wanted_qty), PushAction(r.wanted_action)))
        return queue

    def check(
        self, queue: AuditQueue, report: ResyncReport, yield_to_pushes: bool = False
    ) -> tuple[set[int], set[int]]:
        """Read the queued listings back, every channel at once; returns (drifted listing
        ids, their product ids). A channel that cannot be read is reported, not fatal."""
        self.read = {}
        drifted_ids: set[int] = set()
        products: set[int] = set()
        codes = list(queue.by_channel)
        with ThreadPoolExecutor(max_workers=max(1, len(codes)), thread_name_prefix="audit") as pool:
            futures = {code: pool.submit(self._check_channel, code, queue.by_channel[code], yield_to_pushes)
                       for code in codes}
            for code, future in futures.items():
                try:
                    for lid, pid in future.result():
                        drifted_ids.add(lid)
                        products.add(pid)
                except Exception as exc:  # a channel that cannot be read is skipped, not fatal
                    report.errors.append(f"drift audit of {code} failed: {exc}")
        return drifted_ids, products

    def _check_channel(self, code: str, items: list[AuditItem], yield_to_pushes: bool) -> list[tuple[int, int]]:
        worker = self._workers.get(code)
        adapter = worker.adapter() if worker else None
        if adapter is None:
            return []
        found: list[tuple[int, int]] = []
        step = 10 if yield_to_pushes else 50
        for start in range(0, len(items), step):
            if yield_to_pushes and worker is not None and worker.backlog():
                break  # reads share the account's rate budget: live pushes go first
            chunk = items[start : start + step]
            self._after[code] = chunk[-1].listing_id
            self.read[code] = self.read.get(code, 0) + len(chunk)
            remote = {r.sku: r for r in adapter.read([(i.channel_sku, i.external_id) for i in chunk])}
            for item in chunk:
                seen = remote.get(item.channel_sku)
                if seen is None or not drifted(item, seen.found, seen.active, seen.quantity):
                    continue
                log.warning("drift on %s %s: marketplace has %s, we pushed %s",
                            code, item.channel_sku, seen.quantity, item.qty)
                found.append((item.listing_id, item.product_id))
        return found
