"""Reads the shop from the ERP for `advise` and `simulate`: listings with their current
buffer and sellable units, and each (product, channel)'s order rate from the history.

This is the only part of connector.risk that does I/O (besides the commands).

Usage::

    shop = read_shop(client, config, now)
    for product in shop.products.values(): ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from connector.config import BridgeConfig
from connector.erp.client import OdooClient
from connector.erp.demand import AttributionRules, ChannelDemand, attribute, read_deliveries
from connector.erp.source import StockSource
from connector.stock.compute import compute_listings


@dataclass(frozen=True, slots=True)
class ListingView:
    listing_id: int
    product_id: int
    sku: str  # the product's default_code (the ERP SKU)
    channel: str
    marketplace: str
    channel_sku: str
    pool: float  # units the listing could publish before its buffer
    buffer: int  # the buffer in force now (listing override or channel rule)


@dataclass(slots=True)
class ProductView:
    product_id: int
    sku: str
    listings: list[ListingView] = field(default_factory=list)
    demand: dict[str, ChannelDemand] = field(default_factory=dict)  # channel code -> demand

    @property
    def sold_units(self) -> float:
        return sum(d.units + d.shared_units for d in self.demand.values())


@dataclass(slots=True)
class Shop:
    mode: str  # addon | no_addon
    channels: dict[str, str]  # code -> marketplace
    products: dict[int, ProductView]
    window_days: float
    deliveries: int  # done deliveries to customers read


def rules_from(config: BridgeConfig) -> AttributionRules:
    chans = config.risk.channels
    return AttributionRules(
        origin_prefixes={code: list(c.origin_prefixes) for code, c in chans.items() if c.origin_prefixes},
        sales_teams={code: c.sales_team for code, c in chans.items() if c.sales_team},
        shares={code: c.share for code, c in chans.items() if c.share is not None},
    )


def read_shop(client: OdooClient, config: BridgeConfig, now: datetime) -> Shop:
    source = StockSource(client, config)
    view = source.config_view()
    channels = {c.code: c.marketplace for c in view.channels.values() if c.active}
    products: dict[int, ProductView] = {}
    for snapshot in source.iter_snapshots():
        for result in compute_listings(snapshot, now):
            explanation = result.explanation
            product = snapshot.products.get(result.product_id)
            sku = (product.default_code if product else None) or result.sku
            view_ = products.setdefault(result.product_id, ProductView(result.product_id, sku))
            view_.listings.append(ListingView(
                listing_id=result.listing_id, product_id=result.product_id, sku=sku,
                channel=result.channel_code, marketplace=result.marketplace, channel_sku=result.sku,
                pool=max(0.0, float(explanation.pool)), buffer=int(round(explanation.buffer_rule.total))))
    days = config.risk.window_days
    series = getattr(client, "server_series", "18.0")
    quantity_field = "quantity_done" if str(series).startswith("16") else "quantity"
    history = read_deliveries(client, now - timedelta(days=days), now, products.keys(),
                              quantity_field=quantity_field, read_teams=config.risk.read_sales_teams)
    listed = {pid: sorted({item.channel for item in p.listings}) for pid, p in products.items()}
    rates = attribute(history, listed, rules_from(config), days)
    for (pid, code), demand in rates.items():
        products[pid].demand[code] = demand
    return Shop(source.mode, channels, products, days, len(history))
