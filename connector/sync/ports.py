"""What the engine needs from the other parts, as small Protocols.

The engine is written against these, not against concrete classes, so its tests run on
in-memory fakes and the real wiring lives in one place (`connector.sync.wiring`).

Usage::

    engine = Engine(EngineDeps(source=my_source, compute=compute_listings, ...), config, store)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from connector.marketplaces.base import PushResult, RemoteListing, StockUpdate
from connector.stock.model import PushAction, StockSnapshot, SyncState, ZeroStockAction


class ExplanationLike(Protocol):
    def render(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


class ListingResultLike(Protocol):
    """connector.stock.result.ListingResult: one listing's published number and why."""

    @property
    def listing_id(self) -> int: ...
    @property
    def channel_id(self) -> int: ...
    @property
    def channel_code(self) -> str: ...
    @property
    def marketplace(self) -> str: ...
    @property
    def product_id(self) -> int: ...
    @property
    def sku(self) -> str: ...
    @property
    def external_id(self) -> str | None: ...
    @property
    def quantity(self) -> int: ...
    @property
    def action(self) -> PushAction: ...
    @property
    def oversold(self) -> bool: ...
    @property
    def explanation(self) -> ExplanationLike: ...


class ComputeFn(Protocol):
    """connector.stock.compute.compute_listings."""

    def __call__(
        self,
        snapshot: StockSnapshot,
        now: datetime,
        *,
        previous_actions: Mapping[int, PushAction] | None,
        zero_stock_defaults: Mapping[str, ZeroStockAction] | None,
        listing_ids: Iterable[int] | None = None,
        marketplace_caps: Mapping[str, int] | None = None,
    ) -> Sequence[ListingResultLike]: ...


class StockSourceLike(Protocol):
    """connector.erp.StockSource: batched reads of the ERP's truth."""

    @property
    def mode(self) -> str: ...

    def snapshot(
        self, product_ids: Iterable[int], now: datetime | None = None, *, cached: bool = False
    ) -> StockSnapshot: ...

    def listed_product_ids(self) -> Iterable[int]: ...

    def product_ids_for_skus(self, skus: Iterable[str]) -> dict[str, int]: ...

    def refresh_config(self) -> None: ...


class AdapterLike(Protocol):
    """connector.marketplaces.base.MarketplaceAdapter, the part the engine uses."""

    def push(self, updates: Sequence[StockUpdate]) -> list[PushResult]: ...

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]: ...

    def close(self) -> None: ...


# (channel_code, marketplace) -> adapter; raises ValueError when the channel cannot be built
AdapterFactory = Callable[[str, str], AdapterLike]


# Where a change feed has read up to, as kept in the state file's cursor table: the outbox's
# last event id, or {"high": id, "gaps": {"<id>": first seen}} while gaps are open
# (connector.sync.wiring.OutboxChangeFeed); write_date polling's watermark (a datetime or
# its text); None before the first read.
FeedPosition = int | str | datetime | dict[str, Any] | None


class ChangeFeed(Protocol):
    """Where change triggers come from: the addon's outbox, or write_date polling.

    `start()` gives the position to begin at on a fresh state file (everything before it
    is covered by the first full sync); `read(after)` gives the products changed after a
    position (product id -> the event ids that said so, maybe none) and the new position.
    """

    name: str

    def start(self) -> FeedPosition: ...

    def read(self, after: FeedPosition) -> tuple[dict[int, list[int]], FeedPosition]: ...

    # Optional members, read with getattr because plain feeds have none:
    # `last_reasons: set[str]` (the reasons the last read returned; "manual" = a config
    # edit) and `delivered(position, event_id) -> bool` (a read up to `position` has
    # returned that event; default: `event_id <= position` for an int position).


class ListingStatusLike(Protocol):
    listing_id: int
    sync_state: SyncState


class StatusSink(Protocol):
    """Writes sync_state/last_error/last_pushed_qty back to marketplace.listing (addon mode)."""

    def write(self, statuses: Sequence[Any]) -> object: ...


# Builds connector.erp.status.ListingStatus-like records: (listing_id, state, qty, at, error)
StatusFactory = Callable[[int, SyncState, int | None, datetime | None, str | None], Any]
