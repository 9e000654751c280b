"""Read fixtures/demo (the shared demo catalog) straight into a StockSnapshot.

Independent of the mock ERP and the ERP client on purpose: the seed cases of the
computation are checked against the same data the demo and the end-to-end tests use,
without either side's code in between. Format: fixtures/demo/README.md.

Usage: ``snap, ids = load_demo(); ids["listing_amazon_de_mug"]``
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from connector.stock.model import (
    Allocation,
    AllocationMode,
    BufferPolicy,
    Channel,
    Listing,
    Location,
    Product,
    Quant,
    StockSnapshot,
    Warehouse,
    ZeroStockAction,
)

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"


def _records() -> dict[str, dict[str, dict[str, Any]]]:
    models: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(DEMO.glob("*.json")):
        for model, records in json.loads(path.read_text()).items():
            models.setdefault(model, {}).update(records)
    return models


def _date(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def load_demo(now: datetime) -> tuple[StockSnapshot, dict[str, int]]:
    """The whole catalog as one snapshot, and xml-id -> database id (per model, from 1)."""
    models = _records()
    ids: dict[str, int] = {}
    for records in models.values():
        for n, key in enumerate(records, start=1):
            ids[key] = n

    def ref(value: Any) -> int | None:
        return ids[value] if value else None

    raw_locs = models["stock.location"]

    def complete_name(key: str) -> str:
        # Odoo: a view location without a parent path keeps its own name ("WH").
        rec = raw_locs[key]
        parent = rec.get("location_id")
        if not parent or rec["usage"] == "view":
            return str(rec["name"])
        return f"{complete_name(parent)}/{rec['name']}"

    locations = {
        ids[k]: Location(
            ids[k],
            complete_name(k),
            ref(r.get("location_id")),
            r["usage"],
            ref(r.get("company_id")),
            r.get("active", True),
        )
        for k, r in raw_locs.items()
    }
    warehouses = {
        ids[k]: Warehouse(ids[k], r["code"], ids[r["lot_stock_id"]], ids[r["company_id"]])
        for k, r in models["stock.warehouse"].items()
    }
    products = {
        ids[k]: Product(ids[k], r.get("default_code"), r.get("barcode"))
        for k, r in models["product.product"].items()
    }
    quants = [
        Quant(
            ids[r["product_id"]],
            ids[r["location_id"]],
            float(r["quantity"]),
            float(r.get("reserved_quantity", 0)),
            owner_id=ref(r.get("owner_id")),
        )
        for r in models["stock.quant"].values()
    ]
    channels = {
        ids[k]: Channel(
            ids[k],
            r["code"],
            r["marketplace"],
            ref(r.get("company_id")),
            tuple(ids[w] for w in r["warehouse_ids"]),
            tuple(ids[x] for x in r.get("excluded_location_ids", [])),
            BufferPolicy(fixed=float(r.get("buffer_qty", 0))),
            float(r.get("max_qty", 0)),
            ZeroStockAction(r["zero_stock_action"]) if r.get("zero_stock_action") else None,
            r.get("active", True),
        )
        for k, r in models["marketplace.channel"].items()
    }
    listings = [
        Listing(
            ids[k],
            ids[r["channel_id"]],
            ids[r["product_id"]],
            r["channel_sku"],
            r.get("external_id") or None,
            float(r["buffer_qty"]) if r.get("buffer_qty") is not None else None,
            float(r.get("max_qty", 0)),
            int(r.get("pack_size", 1)),
            r.get("active", True),
        )
        for k, r in models["marketplace.listing"].items()
    ]
    allocations = [
        Allocation(
            ids[k],
            ids[r["channel_id"]],
            ids[r["product_id"]],
            AllocationMode(r["mode"]),
            float(r["quantity"]),
            _date(r.get("date_start")),
            _date(r.get("date_end")),
        )
        for k, r in models["marketplace.allocation"].items()
    ]
    own_partners = frozenset(
        ids[r["partner_id"]] for r in models["res.company"].values() if r.get("partner_id")
    )
    snap = StockSnapshot(
        now,
        frozenset(products),
        products,
        locations,
        warehouses,
        channels,
        listings,
        quants,
        allocations,
        own_partners,
    )
    return snap, ids
