"""`explain`: how each listing of a SKU got its number, read live from the ERP.

It uses the plan's own steps (previous actions, the bound computation, listing names), so
what it shows is what a flush would compute; it pushes nothing and writes nothing.

Usage::

    explain_sku(source, bind_compute(compute_listings), store, previous_action, "MUG-1")
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from connector.state.store import Store
from connector.stock.model import PushAction
from connector.sync.ledger import ListingLedger
from connector.sync.plan import Compute, listing_meta, previous_actions
from connector.sync.ports import ListingResultLike, StockSourceLike

log = logging.getLogger("connector.sync.engine")


def explanation_dict(result: ListingResultLike) -> dict[str, Any] | None:
    """A result's explanation as JSON-able data (None when building it fails)."""
    try:
        data = result.explanation.to_dict()
        data.setdefault("text", result.explanation.render())
        return data
    except Exception:  # an explanation must never stop a push
        log.debug("explanation of listing %s failed", result.listing_id, exc_info=True)
        return None


def ledger_previous_action(ledger: ListingLedger) -> Callable[[str, int], PushAction | None]:
    """The previous action from the ledger alone (no workers: a one-shot `explain`)."""

    def lookup(_channel_code: str, listing_id: int) -> PushAction | None:
        known = ledger.get(listing_id)
        return known.previous_action if known is not None else None

    return lookup


def explain_sku(
    source: StockSourceLike,
    compute: Compute,
    store: Store,
    previous_action: Callable[[str, int], PushAction | None],
    sku: str,
    channel: str | None = None,
    lock: threading.RLock | None = None,
) -> list[dict[str, Any]]:
    """One dict per listing of `sku` (optionally on `channel`); [] when none. `lock` is the
    engine's flush lock: ERP reads are serialised with the flushes'."""
    guard: AbstractContextManager[Any] = lock if lock is not None else nullcontext()
    with guard:
        found = source.product_ids_for_skus([sku])
        product_ids = set(found.values()) or {r.product_id for r in store.listings(sku=sku)}
        if not product_ids:
            return []
        snapshot = source.snapshot(sorted(product_ids))
        listings = {listing.id: listing for listing in snapshot.listings}
        results = compute(snapshot, previous_actions(snapshot, previous_action))
    stored = {r.listing_id: r for r in store.listings(ids=[r.listing_id for r in results])}
    out = []
    for result in results:
        if channel is not None and result.channel_code != channel:
            continue
        meta = listing_meta(result, snapshot, listings)
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
                "explanation": explanation_dict(result),
                "last_pushed_qty": row.pushed_qty if row else None,
                "state": row.state if row else None,
                "last_error": row.last_error if row else None,
            }
        )
    return out
