"""The fast path's results: compact columns, rows on demand, explanations on demand.

A ResultTable holds, per result, the row of its listing in the input columns, the
published number, the action (a small code) and the oversold flag: ~18 bytes a listing
instead of two records (~400 bytes). It is a Sequence of ResultRow, each made when read, so
code written for list[ListingResult] keeps working; code that handles a million results
reads the columns (`listing_ids`, `quantity`, `actions`, ...) instead.

An explanation is worked out from the inputs when asked for: the reference formula
(reference.py) runs over the slice of the inputs that is the listing's product (its
listings, quants and allocations) with the configuration's scopes already built, so it is
the reference's own explanation, and costs one product's work. The last few products'
explanations are kept, since callers ask for a product's listings one after another.

Usage::

    table = compute_table(cols, now)
    changed = table.quantity != old_quantity          # numpy, all rows at once
    for i in np.flatnonzero(changed): row = table[i]; row.explanation.render()
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, overload

import numpy as np

from connector.stock.model import Allocation, PushAction, StockSnapshot
from connector.stock.plans import ChannelContext
from connector.stock.result import Explanation, ListingResult

if TYPE_CHECKING:
    from connector.stock.baseline import Baseline
    from connector.stock.columns import Bools, ColumnarSnapshot, Int64s

ACTIONS: tuple[PushAction, ...] = tuple(PushAction)  # code -> action
ACTION_CODE: dict[PushAction, int] = {a: i for i, a in enumerate(ACTIONS)}
_KEPT_PRODUCTS = 256  # explained products kept (a product's listings are asked together)


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One listing's number and action (the fields of ListingResult); `explanation` is
    built when read.

    Usage: ``(row.sku, row.quantity, row.action)``, ``row.explanation.render()``
    """

    listing_id: int
    channel_id: int
    channel_code: str
    marketplace: str
    product_id: int
    sku: str
    external_id: str | None
    quantity: int
    action: PushAction
    oversold: bool
    table: ResultTable = field(repr=False, compare=False)
    index: int = field(repr=False, compare=False)

    @property
    def explanation(self) -> Explanation:
        return self.table.explanation(self.index)


class ResultTable(Sequence[ResultRow]):
    """compute_table's results (see the module docstring). Read-only."""

    def __init__(
        self,
        snap: ColumnarSnapshot,
        context: ChannelContext,
        now: datetime,
        previous: Mapping[int, PushAction] | Baseline,
        rows: Int64s,
        quantity: Int64s,
        action: np.ndarray,
        oversold: Bools,
    ) -> None:
        self.snapshot = snap
        self.context = context
        self.now = now
        self.previous = previous
        self.rows = rows  # index of each result's listing in snap.listings
        self.quantity = quantity
        self.actions = action  # codes into ACTIONS
        self.oversold = oversold
        for a in (rows, quantity, action, oversold):
            a.setflags(write=False)
        self._explained: OrderedDict[int, dict[int, ListingResult]] = OrderedDict()
        self._lock = threading.Lock()
        self._by_product: tuple[np.ndarray, np.ndarray] | None = None
        self._quants_by_product: tuple[np.ndarray, np.ndarray] | None = None
        self._allocations_by_product: dict[int, list[Allocation]] | None = None

    # -- columns ----------------------------------------------------------------------------
    @property
    def listing_ids(self) -> Int64s:
        return self.snapshot.listings.id[self.rows]

    @property
    def channel_ids(self) -> Int64s:
        return self.snapshot.listings.channel_id[self.rows]

    @property
    def product_ids(self) -> Int64s:
        return self.snapshot.listings.product_id[self.rows]

    @property
    def nbytes(self) -> int:
        return self.rows.nbytes + self.quantity.nbytes + self.actions.nbytes + self.oversold.nbytes

    def action_of(self, i: int) -> PushAction:
        return ACTIONS[int(self.actions[i])]

    # -- Sequence ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, i: int) -> ResultRow: ...
    @overload
    def __getitem__(self, i: slice) -> list[ResultRow]: ...
    def __getitem__(self, i: int | slice) -> ResultRow | list[ResultRow]:
        if isinstance(i, slice):
            return [self._row(k) for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._row(i)

    def __iter__(self) -> Iterator[ResultRow]:
        for i in range(len(self)):
            yield self._row(i)

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same rows (a list of ListingResult included), as the
        list the reference returns would be."""
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(
            _same_row(a, b) for a, b in zip(self, other)
        )

    __hash__ = None  # type: ignore[assignment]

    def _row(self, i: int) -> ResultRow:
        lst = self.snapshot.listings
        r = int(self.rows[i])
        channel_id = int(lst.channel_id[r])
        channel = self.context.plans[channel_id].channel
        return ResultRow(
            int(lst.id[r]),
            channel_id,
            channel.code,
            channel.marketplace,
            int(lst.product_id[r]),
            lst.channel_sku[r] or "",
            lst.external_id[r],
            int(self.quantity[i]),
            ACTIONS[int(self.actions[i])],
            bool(self.oversold[i]),
            self,
            i,
        )

    # -- explanations -------------------------------------------------------------------------
    def explanation(self, i: int) -> Explanation:
        """The reference's explanation of result i, worked out from its product's inputs."""
        r = int(self.rows[i])
        lst = self.snapshot.listings
        product_id, listing_id = int(lst.product_id[r]), int(lst.id[r])
        with self._lock:
            results = self._explained.get(product_id)
            if results is not None:
                self._explained.move_to_end(product_id)
        if results is None:
            results = self._explain_product(product_id)
            with self._lock:
                self._explained[product_id] = results
                while len(self._explained) > _KEPT_PRODUCTS:
                    self._explained.popitem(last=False)
        return results[listing_id].explanation

    def _explain_product(self, product_id: int) -> dict[int, ListingResult]:
        from connector.stock.reference import compute_listings_reference

        snap = self.snapshot
        listing_rows = _rows_of(self._listing_index(), product_id)
        quant_rows = _rows_of(self._quant_index(), product_id)
        listings = [snap.listings.row(int(k)) for k in listing_rows]
        product = snap.products.get(product_id)
        sub = StockSnapshot(
            snap.taken_at,
            frozenset({product_id}),
            {product_id: product} if product is not None else {},
            snap.locations,
            snap.warehouses,
            snap.channels,
            listings,
            [snap.quants.row(int(k)) for k in quant_rows],
            self._allocations().get(product_id, []),
            snap.company_partner_ids,
        )
        known = self.previous
        if isinstance(known, Mapping):
            previous = {x.id: known[x.id] for x in listings if x.id in known}
        else:
            previous = known.actions_of(x.id for x in listings)
        results = compute_listings_reference(
            sub, self.now, previous_actions=previous, context=self.context
        )
        return {r.listing_id: r for r in results}

    def _allocations(self) -> dict[int, list[Allocation]]:
        if self._allocations_by_product is None:
            by_product: dict[int, list[Allocation]] = {}
            for a in self.snapshot.allocations:
                by_product.setdefault(a.product_id, []).append(a)
            self._allocations_by_product = by_product
        return self._allocations_by_product

    def _listing_index(self) -> tuple[np.ndarray, np.ndarray]:
        if self._by_product is None:
            self._by_product = _index(self.snapshot.listings.product_id)
        return self._by_product

    def _quant_index(self) -> tuple[np.ndarray, np.ndarray]:
        if self._quants_by_product is None:
            self._quants_by_product = _index(self.snapshot.quants.product_id)
        return self._quants_by_product


_ROW_FIELDS = (
    "listing_id", "channel_id", "channel_code", "marketplace", "product_id", "sku",
    "external_id", "quantity", "action", "oversold",
)  # fmt: skip


def _same_row(a: object, b: object) -> bool:
    return all(getattr(a, f, None) == getattr(b, f, None) for f in _ROW_FIELDS)


def _index(product_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows sorted by product, stable: snapshot order within a product; their products)."""
    order = np.argsort(product_ids, kind="stable")
    return order, product_ids[order]


def _rows_of(index: tuple[np.ndarray, np.ndarray], product_id: int) -> np.ndarray:
    order, sorted_ids = index
    lo = np.searchsorted(sorted_ids, product_id, side="left")
    hi = np.searchsorted(sorted_ids, product_id, side="right")
    return order[lo:hi]
