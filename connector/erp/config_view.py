"""The slowly-changing part of a snapshot: channels, warehouses, locations, companies.

Two loaders build the same `ConfigView`: `load_addon_view` reads the addon's
`marketplace.channel`; `load_file_view` builds channels and listings from the bridge's
config file (no addon, e.g. Odoo Online). In no-addon mode the ids are synthetic and
stable: channel i (0-based, in sorted code order) gets id i + 1, and the j-th listing
(0-based, in file order) of channel c gets id c * 100000 + j + 1.

`probe_stamps` reads the newest `write_date` of each config model (one small call each);
the source reloads the view when a stamp moves.

Usage::

    view = load_addon_view(client, config)      # or load_file_view(client, config)
    stamps = probe_stamps(client, view.watched)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from connector.config import BridgeConfig, ChannelConfig, ConfigError
from connector.erp.client import OdooClient
from connector.erp.records import aware, ids, m2o_id, number, text
from connector.stock.model import (
    BufferPolicy,
    Channel,
    Listing,
    Location,
    PeakPeriod,
    Warehouse,
    ZeroStockAction,
)

log = logging.getLogger(__name__)

NO_CONTEXT_FILTER = {"context": {"active_test": False}}
LISTING_ID_BLOCK = 100_000


@dataclass(slots=True)
class ConfigView:
    """Cached ERP configuration; `listings`/`sku_products` are filled in no-addon mode only."""

    channels: dict[int, Channel]
    warehouses: dict[int, Warehouse]
    locations: dict[int, Location]
    roots: tuple[int, ...]  # lot_stock_id of every channel's warehouses
    company_partner_ids: frozenset[int]
    watched: tuple[str, ...]  # models whose write_date is probed
    stamps: dict[str, str | None] = field(default_factory=dict)
    listings: list[Listing] = field(default_factory=list)
    sku_products: dict[str, int] = field(default_factory=dict)  # default_code -> product id


def buffer_policy(fixed: float, channel: ChannelConfig | None) -> BufferPolicy:
    """The channel's buffer rule: the fixed part from the ERP or file, the rest from the file."""
    if channel is None:
        return BufferPolicy(fixed=fixed)
    return BufferPolicy(
        fixed=fixed,
        by_velocity=dict(channel.buffer_by_velocity),
        peak_periods=tuple(PeakPeriod(aware(p.start), aware(p.end), p.extra)
                           for p in channel.peak_periods),
        marketplace_extra=channel.marketplace_extra_buffer,
    )


def probe_stamps(client: OdooClient, models: tuple[str, ...]) -> dict[str, str | None]:
    """The newest write_date per model (archived records included)."""
    stamps: dict[str, str | None] = {}
    for model in models:
        rows = client.call(model, "search_read", [], ["write_date"], order="write_date desc",
                           limit=1, **NO_CONTEXT_FILTER)
        stamps[model] = str(rows[0]["write_date"]) if rows and rows[0].get("write_date") else None
    return stamps


def load_addon_view(client: OdooClient, config: BridgeConfig,
                    stamps: dict[str, str | None] | None = None) -> ConfigView:
    """Channels from `marketplace.channel`, with the file's extra buffer rules merged in.
    `stamps`: the watched models' write_dates, when the caller has just probed them."""
    watched = ("marketplace.channel", "stock.warehouse", "stock.location")
    stamps = stamps if stamps is not None and set(stamps) == set(watched) else probe_stamps(client, watched)
    rows = client.call(
        "marketplace.channel", "search_read", [],
        ["code", "marketplace", "active", "company_id", "warehouse_ids", "excluded_location_ids",
         "buffer_qty", "max_qty", "zero_stock_action"], **NO_CONTEXT_FILTER)
    channels: dict[int, Channel] = {}
    for row in rows:
        code = str(row["code"])
        action = row.get("zero_stock_action")
        channels[int(row["id"])] = Channel(
            id=int(row["id"]), code=code, marketplace=str(row["marketplace"]),
            company_id=m2o_id(row.get("company_id")),
            warehouse_ids=ids(row.get("warehouse_ids")),
            excluded_location_ids=ids(row.get("excluded_location_ids")),
            buffer=buffer_policy(number(row.get("buffer_qty")), config.channels.get(code)),
            max_qty=number(row.get("max_qty")),
            zero_stock_action=ZeroStockAction(action) if action else None,
            active=bool(row.get("active", True)),
        )
    warehouses = _read_warehouses(client)
    roots = _roots(channels, warehouses)
    return ConfigView(channels=channels, warehouses=warehouses,
                      locations=_read_locations(client, roots), roots=roots,
                      company_partner_ids=_read_company_partners(client),
                      watched=watched, stamps=stamps)


def load_file_view(client: OdooClient, config: BridgeConfig,
                   stamps: dict[str, str | None] | None = None) -> ConfigView:
    """Channels and listings from the config file; warehouses by code, locations by name."""
    watched = ("stock.warehouse", "stock.location", "product.product")
    stamps = stamps if stamps is not None and set(stamps) == set(watched) else probe_stamps(client, watched)
    warehouses = _read_warehouses(client)
    by_code = {w.code: w for w in warehouses.values()}
    codes = sorted(code for code, ch in config.channels.items() if ch.enabled)
    pending: list[tuple[int, str, ChannelConfig]] = []
    channels: dict[int, Channel] = {}
    for index, code in enumerate(codes):
        cfg = config.channels[code]
        if cfg.marketplace is None:
            raise ConfigError(f"channels.{code}.marketplace is required without the Odoo addon")
        unknown = [c for c in cfg.warehouses if c not in by_code]
        if unknown or not cfg.warehouses:
            raise ConfigError(f"channels.{code}.warehouses: "
                              + (f"no warehouse with code {unknown[0]!r} in Odoo" if unknown
                                 else "list at least one stock.warehouse code"))
        chosen = tuple(by_code[c].id for c in cfg.warehouses)
        channel_id = index + 1
        channels[channel_id] = Channel(
            id=channel_id, code=code, marketplace=cfg.marketplace,
            company_id=by_code[cfg.warehouses[0]].company_id, warehouse_ids=chosen,
            buffer=buffer_policy(cfg.buffer_qty, cfg), max_qty=cfg.max_qty,
            zero_stock_action=ZeroStockAction(cfg.zero_stock_action)
            if cfg.zero_stock_action else None,
        )
        pending.append((channel_id, code, cfg))
    roots = _roots(channels, warehouses)
    locations = _read_locations(client, roots)
    by_name = {loc.name: loc.id for loc in locations.values()}
    for channel_id, code, cfg in pending:
        missing = [n for n in cfg.excluded_locations if n not in by_name]
        if missing:
            raise ConfigError(f"channels.{code}.excluded_locations: no location {missing[0]!r} "
                              "under the channel's warehouses (use the full name, e.g. "
                              "\"WH/Stock/Shelf B\")")
        channel = channels[channel_id]
        channels[channel_id] = Channel(
            id=channel.id, code=channel.code, marketplace=channel.marketplace,
            company_id=channel.company_id, warehouse_ids=channel.warehouse_ids,
            excluded_location_ids=tuple(by_name[n] for n in cfg.excluded_locations),
            buffer=channel.buffer, max_qty=channel.max_qty,
            zero_stock_action=channel.zero_stock_action)
    skus = sorted({listing.sku for _, _, cfg in pending for listing in cfg.listings})
    sku_products = _products_by_code(client, skus)
    listings: list[Listing] = []
    for channel_id, code, cfg in pending:
        for index, item in enumerate(cfg.listings):
            product_id = sku_products.get(item.sku)
            if product_id is None:
                log.warning("channels.%s listing %s: no product with internal reference %r in "
                            "Odoo; skipped", code, item.channel_sku or item.sku, item.sku)
                continue
            listings.append(Listing(
                id=channel_id * LISTING_ID_BLOCK + index + 1, channel_id=channel_id,
                product_id=product_id, channel_sku=item.channel_sku or item.sku,
                external_id=item.external_id, buffer_qty=item.buffer_qty,
                max_qty=item.max_qty, pack_size=item.pack_size,
                velocity_class=item.velocity_class or config.velocity_classes.get(item.sku),
            ))
    return ConfigView(channels=channels, warehouses=warehouses, locations=locations,
                      roots=roots, company_partner_ids=_read_company_partners(client),
                      watched=watched, stamps=stamps, listings=listings,
                      sku_products=sku_products)


def _roots(channels: dict[int, Channel], warehouses: dict[int, Warehouse]) -> tuple[int, ...]:
    return tuple(sorted({warehouses[w].lot_stock_id for c in channels.values()
                         for w in c.warehouse_ids if w in warehouses}))


def _read_warehouses(client: OdooClient) -> dict[int, Warehouse]:
    rows = client.call("stock.warehouse", "search_read", [],
                       ["code", "lot_stock_id", "company_id"], **NO_CONTEXT_FILTER)
    return {int(r["id"]): Warehouse(id=int(r["id"]), code=str(r["code"]),
                                    lot_stock_id=m2o_id(r["lot_stock_id"]) or 0,
                                    company_id=m2o_id(r.get("company_id")) or 0)
            for r in rows}


def _read_locations(client: OdooClient, roots: tuple[int, ...]) -> dict[int, Location]:
    if not roots:
        return {}
    rows = client.call("stock.location", "search_read", [("id", "child_of", list(roots))],
                       ["complete_name", "location_id", "usage", "company_id", "active"],
                       **NO_CONTEXT_FILTER)
    return {int(r["id"]): _location(r) for r in rows}


def _location(row: dict[str, Any]) -> Location:
    return Location(id=int(row["id"]), name=text(row.get("complete_name")) or "",
                    parent_id=m2o_id(row.get("location_id")), usage=str(row.get("usage")),
                    company_id=m2o_id(row.get("company_id")),
                    active=bool(row.get("active", True)))


def _read_company_partners(client: OdooClient) -> frozenset[int]:
    rows = client.call("res.company", "search_read", [], ["partner_id"])
    return frozenset(p for p in (m2o_id(r.get("partner_id")) for r in rows) if p)


def _products_by_code(client: OdooClient, codes: list[str]) -> dict[str, int]:
    if not codes:
        return {}
    rows = client.call("product.product", "search_read", [("default_code", "in", codes)],
                       ["default_code"])
    return {str(r["default_code"]): int(r["id"]) for r in rows if r.get("default_code")}
