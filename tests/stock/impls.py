"""Both implementations of the formula behind one signature, for tests run on each."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from connector.stock.columns import ColumnarSnapshot
from connector.stock.compute import compute_listings_reference, compute_table
from connector.stock.model import PushAction, StockSnapshot, ZeroStockAction


def compute_fast(
    snapshot: StockSnapshot,
    now: datetime,
    *,
    previous_actions: Mapping[int, PushAction] | None = None,
    zero_stock_defaults: Mapping[str, ZeroStockAction] | None = None,
    listing_ids: Iterable[int] | None = None,
    marketplace_caps: Mapping[str, int] | None = None,
) -> Sequence[Any]:
    """The columnar fast path on a snapshot of records, whatever its size."""
    return compute_table(
        ColumnarSnapshot.from_snapshot(snapshot),
        now,
        previous_actions=previous_actions,
        zero_stock_defaults=zero_stock_defaults,
        listing_ids=listing_ids,
        marketplace_caps=marketplace_caps,
    )


IMPLS: dict[str, Callable[..., Sequence[Any]]] = {
    "reference": compute_listings_reference,
    "fast": compute_fast,
}
