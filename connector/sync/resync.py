"""A resync's two steps: recompute products page by page through the hand-over, then wait
for the pushes' outcomes and put them in the report.

Usage::

    report.products = recompute(source, flush_lock, handover.apply, ["MUG-1"], mode, ticket, report)
    await_outcomes(store, ticket, report, 120.0)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from connector.state.store import Store
from connector.sync.audit import AuditQueue
from connector.sync.handover import Apply
from connector.sync.plan import PlanMode
from connector.sync.ports import StockSourceLike
from connector.sync.report import ResyncReport
from connector.sync.tickets import Ticket

RESYNC_PAGE = 500  # products per snapshot of a full resync


def recompute(
    source: StockSourceLike,
    flush_lock: threading.RLock,
    apply: Apply,
    skus: Sequence[str] | None,
    mode: PlanMode,
    ticket: Ticket,
    report: ResyncReport,
    audit_queue: AuditQueue | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Read and hand over the products of `skus` (every listed one without), a page per
    snapshot, each under the flush lock; returns how many products."""
    if skus:
        with flush_lock:
            found = source.product_ids_for_skus(list(skus))
        report.unknown_skus = [s for s in skus if s not in found]
        product_ids = sorted(set(found.values()))
        pages: Iterable[Sequence[int]] = [product_ids] if product_ids else []
    else:
        with flush_lock:
            product_ids = sorted(set(source.listed_product_ids()))
        pages = [product_ids[i : i + RESYNC_PAGE] for i in range(0, len(product_ids), RESYNC_PAGE)]
    total, done = len(product_ids), 0
    for page in pages:
        with flush_lock:
            snapshot = source.snapshot(list(page))
            apply(snapshot, mode, ticket=ticket, report=report, audit=audit_queue)
        done += len(page)
        if progress is not None:
            progress(done, total)
    return total


def await_outcomes(store: Store, ticket: Ticket, report: ResyncReport, wait_s: float) -> None:
    """Wait up to `wait_s` for the report's pushes, then note each change's durable state
    ("pending" while its outcome is not in the state file yet)."""
    if not report.changes:
        return
    report.complete = ticket.wait(wait_s)
    rows = {r.listing_id: r for r in store.listings(ids=[c.listing_id for c in report.changes])}
    for change in report.changes:
        row = rows.get(change.listing_id)
        if row is not None and row.wanted_qty == change.new_qty and row.wanted_action == change.action:
            change.result = row.state
            change.message = row.last_error
        else:
            change.result = "pending"
