"""A small hand-made shop for the stock tests: the demo catalog's location tree, by id.

    1 Physical Locations (view, no company)
    10 WH (view)          11 WH/Stock ── 12 Shelf A, 13 Shelf B, 14 Backroom
                          15 WH/Quarantine (internal, NOT under WH/Stock), 16 WH/Output
    20 WH2 (view)         21 WH2/Stock ── 22 Bin 1
    30 OC (view, co. 2)   31 OC/Stock (company 2)
    40 Customers (customer)
Warehouses: 1 WH (lot 11), 2 BACK (lot 14, a child of WH/Stock), 3 WH2 (lot 21),
4 OC (lot 31, company 2). Company 1's own partner is 100.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

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

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
OWN_PARTNER = 100

WH, BACK, WH2, OC = 1, 2, 3, 4
STOCK, SHELF_A, SHELF_B, BACKROOM, QUARANTINE, OUTPUT = 11, 12, 13, 14, 15, 16
WH2_STOCK, BIN_1, OC_STOCK, CUSTOMERS = 21, 22, 31, 40

LOCATIONS = {
    loc.id: loc
    for loc in (
        Location(1, "Physical Locations", None, "view", None),
        Location(10, "WH", 1, "view", 1),
        Location(STOCK, "WH/Stock", 10, "internal", 1),
        Location(SHELF_A, "WH/Stock/Shelf A", STOCK, "internal", 1),
        Location(SHELF_B, "WH/Stock/Shelf B", STOCK, "internal", 1),
        Location(BACKROOM, "WH/Stock/Backroom", STOCK, "internal", 1),
        Location(QUARANTINE, "WH/Quarantine", 10, "internal", 1),
        Location(OUTPUT, "WH/Output", 10, "internal", 1),
        Location(20, "WH2", 1, "view", 1),
        Location(WH2_STOCK, "WH2/Stock", 20, "internal", 1),
        Location(BIN_1, "WH2/Stock/Bin 1", WH2_STOCK, "internal", 1),
        Location(30, "OC", 1, "view", 2),
        Location(OC_STOCK, "OC/Stock", 30, "internal", 2),
        Location(CUSTOMERS, "Partners/Customers", None, "customer", None),
    )
}
WAREHOUSES = {
    WH: Warehouse(WH, "WH", STOCK, 1),
    BACK: Warehouse(BACK, "BACK", BACKROOM, 1),
    WH2: Warehouse(WH2, "WH2", WH2_STOCK, 1),
    OC: Warehouse(OC, "OC", OC_STOCK, 2),
}


def channel(cid: int, code: str | None = None, **kw: object) -> Channel:
    """A company-1 channel on WH + WH2 unless told otherwise."""
    kw.setdefault("company_id", 1)
    kw.setdefault("warehouse_ids", (WH, WH2))
    code = code or f"ch{cid}"
    marketplace = str(kw.pop("marketplace", code.split("_")[0]))
    return Channel(id=cid, code=code, marketplace=marketplace, **kw)  # type: ignore[arg-type]


def listing(lid: int, cid: int, pid: int = 1, **kw: object) -> Listing:
    kw.setdefault("channel_sku", f"SKU-{pid}")
    return Listing(id=lid, channel_id=cid, product_id=pid, **kw)  # type: ignore[arg-type]


def quant(location_id: int, qty: float, reserved: float = 0.0, pid: int = 1, **kw: object) -> Quant:
    return Quant(pid, location_id, qty, reserved, **kw)  # type: ignore[arg-type]


def snapshot(
    channels: Iterable[Channel],
    listings: Iterable[Listing],
    quants: Iterable[Quant] = (),
    allocations: Iterable[Allocation] = (),
    *,
    product_ids: Iterable[int] | None = None,
    locations: dict[int, Location] | None = None,
) -> StockSnapshot:
    listings = list(listings)
    pids = frozenset(product_ids if product_ids is not None else {x.product_id for x in listings})
    return StockSnapshot(
        taken_at=NOW,
        product_ids=pids,
        products={p: Product(p, f"SKU-{p}") for p in pids},
        locations=dict(locations if locations is not None else LOCATIONS),
        warehouses=dict(WAREHOUSES),
        channels={c.id: c for c in channels},
        listings=listings,
        quants=list(quants),
        allocations=list(allocations),
        company_partner_ids=frozenset({OWN_PARTNER}),
    )
