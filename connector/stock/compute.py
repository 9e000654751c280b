"""The published number and action of every listing: the entry point the engine calls.

Two implementations of one formula (DESIGN.md; written out in reference.py):
- reference.py  compute_listings_reference: one listing at a time, records in, records out
                (each with its explanation). The reference, and the cheaper one for the
                few products a trigger names.
- fast.py       compute_table: columns in (columns.py), a ResultTable out (table.py):
                numpy over all listings at once, explanations only when asked for.
tests/stock/test_fast_path.py holds them equal on random shops.

`compute_listings` keeps the engine's signature (a StockSnapshot in, a sequence of
ListingResult-like rows out) and picks: the reference below FAST_FROM listings, the fast
path above (the snapshot's records turned into columns first; a reader that builds
ColumnarSnapshot itself calls compute_table directly and skips that step).

Usage::

    results = compute_listings(snapshot, datetime.now(UTC),
                               previous_actions={12: PushAction.DEACTIVATE})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from connector.stock.columns import ColumnarSnapshot
from connector.stock.fast import compute_table
from connector.stock.locations import contributing_locations, contributing_roots
from connector.stock.model import PushAction, StockSnapshot, ZeroStockAction
from connector.stock.plans import zero_action
from connector.stock.reference import compute_listings_reference
from connector.stock.result import ListingResult
from connector.stock.table import ResultRow, ResultTable

__all__ = [
    "FAST_FROM",
    "compute_listings",
    "compute_listings_reference",
    "compute_table",
    "contributing_locations",
    "contributing_roots",
    "zero_action",
]

# Below this many listings numpy's fixed cost per call (~50 array operations) is more
# than the per-listing loop's few microseconds a listing: a trigger's handful of products.
FAST_FROM = 2_000


def compute_listings(
    snapshot: StockSnapshot,
    now: datetime,
    *,
    previous_actions: Mapping[int, PushAction] | None = None,
    zero_stock_defaults: Mapping[str, ZeroStockAction] | None = None,
    listing_ids: Iterable[int] | None = None,
    marketplace_caps: Mapping[str, int] | None = None,
) -> Sequence[ListingResult] | Sequence[ResultRow]:
    """One result per active listing of an active channel whose product is in the
    snapshot, in the snapshot's listing order (restricted to `listing_ids` if given).

    `previous_actions`: the last action pushed per listing id (turns SET into REACTIVATE
    after a DEACTIVATE, RELIST after an END). `zero_stock_defaults`: marketplace -> default
    zero-stock behaviour for channels that do not set their own (fallback: push 0).
    `marketplace_caps`: marketplace -> the most it stores for one listing (the adapters'
    `max_quantity`, e.g. bol 999); capped like max_qty, cap source "marketplace max".

    Usage: ``compute_listings(snap, now, listing_ids={12})[0].explanation.render()``
    """
    if len(snapshot.listings) < FAST_FROM:
        return compute_listings_reference(
            snapshot,
            now,
            previous_actions=previous_actions,
            zero_stock_defaults=zero_stock_defaults,
            listing_ids=listing_ids,
            marketplace_caps=marketplace_caps,
        )
    table: ResultTable = compute_table(
        ColumnarSnapshot.from_snapshot(snapshot),
        now,
        previous_actions=previous_actions,
        zero_stock_defaults=zero_stock_defaults,
        listing_ids=listing_ids,
        marketplace_caps=marketplace_caps,
    )
    return table
