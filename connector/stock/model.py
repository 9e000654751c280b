"""The plain data the stock computation works on.

These are the bridge's own view of the ERP's records: the ERP client (connector.erp)
builds them from RPC reads, the computation (connector.stock) turns them into published
numbers, and the engine (connector.sync) and the adapters (connector.marketplaces) pass
them around. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ZeroStockAction(StrEnum):
    """What a channel does when a listing's published number reaches 0."""

    PUSH_ZERO = "push_zero"
    DEACTIVATE = "deactivate"
    END_LISTING = "end_listing"


class PushAction(StrEnum):
    """What the bridge asks a marketplace to do with one listing."""

    SET = "set"  # set the absolute quantity (0 included, for push_zero)
    DEACTIVATE = "deactivate"  # zero stock on a marketplace that deactivates (Etsy, Kaufland opt.)
    REACTIVATE = "reactivate"  # back in stock after a deactivation: set quantity and activate
    END = "end"  # zero stock where the channel ends the listing (eBay opt.)
    RELIST = "relist"  # back in stock after an END


class AllocationMode(StrEnum):
    ALLOCATION = "allocation"  # ring-fenced: only its channel sees the units, and nothing else
    RESERVATION = "reservation"  # hidden from other channels; its own channel sees the whole pool


class SyncState(StrEnum):
    PENDING = "pending"
    SYNCED = "synced"
    ERROR = "error"
    DEACTIVATED = "deactivated"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Location:
    id: int
    name: str  # complete_name, e.g. "WH/Stock/Shelf 1"
    parent_id: int | None
    usage: str  # internal, view, supplier, customer, inventory, production, transit
    company_id: int | None
    active: bool = True


@dataclass(frozen=True, slots=True)
class Warehouse:
    id: int
    code: str
    lot_stock_id: int
    company_id: int


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    default_code: str | None
    barcode: str | None = None
    name: str = ""
    company_id: int | None = None  # None: shared between companies


@dataclass(frozen=True, slots=True)
class Quant:
    product_id: int
    location_id: int
    quantity: float
    reserved_quantity: float
    lot_id: int | None = None
    package_id: int | None = None
    owner_id: int | None = None  # a partner other than the company's own: consigned stock
    company_id: int | None = None


@dataclass(frozen=True, slots=True)
class PeakPeriod:
    start: datetime
    end: datetime
    extra: float


@dataclass(frozen=True, slots=True)
class BufferPolicy:
    """A channel's buffer rule, for listings without their own override."""

    fixed: float = 0.0
    by_velocity: dict[str, float] = field(default_factory=dict)  # velocity class -> extra units
    peak_periods: tuple[PeakPeriod, ...] = ()
    marketplace_extra: float = 0.0  # e.g. Etsy's slower propagation


@dataclass(frozen=True, slots=True)
class Channel:
    id: int
    code: str  # unique; the bridge's credentials are keyed by it
    marketplace: str  # amazon, bol, zalando, kaufland, ebay, shopify, etsy, woocommerce, ...
    company_id: int | None
    warehouse_ids: tuple[int, ...]
    excluded_location_ids: tuple[int, ...] = ()
    buffer: BufferPolicy = field(default_factory=BufferPolicy)
    max_qty: float = 0.0  # 0 = no cap
    zero_stock_action: ZeroStockAction | None = None  # None: the marketplace's own default
    active: bool = True


@dataclass(frozen=True, slots=True)
class Listing:
    id: int
    channel_id: int
    product_id: int
    channel_sku: str
    external_id: str | None = None
    buffer_qty: float | None = None  # None: inherit the channel's rule
    max_qty: float = 0.0  # 0 = no cap
    pack_size: int = 1
    active: bool = True
    velocity_class: str | None = None


@dataclass(frozen=True, slots=True)
class Allocation:
    id: int
    channel_id: int
    product_id: int
    mode: AllocationMode
    quantity: float
    date_start: datetime | None = None  # None: open-ended
    date_end: datetime | None = None

    def is_active(self, now: datetime) -> bool:
        return (self.date_start is None or self.date_start <= now) and (
            self.date_end is None or now < self.date_end
        )


@dataclass(slots=True)
class StockSnapshot:
    """One ERP read, made after a trigger arrived, for a set of products.

    `quants` holds only the quants of `product_ids` under the channels' contributing
    roots; `listings` and `allocations` only those of `product_ids`. Locations,
    warehouses and channels are the whole (cached) configuration.
    """

    taken_at: datetime
    product_ids: frozenset[int]
    products: dict[int, Product]
    locations: dict[int, Location]
    warehouses: dict[int, Warehouse]
    channels: dict[int, Channel]
    listings: list[Listing]
    quants: list[Quant]
    allocations: list[Allocation]
    company_partner_ids: frozenset[int] = frozenset()  # owners that count as "ours"
