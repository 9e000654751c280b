"""Columnar inputs for the fast path: listings and quants as numpy arrays, not objects.

A million listings as `Listing` dataclasses cost ~250 MB and a microsecond each just to
read their fields; as columns they cost ~60 bytes each and are read by numpy in one go.
The configuration (channels, locations, warehouses) stays as records: it is small.
Allocations stay records too: a handful per product at most, read only for products that
have them.

A reader that pages through the ERP appends each page to a builder and drops the page:
the whole listing table never exists as objects (ListingColumnsBuilder.add, .build).

    None in an id column is NONE_ID; None in buffer_qty is NaN; a listing's velocity class
    is an index into `velocity_classes` (-1: None); strings live in one UTF-8 buffer with
    offsets (StringColumn), decoded only for the rows someone reads.

Usage::

    cols = ColumnarSnapshot.from_snapshot(snapshot)      # or built page by page:
    b = ListingColumnsBuilder(); b.add(page_1); b.add(page_2); listings = b.build()
    cols.listing(0) == snapshot.listings[0]
"""

from __future__ import annotations

from array import array
from itertools import islice
from operator import attrgetter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from connector.stock.model import (
    Allocation,
    Channel,
    Listing,
    Location,
    Product,
    Quant,
    StockSnapshot,
    Warehouse,
)

Int64s = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Int16s = npt.NDArray[np.int16]

_PAGE = 32_768  # rows turned into columns at a time (the temporaries of one page)
NONE_ID = np.iinfo(np.int64).min  # an optional id that is None (Odoo ids are positive)


def _id_or_none(value: int) -> int | None:
    return None if value == NONE_ID else int(value)


@dataclass(frozen=True, slots=True, eq=False)
class StringColumn:
    """Strings (or None) in one UTF-8 buffer: row i is data[offsets[i]:offsets[i+1]].

    Usage: ``StringColumn.of(["a", None])[1] is None``
    """

    data: bytes
    offsets: Int64s  # len n + 1
    missing: Bools | None = None  # True where the value is None; None: no None at all

    @classmethod
    def of(cls, values: Iterable[str | None]) -> StringColumn:
        b = StringColumnBuilder()
        b.extend(values)
        return b.build()

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str | None:
        if self.missing is not None and self.missing[i]:
            return None
        return self.data[self.offsets[i] : self.offsets[i + 1]].decode()

    def take(self, rows: Iterable[int]) -> list[str | None]:
        return [self[int(i)] for i in rows]

    @property
    def nbytes(self) -> int:
        extra = 0 if self.missing is None else self.missing.nbytes
        return len(self.data) + self.offsets.nbytes + extra


class StringColumnBuilder:
    """Strings appended page by page; `build()` makes the column once."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.lengths = array("q")
        self.missing = array("b")
        self.any_missing = False

    def extend(self, values: Iterable[str | None]) -> None:
        values = list(values)
        if None not in values:  # the usual case: one C-level pass
            encoded = list(map(str.encode, values))  # type: ignore[arg-type]
            self.data += b"".join(encoded)
            self.lengths.extend(map(len, encoded))
            self.missing.frombytes(bytes(len(encoded)))
            return
        for v in values:
            if v is None:
                self.any_missing = True
                self.missing.append(1)
                self.lengths.append(0)
            else:
                raw = v.encode()
                self.data += raw
                self.lengths.append(len(raw))
                self.missing.append(0)

    def build(self) -> StringColumn:
        offsets = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(self.lengths, dtype=np.int64), out=offsets[1:])
        missing = np.frombuffer(self.missing, dtype=np.int8).astype(bool) if self.any_missing else None
        return StringColumn(bytes(self.data), offsets, missing)


@dataclass(frozen=True, slots=True, eq=False)
class ListingColumns:
    """The listings of a snapshot, one array per field (row i = the i-th listing)."""

    id: Int64s
    channel_id: Int64s
    product_id: Int64s
    channel_sku: StringColumn
    external_id: StringColumn
    buffer_qty: Floats  # NaN: inherit the channel's rule
    max_qty: Floats
    pack_size: Int64s
    active: Bools
    velocity: Int16s  # index into velocity_classes, -1: None
    velocity_classes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.id)

    def row(self, i: int) -> Listing:
        """The i-th listing as a record (for explanations and the reference)."""
        buffer_qty = float(self.buffer_qty[i])
        velocity = int(self.velocity[i])
        return Listing(
            int(self.id[i]),
            int(self.channel_id[i]),
            int(self.product_id[i]),
            self.channel_sku[i] or "",
            self.external_id[i],
            None if buffer_qty != buffer_qty else buffer_qty,  # NaN != NaN
            float(self.max_qty[i]),
            int(self.pack_size[i]),
            bool(self.active[i]),
            None if velocity < 0 else self.velocity_classes[velocity],
        )

    @property
    def nbytes(self) -> int:
        arrays = (self.id, self.channel_id, self.product_id, self.buffer_qty, self.max_qty,
                  self.pack_size, self.active, self.velocity)  # fmt: skip
        return sum(a.nbytes for a in arrays) + self.channel_sku.nbytes + self.external_id.nbytes


_LISTING_FIELDS = attrgetter(
    "id", "channel_id", "product_id", "channel_sku", "external_id", "buffer_qty", "max_qty",
    "pack_size", "active", "velocity_class",
)  # fmt: skip


class ListingColumnsBuilder:
    """Listings appended page by page; `build()` makes the columns once.

    Usage: ``b = ListingColumnsBuilder(); for page in pages: b.add(page); cols = b.build()``
    """

    def __init__(self) -> None:
        self._ints = {name: array("q") for name in ("id", "channel_id", "product_id", "pack_size")}
        self._floats = {name: array("d") for name in ("buffer_qty", "max_qty")}
        self._active = array("b")
        self._velocity = array("h")
        self._classes: dict[str, int] = {}
        self._sku = StringColumnBuilder()
        self._external = StringColumnBuilder()

    def add(self, listings: Iterable[Listing]) -> None:
        """Append listings; a long iterable is taken in pages (bounded temporaries)."""
        it = iter(listings)
        while page := list(islice(it, _PAGE)):
            self._add_page(page)

    def _add_page(self, listings: list[Listing]) -> None:
        # One C-level pass per page (attrgetter + zip), not one Python loop per field.
        page = list(map(_LISTING_FIELDS, listings))
        ids, channels, products, skus, externals, buffers, maxes, packs, active, velocity = (
            zip(*page)
        )
        del page
        self._ints["id"].extend(ids)
        self._ints["channel_id"].extend(channels)
        self._ints["product_id"].extend(products)
        self._ints["pack_size"].extend(packs)
        nan = float("nan")
        self._floats["buffer_qty"].extend(nan if b is None else b for b in buffers)
        self._floats["max_qty"].extend(maxes)
        self._active.extend(map(bool, active))
        classes = self._classes
        self._velocity.extend(
            -1 if v is None else classes.setdefault(v, len(classes)) for v in velocity
        )
        self._sku.extend(skus)
        self._external.extend(externals)

    def build(self) -> ListingColumns:
        def ints(name: str) -> Int64s:
            return np.frombuffer(self._ints[name], dtype=np.int64).copy()

        def floats(name: str) -> Floats:
            return np.frombuffer(self._floats[name], dtype=np.float64).copy()

        return ListingColumns(
            ints("id"), ints("channel_id"), ints("product_id"),
            self._sku.build(), self._external.build(),
            floats("buffer_qty"), floats("max_qty"), ints("pack_size"),
            np.frombuffer(self._active, dtype=np.int8).astype(bool),
            np.frombuffer(self._velocity, dtype=np.int16).copy(),
            tuple(self._classes),
        )  # fmt: skip


@dataclass(frozen=True, slots=True, eq=False)
class QuantColumns:
    """The quants of a snapshot, one array per field; optional ids use NONE_ID."""

    product_id: Int64s
    location_id: Int64s
    quantity: Floats
    reserved_quantity: Floats
    lot_id: Int64s
    package_id: Int64s
    owner_id: Int64s
    company_id: Int64s

    def __len__(self) -> int:
        return len(self.product_id)

    def row(self, i: int) -> Quant:
        return Quant(
            int(self.product_id[i]),
            int(self.location_id[i]),
            float(self.quantity[i]),
            float(self.reserved_quantity[i]),
            _id_or_none(self.lot_id[i]),
            _id_or_none(self.package_id[i]),
            _id_or_none(self.owner_id[i]),
            _id_or_none(self.company_id[i]),
        )

    @classmethod
    def of(cls, quants: Iterable[Quant]) -> QuantColumns:
        b = QuantColumnsBuilder()
        b.add(quants)
        return b.build()

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, f).nbytes for f in self.__slots__)


_QUANT_IDS = ("product_id", "location_id", "lot_id", "package_id", "owner_id", "company_id")


class QuantColumnsBuilder:
    """Quants appended page by page (see ListingColumnsBuilder)."""

    def __init__(self) -> None:
        self._ids = {name: array("q") for name in _QUANT_IDS}
        self._qty = array("d")
        self._reserved = array("d")

    def add(self, quants: Iterable[Quant]) -> None:
        """Append quants; a long iterable is taken in pages (bounded temporaries)."""
        it = iter(quants)
        while page := list(islice(it, _PAGE)):
            self._add_page(page)

    def _add_page(self, page: list[Quant]) -> None:
        for name in _QUANT_IDS:
            values = (getattr(q, name) for q in page)
            self._ids[name].extend(NONE_ID if v is None else v for v in values)
        self._qty.extend(q.quantity for q in page)
        self._reserved.extend(q.reserved_quantity for q in page)

    def build(self) -> QuantColumns:
        def ids(name: str) -> Int64s:
            return np.frombuffer(self._ids[name], dtype=np.int64).copy()

        return QuantColumns(
            ids("product_id"), ids("location_id"),
            np.frombuffer(self._qty, dtype=np.float64).copy(),
            np.frombuffer(self._reserved, dtype=np.float64).copy(),
            ids("lot_id"), ids("package_id"), ids("owner_id"), ids("company_id"),
        )  # fmt: skip


@dataclass(slots=True, eq=False)
class ColumnarSnapshot:
    """StockSnapshot with its listings and quants as columns (see the module docstring)."""

    taken_at: datetime
    product_ids: Int64s  # sorted, unique
    listings: ListingColumns
    quants: QuantColumns
    locations: dict[int, Location]
    warehouses: dict[int, Warehouse]
    channels: dict[int, Channel]
    allocations: list[Allocation]
    company_partner_ids: frozenset[int] = frozenset()
    products: Mapping[int, Product] = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, snapshot: StockSnapshot) -> ColumnarSnapshot:
        listings = ListingColumnsBuilder()
        listings.add(snapshot.listings)
        return cls(
            snapshot.taken_at,
            ids_array(snapshot.product_ids),
            listings.build(),
            QuantColumns.of(snapshot.quants),
            snapshot.locations,
            snapshot.warehouses,
            snapshot.channels,
            list(snapshot.allocations),
            snapshot.company_partner_ids,
            snapshot.products,
        )

    def to_snapshot(self) -> StockSnapshot:
        """The same data as records (the reference's input; costly at a million rows)."""
        return StockSnapshot(
            self.taken_at,
            frozenset(int(p) for p in self.product_ids),
            dict(self.products),
            self.locations,
            self.warehouses,
            self.channels,
            [self.listings.row(i) for i in range(len(self.listings))],
            [self.quants.row(i) for i in range(len(self.quants))],
            list(self.allocations),
            self.company_partner_ids,
        )


def ids_array(ids: Iterable[int] | Sequence[int] | Any) -> Int64s:
    """Sorted unique int64 ids from any iterable of ints (or an array)."""
    if isinstance(ids, np.ndarray):
        return np.unique(ids.astype(np.int64, copy=False))
    return np.unique(np.fromiter(ids, dtype=np.int64))
