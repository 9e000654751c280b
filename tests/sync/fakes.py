"""In-memory stand-ins for the engine's collaborators (ERP source, computation, adapters, feed).

They follow the interfaces in connector.sync.ports closely enough that the engine cannot
tell; the computation is a deliberately tiny version of DESIGN.md's (free stock, buffer 0,
pack 1, zero-stock action per channel).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from connector.marketplaces.base import PushResult, RemoteListing, StockUpdate
from connector.sync.engine import Engine, EngineDeps, EngineSettings
from connector.state.sqlite import StateStore
from connector.stock.model import (
    Channel,
    Listing,
    Product,
    PushAction,
    Quant,
    StockSnapshot,
    ZeroStockAction,
)


@dataclass
class FakeExplanation:
    free: float
    quantity: int

    def render(self) -> str:
        return f"free {self.free:g} -> published {self.quantity}"

    def to_dict(self) -> dict[str, Any]:
        return {"free": self.free, "published": self.quantity}


@dataclass
class FakeResult:
    listing_id: int
    channel_id: int
    channel_code: str
    marketplace: str
    product_id: int
    sku: str
    external_id: str | None
    quantity: int
    action: PushAction
    oversold: bool
    explanation: FakeExplanation


def fake_compute(
    snapshot: StockSnapshot,
    now: datetime,
    *,
    previous_actions: Mapping[int, PushAction] | None,
    zero_stock_defaults: Mapping[str, ZeroStockAction] | None,
    listing_ids: Iterable[int] | None = None,
    marketplace_caps: Mapping[str, int] | None = None,
) -> list[FakeResult]:
    free: dict[int, float] = {}
    for q in snapshot.quants:
        free[q.product_id] = free.get(q.product_id, 0.0) + q.quantity - q.reserved_quantity
    wanted = set(listing_ids) if listing_ids is not None else None
    out = []
    for listing in snapshot.listings:
        if wanted is not None and listing.id not in wanted:
            continue
        channel = snapshot.channels[listing.channel_id]
        stock = free.get(listing.product_id, 0.0)
        qty = max(0, int(stock))
        cap = (marketplace_caps or {}).get(channel.marketplace)
        if cap is not None:
            qty = min(qty, cap)
        prev = (previous_actions or {}).get(listing.id)
        if qty > 0:
            action = PushAction.REACTIVATE if prev is PushAction.DEACTIVATE else PushAction.SET
        elif channel.zero_stock_action is ZeroStockAction.DEACTIVATE:
            action = PushAction.DEACTIVATE
        else:
            action = PushAction.SET
        out.append(
            FakeResult(
                listing.id, channel.id, channel.code, channel.marketplace, listing.product_id,
                listing.channel_sku, listing.external_id, qty, action, stock < 0,
                FakeExplanation(stock, qty),
            )
        )
    return out


class FakeSource:
    """Products with a free stock number each; every channel lists every product."""

    mode = "addon"

    def __init__(self, channels: Sequence[tuple[str, str]], products: Mapping[str, float]) -> None:
        self.channels = {
            i + 1: Channel(
                id=i + 1, code=code, marketplace=mp, company_id=1, warehouse_ids=(1,),
                zero_stock_action=ZeroStockAction.DEACTIVATE if mp == "etsy" else None,
            )
            for i, (code, mp) in enumerate(channels)
        }
        self.products = {
            i + 1: Product(id=i + 1, default_code=sku) for i, sku in enumerate(products)
        }
        self.stock = {i + 1: float(q) for i, q in enumerate(products.values())}
        self.listings = [
            Listing(id=c.id * 1000 + p.id, channel_id=c.id, product_id=p.id,
                    channel_sku=f"{c.code}-{p.default_code}")
            for c in self.channels.values() for p in self.products.values()
        ]
        self.snapshots: list[frozenset[int]] = []
        self.fail: Exception | None = None
        self._lock = threading.Lock()

    def set(self, sku: str, qty: float) -> int:
        pid = self.pid(sku)
        with self._lock:
            self.stock[pid] = qty
        return pid

    def pid(self, sku: str) -> int:
        return next(p.id for p in self.products.values() if p.default_code == sku)

    def listing_id(self, channel_code: str, sku: str) -> int:
        cid = next(c.id for c in self.channels.values() if c.code == channel_code)
        return cid * 1000 + self.pid(sku)

    def snapshot(self, product_ids: Iterable[int], now: datetime | None = None, *,
                 cached: bool = False) -> StockSnapshot:
        if self.fail is not None:
            raise self.fail
        ids = frozenset(product_ids)
        with self._lock:
            self.snapshots.append(ids)
            quants = [Quant(pid, 1, self.stock[pid], 0.0) for pid in ids if pid in self.stock]
        return StockSnapshot(
            taken_at=now or datetime.now(timezone.utc),
            product_ids=ids,
            products={pid: self.products[pid] for pid in ids if pid in self.products},
            locations={},
            warehouses={},
            channels=dict(self.channels),
            listings=[li for li in self.listings if li.product_id in ids],
            quants=quants,
            allocations=[],
        )

    def listed_product_ids(self) -> list[int]:
        return sorted(self.products)

    def iter_snapshots(
        self, product_ids: Iterable[int] | None = None, page_size: int | None = None
    ) -> Iterator[StockSnapshot]:
        ids = sorted(product_ids) if product_ids is not None else self.listed_product_ids()
        size = page_size or 500
        for start in range(0, len(ids), size):
            yield self.snapshot(ids[start : start + size])

    def product_ids_for_skus(self, skus: Iterable[str]) -> dict[str, int]:
        return {p.default_code: p.id for p in self.products.values() if p.default_code in set(skus)}

    def refresh_config(self) -> None:
        pass


class FakeAdapter:
    """Records pushes; `gate` (when set) blocks pushes until released; `decide` scripts results."""

    def __init__(self, code: str, delay_s: float = 0.0) -> None:
        self.code = code
        self.delay_s = delay_s
        self.calls: list[list[StockUpdate]] = []
        self.remote: dict[str, tuple[int, bool]] = {}  # sku -> (quantity, active)
        self.gate: threading.Event | None = None
        self.started = threading.Event()
        self.decide: Callable[[StockUpdate], PushResult] | None = None
        self.closed = False
        self._lock = threading.Lock()

    def push(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        with self._lock:
            self.calls.append(list(updates))
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10), "test gate never released"
        if self.delay_s:
            time.sleep(self.delay_s)
        results = []
        for u in updates:
            result = self.decide(u) if self.decide else PushResult.ok(u)
            if result.outcome.value == "ok":
                with self._lock:
                    self.remote[u.sku] = (u.quantity, u.action is not PushAction.DEACTIVATE)
            results.append(result)
        return results

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        out = []
        for sku, _ext in skus:
            if sku in self.remote:
                qty, active = self.remote[sku]
                out.append(RemoteListing(sku=sku, quantity=qty, active=active))
            else:
                out.append(RemoteListing(sku=sku, quantity=None, found=False))
        return out

    def pushed(self) -> list[tuple[str, int, PushAction]]:
        with self._lock:
            return [(u.sku, u.quantity, u.action) for call in self.calls for u in call]

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeFeed:
    """The outbox: events (id, product_id), read after an id."""

    name: str = "outbox"
    events: list[tuple[int, int]] = field(default_factory=list)
    reads: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def emit(self, product_id: int) -> int:
        with self._lock:
            event_id = (self.events[-1][0] if self.events else 0) + 1
            self.events.append((event_id, product_id))
            return event_id

    def start(self) -> int:
        with self._lock:
            return self.events[-1][0] if self.events else 0

    def read(self, after: Any) -> tuple[dict[int, list[int]], Any]:
        with self._lock:
            self.reads += 1
            new = [(i, p) for i, p in self.events if i > (after or 0)]
        by_product: dict[int, list[int]] = {}
        for event_id, pid in new:
            by_product.setdefault(pid, []).append(event_id)
        return by_product, (new[-1][0] if new else after)


CHANNELS = [("amazon_de", "amazon"), ("etsy_shop", "etsy"), ("lazada_sg", "lazada")]


class Rig:
    def __init__(self, tmp: Path, products: dict[str, float] | None = None, **settings: float) -> None:
        self.source = FakeSource(CHANNELS, products or {"MUG": 5, "LAMP": 1, "TEA": 10})
        self.feed = FakeFeed()
        self.adapters = {code: FakeAdapter(code) for code, _ in CHANNELS}
        self.path = tmp / "state.sqlite3"
        self.now = [1_750_000_000.0]
        self.settings = EngineSettings(
            poll_interval_s=float(settings.get("poll_interval_s", 0.05)),
            max_attempts=int(settings.get("max_attempts", 12)),
        )
        self.engine = self.new_engine()

    def new_engine(self) -> Engine:
        self.store = StateStore.open(self.path)
        deps = EngineDeps(
            source=self.source,
            compute=fake_compute,
            adapter_factory=lambda code, mp: self.adapters[code],
            feed=self.feed,
            clock=lambda: self.now[0],
        )
        return Engine(deps, self.settings, self.store)

    def lid(self, code: str, sku: str) -> int:
        return self.source.listing_id(code, sku)

    def sku(self, code: str, sku: str) -> str:
        return f"{code}-{sku}"


def wait(cond: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll `cond` until true; fail the test after `timeout` seconds naming `what`."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)
