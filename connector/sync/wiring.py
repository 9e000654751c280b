"""The real collaborators of the engine, built from a BridgeConfig (the one place that
imports connector.erp, connector.stock.compute and the adapter registry).

Usage::

    deps = build_deps(config)            # connects to the ERP
    engine = Engine(deps, settings_from_config(config), store)
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from connector.config import MARKETPLACES, BridgeConfig
from connector.stock.model import SyncState, ZeroStockAction
from connector.sync.engine import EngineDeps, EngineSettings
from connector.sync.ports import AdapterLike

log = logging.getLogger(__name__)

OUTBOX_PAGE = 1000
OUTBOX_MAX_PAGES = 20  # per flush; the rest is read by the next round


def settings_from_config(config: BridgeConfig) -> EngineSettings:
    b = config.bridge
    return EngineSettings(
        coalesce_s=b.coalesce_ms / 1000.0,
        poll_interval_s=b.poll_interval_s,
        retry_base_s=max(1.0, b.retry_interval_s),
        disabled_channels=frozenset(code for code, ch in config.channels.items() if not ch.enabled),
    )


class OutboxChangeFeed:
    """The addon's marketplace.stock.event outbox as a ChangeFeed (cursor = event id)."""

    name = "outbox"

    def __init__(self, feed: Any) -> None:  # connector.erp.changes.OutboxFeed
        self.feed = feed

    def start(self) -> int:
        return int(self.feed.latest_id())

    def read(self, after: Any) -> tuple[dict[int, list[int]], Any]:
        position = int(after or 0)
        products: dict[int, list[int]] = {}
        for _ in range(OUTBOX_MAX_PAGES):
            events = self.feed.read(position, limit=OUTBOX_PAGE)
            for event in events:
                if event.product_id:
                    products.setdefault(event.product_id, []).append(event.id)
                position = max(position, event.id)
            if len(events) < OUTBOX_PAGE:
                break
        return products, position


class WriteDateChangeFeed:
    """write_date polling of stock.quant / stock.move (no addon); cursor = a watermark."""

    name = "write_date"

    def __init__(self, poller: Any) -> None:  # connector.erp.changes.WriteDatePoller
        self.poller = poller

    def start(self) -> Any:
        return self.poller.poll(None)[1]

    def read(self, after: Any) -> tuple[dict[int, list[int]], Any]:
        changed, watermark = self.poller.poll(after)
        return {int(pid): [] for pid in changed}, watermark


def zero_stock_defaults() -> dict[str, ZeroStockAction]:
    """Each marketplace's own zero-stock behaviour, from its adapter class."""
    from connector.marketplaces.registry import adapter_class

    defaults: dict[str, ZeroStockAction] = {}
    for marketplace in MARKETPLACES:
        try:
            defaults[marketplace] = adapter_class(marketplace).default_zero_stock
        except (ImportError, AttributeError, ValueError) as exc:
            log.debug("no adapter for %s yet: %s", marketplace, exc)
    return defaults


def make_adapter_factory(config: BridgeConfig) -> Any:
    from connector.marketplaces.registry import build_adapter

    def factory(channel_code: str, marketplace: str) -> AdapterLike:
        section = config.channels.get(channel_code)
        if section is None:
            raise ValueError(
                f"the ERP has channel {channel_code!r} but the config has no [channels.{channel_code}] "
                "section with its credentials"
            )
        adapter: AdapterLike = build_adapter(
            channel_code, section.marketplace or marketplace, section.settings(channel_code)
        )
        return adapter

    return factory


def _status(listing_id: int, state: SyncState, qty: int | None, at: datetime | None, error: str | None) -> Any:
    from connector.erp.status import ListingStatus

    return ListingStatus(listing_id, state, qty, at or datetime.now(), error)


def build_deps(config: BridgeConfig) -> tuple[EngineDeps, list[Any]]:
    """Connect to the ERP and build the engine's collaborators; also returns clients to close."""
    from connector.erp.changes import OutboxFeed, WriteDatePoller
    from connector.erp.client import connect
    from connector.erp.source import StockSource
    from connector.erp.status import ListingStatusWriter
    from connector.stock.compute import compute_listings

    # Separate connections: the flusher, the change feed and the status writer run on
    # different threads and must not share one RPC session.
    client = connect(config.erp)
    clients = [client]
    source = StockSource(client, config)
    feed_client = connect(config.erp)
    clients.append(feed_client)
    feed: Any
    if source.mode == "addon":
        feed = OutboxChangeFeed(OutboxFeed(feed_client))
        status_client = connect(config.erp)
        clients.append(status_client)
        sink: Any = ListingStatusWriter(status_client, enabled=True)
    else:
        feed = WriteDateChangeFeed(WriteDatePoller(feed_client))
        sink = None
    deps = EngineDeps(
        source=source,
        compute=compute_listings,
        adapter_factory=make_adapter_factory(config),
        feed=feed,
        status_sink=sink,
        status_factory=_status if sink is not None else None,
        zero_stock_defaults=zero_stock_defaults(),
    )
    return deps, clients
