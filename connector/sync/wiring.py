"""The real collaborators of the engine, built from a BridgeConfig (the one place that
imports connector.erp, connector.stock.compute and the adapter registry).

Usage::

    validate_channels(config)                   # ConfigError naming channel + key
    deps, clients = build_deps(config, store)   # connects to the ERP
    engine = Engine(deps, settings_from_config(config), store)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from connector.config import BridgeConfig
from connector.stock.model import SyncState, ZeroStockAction
from connector.sync.channel_keys import validate_channels
from connector.sync.credentials import TokenVault
from connector.sync.engine import EngineDeps, EngineSettings
from connector.sync.ports import AdapterLike, ChangeFeed, FeedPosition, StatusSink
from connector.state.store import Store

log = logging.getLogger(__name__)

OUTBOX_PAGE = 1000
OUTBOX_MAX_PAGES = 20  # per flush; the rest is read by the next round
# How long an id skipped in the outbox is asked for again: longer than any ERP transaction
# that writes stock (a big validation can take a while); the safety-net resync covers the rest.
GAP_TIMEOUT_S = 120.0
MAX_GAP_SPAN = 1000  # ids skipped at once beyond this are a sequence jump, not in-flight commits
MAX_GAPS = 5000


def settings_from_config(config: BridgeConfig) -> EngineSettings:
    b = config.bridge
    return EngineSettings(
        poll_interval_s=b.poll_interval_s,
        retry_base_s=max(1.0, b.retry_interval_s),
        disabled_channels=frozenset(code for code, ch in config.channels.items() if not ch.enabled),
    )


class OutboxChangeFeed:
    """The addon's marketplace.stock.event outbox as a ChangeFeed (cursor = event id).

    Event ids come from a PostgreSQL sequence, so a transaction that took a lower id can
    commit after one with a higher id: reading only `id > cursor` would skip it for good.
    The feed therefore remembers the ids it stepped over ("gaps") and asks for them again
    on every read until they appear or `gap_timeout_s` passes (a rolled-back transaction
    leaves a gap that never fills). While gaps are open the position is
    ``{"high": <newest id read>, "gaps": {"<id>": <first seen, epoch s>}}`` instead of a
    plain id, so a stored cursor carries them across a restart and a failed flush re-reads
    exactly the same events. Usage: ``products, pos = feed.read(pos)``
    """

    name = "outbox"

    def __init__(self, feed: Any, gap_timeout_s: float = GAP_TIMEOUT_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.feed = feed
        self.gap_timeout_s = gap_timeout_s
        self.clock = clock
        # The reasons of the events the last read returned: "manual" (a channel, listing or
        # allocation edit) makes the engine read the ERP's configuration again.
        self.last_reasons: set[str] = set()

    def start(self) -> int:
        return int(self.feed.latest_id())

    @staticmethod
    def delivered(position: FeedPosition, event_id: int) -> bool:
        """A read up to `position` has returned (or will never return) event `event_id`."""
        return _delivered(position, event_id)

    def read(self, after: FeedPosition) -> tuple[dict[int, list[int]], FeedPosition]:
        high, gaps = _unpack_position(after)
        now = self.clock()
        products: dict[int, list[int]] = {}
        reasons: set[str] = set()

        def take(event: Any) -> None:
            reasons.add(str(event.reason))
            if event.product_id:
                products.setdefault(event.product_id, []).append(event.id)

        if gaps:
            for event in self.feed.read_ids(sorted(gaps)):
                gaps.pop(event.id, None)
                take(event)
        for _ in range(OUTBOX_MAX_PAGES):
            events = self.feed.read(high, limit=OUTBOX_PAGE)
            for event in events:
                if event.id <= high:
                    continue
                if event.id - high - 1 <= MAX_GAP_SPAN:  # a huge jump is a reset, not a gap
                    for missing in range(high + 1, event.id):
                        gaps[missing] = now
                take(event)
                high = event.id
            if len(events) < OUTBOX_PAGE:
                break
        self.last_reasons = reasons
        gaps = {i: t for i, t in gaps.items() if now - t < self.gap_timeout_s}
        if len(gaps) > MAX_GAPS:
            gaps = dict(sorted(gaps.items())[-MAX_GAPS:])
        if not gaps:
            return products, high
        return products, {"high": high, "gaps": {str(i): t for i, t in sorted(gaps.items())}}


def _delivered(position: FeedPosition, event_id: int) -> bool:
    high, gaps = _unpack_position(position)
    return event_id <= high and event_id not in gaps


def _unpack_position(position: FeedPosition) -> tuple[int, dict[int, float]]:
    if isinstance(position, dict):
        gaps = {int(i): float(t) for i, t in (position.get("gaps") or {}).items()}
        return int(position.get("high") or 0), gaps
    if isinstance(position, (int, str)):
        return int(position or 0), {}
    return 0, {}  # no position yet (a datetime is write_date polling's, never the outbox's)


class WriteDateChangeFeed:
    """write_date polling of stock.quant / stock.move (no addon); cursor = a watermark."""

    name = "write_date"

    def __init__(self, poller: Any) -> None:  # connector.erp.changes.WriteDatePoller
        self.poller = poller

    def start(self) -> FeedPosition:
        watermark: FeedPosition = self.poller.poll(None)[1]
        return watermark

    def read(self, after: FeedPosition) -> tuple[dict[int, list[int]], FeedPosition]:
        changed, watermark = self.poller.poll(after)
        return {int(pid): [] for pid in changed}, watermark


def zero_stock_defaults() -> dict[str, ZeroStockAction]:
    """Each marketplace's own zero-stock behaviour, from its adapter class."""
    from connector.marketplaces.registry import ADAPTERS, adapter_class

    defaults: dict[str, ZeroStockAction] = {}
    for marketplace in ADAPTERS:
        try:
            defaults[marketplace] = adapter_class(marketplace).default_zero_stock
        except (ImportError, AttributeError, ValueError) as exc:
            log.debug("no adapter for %s yet: %s", marketplace, exc)
    return defaults


def marketplace_caps() -> dict[str, int]:
    """marketplace -> the most it stores for one listing (the adapter class's max_quantity);
    the computation caps there, so the recorded value is what the marketplace holds.
    Usage: ``marketplace_caps()["bol"] == 999``"""
    from connector.marketplaces.registry import ADAPTERS, adapter_class

    caps: dict[str, int] = {}
    for marketplace in ADAPTERS:
        try:
            cap = adapter_class(marketplace).max_quantity
        except (ImportError, AttributeError, ValueError) as exc:
            log.debug("no adapter for %s yet: %s", marketplace, exc)
            continue
        if cap:
            caps[marketplace] = int(cap)
    return caps


JOURNAL_HISTORY_ROWS = 200_000  # newest journal rows an adapter's history is rebuilt from


def make_adapter_factory(config: BridgeConfig, tokens: TokenVault | None = None,
                         store: Store | None = None) -> Any:
    """(channel code, marketplace) -> adapter; with `tokens`, rotated credentials are
    read from and written to the state store (connector.sync.credentials); with `store`,
    an adapter that meters per-listing usage gets its recent accepted pushes back from the
    journal (eBay's daily revision cap survives a restart)."""
    from connector.marketplaces.base import MarketplaceAdapter, PastPush
    from connector.marketplaces.registry import build_adapter

    def factory(channel_code: str, marketplace: str) -> AdapterLike:
        section = config.channels.get(channel_code)
        if section is None:
            raise ValueError(
                f"the ERP has channel {channel_code!r} but the config has no [channels.{channel_code}] "
                "section with its credentials"
            )
        settings = section.settings(channel_code)
        adapter: AdapterLike = build_adapter(
            channel_code,
            section.marketplace or marketplace,
            tokens.overlay(channel_code, settings) if tokens is not None else settings,
        )
        if tokens is not None and isinstance(adapter, MarketplaceAdapter):
            adapter.on_token_rotated = tokens.saver(channel_code, settings)
        if store is not None and not store.read_only and isinstance(adapter, MarketplaceAdapter):
            adapter.on_warning = channel_warnings(store, channel_code)
            for topic, message in adapter.warnings().items():  # raised while configuring
                adapter.on_warning(topic, message)
        if store is not None and isinstance(adapter, MarketplaceAdapter) and adapter.history_window_s > 0:
            since = time.time() - adapter.history_window_s
            rows = store.journal(channel=channel_code, since=since, limit=JOURNAL_HISTORY_ROWS)
            adapter.restore_history([PastPush(r.channel_sku, r.new_qty, r.at) for r in rows if r.result == "ok"])
        return adapter

    return factory


CHANNEL_WARNING = "channel"  # alert kind prefix: "channel:<code>:<topic>", product 0


def channel_warnings(store: Store, channel_code: str) -> Any:
    """An adapter's `on_warning` hook: its configuration warnings (API version close to
    retirement, an eBay preference) kept as open alerts, which `status` lists."""

    def keep(topic: str, message: str | None) -> None:
        kind = f"{CHANNEL_WARNING}:{channel_code}:{topic}"
        if message is None:
            store.clear_alert(kind, 0)
            return
        store.clear_alert(kind, 0)  # a restated warning replaces the old text
        store.open_alert(kind, 0, channel_code, message)

    return keep


def _status(listing_id: int, state: SyncState, qty: int | None, at: datetime | None, error: str | None) -> Any:
    from connector.erp.status import ListingStatus

    return ListingStatus(listing_id, state, qty, at or datetime.now(), error)


def build_deps(config: BridgeConfig, store: Store | None = None) -> tuple[EngineDeps, list[Any]]:
    """Connect to the ERP and build the engine's collaborators; also returns clients to close.

    With a writable `store`, adapters keep rotated tokens in it (TokenVault)."""
    from connector.erp.changes import OutboxFeed, WriteDatePoller
    from connector.erp.client import connect
    from connector.erp.source import StockSource
    from connector.erp.status import ListingStatusWriter
    from connector.stock.compute import compute_listings

    # Separate connections: the flusher, the change feed and the status writer run on
    # different threads and must not share one RPC session.
    validate_channels(config)  # before any connection: a bad section is exit 2 at once
    client = connect(config.erp)
    clients = [client]
    try:
        source = StockSource(client, config)
        # Sections that leave the marketplace to the ERP are checked against its answer.
        validate_channels(config, {c.code: c.marketplace for c in source.config_view().channels.values()})
    except BaseException:
        client.close()
        raise
    feed_client = connect(config.erp)
    clients.append(feed_client)
    feed: ChangeFeed
    if source.mode == "addon":
        feed = OutboxChangeFeed(OutboxFeed(feed_client))
        status_client = connect(config.erp)
        clients.append(status_client)
        sink: StatusSink | None = ListingStatusWriter(status_client, enabled=True)
    else:
        feed = WriteDateChangeFeed(WriteDatePoller(feed_client))
        sink = None
    deps = EngineDeps(
        source=source,
        compute=compute_listings,
        adapter_factory=make_adapter_factory(
            config, TokenVault(store) if store is not None and not store.read_only else None, store
        ),
        feed=feed,
        status_sink=sink,
        status_factory=_status if sink is not None else None,
        zero_stock_defaults=zero_stock_defaults(),
        marketplace_caps=marketplace_caps(),
    )
    return deps, clients
