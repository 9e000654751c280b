"""StockSource: one batched ERP read per set of products -> a `StockSnapshot`.

A snapshot costs a fixed number of RPC calls whatever the number of products: quants
(one `search_read` by product ids and contributing roots with `child_of`), products,
and in addon mode the listings and allocations of those products. A live flush asks for
`cached=True`: the catalog rows (products, listings, allocations) of products seen before
come from a `CatalogCache`, so it reads only the quants (see connector/erp/catalog.py for
when the cache is cleared). Channels, warehouses,
locations and company partners are cached (`ConfigView`); after `erp.cache_ttl_s` the
source probes each config model's newest `write_date` (one small call each) and reloads
when one moved. `refresh_config()` forces a reload (e.g. after a deleted record, which a
write_date probe cannot see). Full reads are paged (`iter_snapshots`) so memory stays
bounded.

Usage::

    source = StockSource(connect(config.erp), config)
    snapshot = source.snapshot([7, 8, 9])
    snapshot = source.snapshot([7], cached=True)  # a live flush: quants only, when known
    for page in source.iter_snapshots():        # every listed product, page by page
        ...
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from connector.config import BridgeConfig
from connector.erp.catalog import CatalogCache, CatalogEntry
from connector.erp.client import OdooClient
from connector.erp.config_view import (
    NO_CONTEXT_FILTER,
    ConfigView,
    load_addon_view,
    load_file_view,
    probe_stamps,
)
from connector.erp.records import m2o_id, number, odoo_datetime, optional_number, text, \
    to_odoo_datetime
from connector.erp.schema import Schema, check_schema
from connector.stock.model import (
    Allocation,
    AllocationMode,
    Listing,
    Product,
    Quant,
    StockSnapshot,
)

log = logging.getLogger(__name__)

QUANT_FIELDS = ["product_id", "location_id", "quantity", "reserved_quantity", "lot_id",
                "package_id", "owner_id", "company_id"]
PRODUCT_FIELDS = ["default_code", "barcode", "display_name", "company_id"]
LISTING_FIELDS = ["channel_id", "product_id", "channel_sku", "external_id", "buffer_qty",
                  "max_qty", "pack_size", "active"]
ALLOCATION_FIELDS = ["channel_id", "product_id", "mode", "quantity", "date_start", "date_end"]
# Models behind the cached catalog rows, probed (newest write_date and count) after the TTL.
CATALOG_MODELS = ("product.product", "marketplace.listing", "marketplace.allocation")


class StockSource:
    """Reads the ERP's truth for a set of products, in a few batched calls."""

    def __init__(self, client: OdooClient, config: BridgeConfig, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.config = config
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.schema: Schema = check_schema(client, config.erp.mode)
        self.mode: Literal["addon", "no_addon"] = self.schema.mode
        self._view: ConfigView | None = None
        self._checked_at = 0.0
        self.catalog = CatalogCache()
        self._catalog_stamps: dict[str, tuple[int, str | None]] | None = None

    # -- configuration cache ------------------------------------------------------------

    def refresh_config(self, stamps: dict[str, str | None] | None = None) -> None:
        """Reload channels, warehouses, locations (and file listings) now, and forget the
        cached catalog rows. `stamps`: write_dates just probed (not probed again)."""
        self.catalog.clear()
        loader = load_addon_view if self.mode == "addon" else load_file_view
        view = loader(self.client, self.config, stamps)
        with self._lock:
            self._view = view
            self._checked_at = self._monotonic()

    def config_view(self) -> ConfigView:
        """The cached view; probed after the TTL and reloaded when a write_date moved."""
        with self._lock:
            view, checked_at = self._view, self._checked_at
        if view is None:
            self.refresh_config()
        elif self._monotonic() - checked_at >= self.config.erp.cache_ttl_s:
            # On a shop with inventory adjustments this is most TTLs: Odoo writes the
            # location's last_inventory_date at each one (stock.quant._apply_inventory).
            stamps = probe_stamps(self.client, view.watched)
            if stamps != view.stamps:
                log.info("ERP configuration changed; reloading channels and locations")
                self.refresh_config(stamps)
            else:
                with self._lock:
                    self._checked_at = self._monotonic()
            self._probe_catalog()
        assert self._view is not None
        return self._view

    def _probe_catalog(self) -> None:
        """Forget the cached catalog rows when a catalog model's newest write_date or its
        row count moved (an edit or a deletion the outbox did not announce)."""
        if self.mode != "addon" or not len(self.catalog):
            return  # nothing cached to vouch for; the last stamps stay the baseline
        stamps = {model: (self.client.call(model, "search_count", [], **NO_CONTEXT_FILTER),
                          probe_stamps(self.client, (model,))[model])
                  for model in CATALOG_MODELS}
        if stamps != self._catalog_stamps:  # changed, or no baseline to compare with yet
            if self._catalog_stamps is not None:
                log.info("ERP products, listings or allocations changed; re-reading them")
            self.catalog.clear()
        self._catalog_stamps = stamps

    # -- reads --------------------------------------------------------------------------

    def snapshot(self, product_ids: Iterable[int], now: datetime | None = None, *,
                 cached: bool = False) -> StockSnapshot:
        """Everything the computation needs for `product_ids`, read now; with `cached`, the
        catalog rows of products read before come from the cache (the quants never do)."""
        wanted = sorted({int(p) for p in product_ids})
        taken_at = now or datetime.now(UTC)
        view = self.config_view()
        if cached:
            entries, missing = self.catalog.get(wanted)
            if missing:
                generation = self.catalog.generation
                fresh = self._read_catalog(missing, view, taken_at)
                self.catalog.store(generation, fresh)
                entries.update(fresh)
        else:
            generation = self.catalog.generation
            entries = self._read_catalog(wanted, view, taken_at)
            self.catalog.refresh(generation, entries)  # a resync also freshens the cache
        quants = self._read_quants(wanted, view.roots) if wanted and view.roots else []
        products = {pid: e.product for pid, e in entries.items() if e.product is not None}
        listings = [item for pid in wanted for item in entries[pid].listings]
        allocations = [item for pid in wanted for item in entries[pid].allocations]
        return StockSnapshot(
            taken_at=taken_at, product_ids=frozenset(wanted), products=products,
            locations=view.locations, warehouses=view.warehouses, channels=view.channels,
            listings=listings, quants=quants, allocations=allocations,
            company_partner_ids=view.company_partner_ids,
        )

    def listed_product_ids(self) -> list[int]:
        """Products with at least one active listing (on an active channel), sorted."""
        view = self.config_view()
        if self.mode == "no_addon":
            return sorted({item.product_id for item in view.listings})
        found: set[int] = set()
        last_id = 0
        page = self.config.erp.page_size
        # paged by id so a 500k-listing read never sits in one reply
        while True:
            rows = self.client.call(
                "marketplace.listing", "search_read",
                [("id", ">", last_id), ("channel_id.active", "=", True)],
                ["product_id"], order="id asc", limit=page)
            found.update(p for p in (m2o_id(r["product_id"]) for r in rows) if p)
            if len(rows) < page:
                return sorted(found)
            last_id = int(rows[-1]["id"])

    def iter_snapshots(self, product_ids: Sequence[int] | None = None,
                       page_size: int | None = None) -> Iterator[StockSnapshot]:
        """Snapshots of `product_ids` (default: every listed product), `page_size` at a time."""
        chosen = sorted(set(product_ids)) if product_ids is not None \
            else self.listed_product_ids()
        size = page_size or self.config.erp.page_size
        for start in range(0, len(chosen), size):
            yield self.snapshot(chosen[start:start + size])

    def product_ids_for_skus(self, skus: Iterable[str]) -> dict[str, int]:
        """SKU -> product id, by product default_code first, then by listing channel_sku."""
        wanted = sorted({s for s in skus if s})
        if not wanted:
            return {}
        found: dict[str, int] = {}
        rows = self.client.call("product.product", "search_read",
                                [("default_code", "in", wanted)], ["default_code"])
        for row in rows:
            found.setdefault(str(row["default_code"]), int(row["id"]))
        rest = [s for s in wanted if s not in found]
        if not rest:
            return found
        if self.mode == "addon":
            rows = self.client.call("marketplace.listing", "search_read",
                                    [("channel_sku", "in", rest)], ["channel_sku", "product_id"])
            for row in rows:
                product_id = m2o_id(row["product_id"])
                if product_id:
                    found.setdefault(str(row["channel_sku"]), product_id)
        else:
            for item in self.config_view().listings:
                if item.channel_sku in rest:
                    found.setdefault(item.channel_sku, item.product_id)
        return found

    def _read_catalog(self, wanted: list[int], view: ConfigView,
                      now: datetime) -> dict[int, CatalogEntry]:
        """Products, listings and allocations of `wanted` (3 calls in addon mode, 1 without)."""
        if not wanted:
            return {}
        products = self._read_products(wanted)
        listings: dict[int, list[Listing]] = {pid: [] for pid in wanted}
        allocations: dict[int, list[Allocation]] = {pid: [] for pid in wanted}
        if self.mode == "addon":
            found = self._read_listings(wanted, products)
            for alloc in self._read_allocations(wanted, now):
                allocations.setdefault(alloc.product_id, []).append(alloc)
        else:
            chosen = set(wanted)
            found = [item for item in view.listings if item.product_id in chosen]
        for item in found:
            listings.setdefault(item.product_id, []).append(item)
        return {pid: CatalogEntry(products.get(pid), tuple(listings.get(pid, ())),
                                  tuple(allocations.get(pid, ())))
                for pid in wanted}

    # -- one call each ------------------------------------------------------------------

    def _read_products(self, wanted: list[int]) -> dict[int, Product]:
        rows = self.client.call("product.product", "search_read", [("id", "in", wanted)],
                                PRODUCT_FIELDS, **NO_CONTEXT_FILTER)
        return {int(r["id"]): Product(id=int(r["id"]), default_code=text(r.get("default_code")),
                                      barcode=text(r.get("barcode")),
                                      name=text(r.get("display_name")) or "",
                                      company_id=m2o_id(r.get("company_id")))
                for r in rows}

    def _read_quants(self, wanted: list[int], roots: tuple[int, ...]) -> list[Quant]:
        domain = [("product_id", "in", wanted), ("location_id", "child_of", list(roots)),
                  ("location_id.usage", "=", "internal")]
        rows = self.client.call("stock.quant", "search_read", domain, QUANT_FIELDS)
        return [_quant(r) for r in rows]

    def _read_listings(self, wanted: list[int], products: dict[int, Product]) -> list[Listing]:
        fields = list(LISTING_FIELDS)
        flag = self.schema.listing_buffer_flag
        if flag:
            fields.append(flag)
        rows = self.client.call("marketplace.listing", "search_read",
                                [("product_id", "in", wanted)], fields)
        velocity = self.config.velocity_classes
        listings = []
        for row in rows:
            product_id = m2o_id(row["product_id"]) or 0
            product = products.get(product_id)
            sku = product.default_code if product else None
            buffer = optional_number(row.get("buffer_qty"))
            if flag and not row.get(flag):
                buffer = None
            listings.append(Listing(
                id=int(row["id"]), channel_id=m2o_id(row["channel_id"]) or 0,
                product_id=product_id, channel_sku=str(row.get("channel_sku") or ""),
                external_id=text(row.get("external_id")), buffer_qty=buffer,
                max_qty=number(row.get("max_qty")), pack_size=max(1, int(row.get("pack_size") or 1)),
                active=bool(row.get("active", True)),
                velocity_class=velocity.get(sku or "") or velocity.get(str(row.get("channel_sku"))),
            ))
        return listings

    def _read_allocations(self, wanted: list[int], now: datetime) -> list[Allocation]:
        # ended allocations never matter again: leave them on the server
        domain: list[Any] = [("product_id", "in", wanted), "|", ("date_end", "=", False),
                             ("date_end", ">", to_odoo_datetime(now))]
        rows = self.client.call("marketplace.allocation", "search_read", domain,
                                ALLOCATION_FIELDS)
        return [Allocation(id=int(r["id"]), channel_id=m2o_id(r["channel_id"]) or 0,
                           product_id=m2o_id(r["product_id"]) or 0,
                           mode=AllocationMode(r["mode"]), quantity=number(r.get("quantity")),
                           date_start=odoo_datetime(r.get("date_start")),
                           date_end=odoo_datetime(r.get("date_end")))
                for r in rows]


def _quant(row: dict[str, Any]) -> Quant:
    return Quant(product_id=m2o_id(row["product_id"]) or 0,
                 location_id=m2o_id(row["location_id"]) or 0,
                 quantity=number(row.get("quantity")),
                 reserved_quantity=number(row.get("reserved_quantity")),
                 lot_id=m2o_id(row.get("lot_id")), package_id=m2o_id(row.get("package_id")),
                 owner_id=m2o_id(row.get("owner_id")), company_id=m2o_id(row.get("company_id")))
