"""A marketplace that exists only in tests: one module, registered with one registry line
(monkeypatched), to prove nothing else in the bridge needs to know about it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import ClassVar

from connector.marketplaces.base import MarketplaceAdapter, PushResult, RemoteListing, StockUpdate
from connector.stock.model import ZeroStockAction

PUSHED: list[tuple[str, str, int]] = []  # (channel code, sku, quantity), across instances
_LOCK = threading.Lock()


class DummyAdapter(MarketplaceAdapter):
    marketplace = "dummy"
    batch_limit = 50
    rate_per_s = 100.0
    burst = 10
    default_zero_stock = ZeroStockAction.DEACTIVATE
    required_keys: ClassVar[tuple[str, ...]] = ("shop_id", "api_secret")
    secret_keys: ClassVar[tuple[str, ...]] = ("api_secret", "signing_phrase")
    optional_keys: ClassVar[tuple[str, ...]] = ("region",)

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        with _LOCK:
            PUSHED.extend((self.channel_code, u.sku, u.quantity) for u in batch)
        return [PushResult.ok(u) for u in batch]

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        return [RemoteListing(sku=sku, quantity=None, found=False) for sku, _ in skus]
