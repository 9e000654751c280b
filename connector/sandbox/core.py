"""The sandbox's memory: listings, accounts, tokens, faults and the request log.

Written from the marketplaces' published APIs, never from our clients (DESIGN.md): nothing
here imports connector.marketplaces, connector.erp or connector.sync.

Usage::

    sandbox = Sandbox(seed={"listings": {"bol": [{"sku": "E1", "external_id": "1", "quantity": 3}]}})
    sandbox.market("bol").find(external_id="1").quantity   # -> 3
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from connector.catalogue import CODES

MARKETPLACES = CODES


@dataclass
class Listing:
    """One listing as the marketplace holds it."""

    sku: str
    external_id: str | None = None
    quantity: int = 0
    active: bool = True
    status: str = ""  # the marketplace's own state word (etsy "inactive", ebay "ENDED", ...)
    lock_floor: int | None = None  # Lazada campaign lock: sellable may not go below it
    promotion_stock: int = 0  # Shopee reserved promotion stock
    extra: dict[str, Any] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Listing:
        known = {k: raw[k] for k in ("sku", "external_id", "quantity", "active", "status", "lock_floor",
                                     "promotion_stock") if k in raw}
        extra = {k: v for k, v in raw.items() if k not in known and k != "extra"}
        extra.update(raw.get("extra") or {})
        if known.get("external_id") is not None:
            known["external_id"] = str(known["external_id"])
        return cls(**known, extra=extra)


@dataclass
class Storm:
    remaining: int = 0  # requests still to refuse
    until: float = 0.0  # or: refuse until this time
    retry_after: float = 1.0

    def hit(self, now: float) -> bool:
        if self.remaining > 0:
            self.remaining -= 1
            return True
        return now < self.until


WIRE_KINDS = ("garbled", "truncated", "shape", "timeout", "drop")
WIRE_TARGETS = ("read", "write", "any")


@dataclass
class WireFault:
    """A reply that goes wrong on the wire or in its body (tests of confirmation):

    - garbled: 200 whose body is not JSON (nothing applied)
    - shape: 200 with valid JSON of another shape (nothing applied)
    - truncated: the real reply (applied) with its full Content-Length but half its body
    - timeout: the reply is held `hold_ms`, then the connection is closed (nothing applied)
    - drop: the connection is closed without a reply (nothing applied)

    `on` picks the requests: "read" (GETs and the API's read operations), "write" or "any";
    `remaining` counts the faulty replies still to give (0: until the fault is cleared).
    Token endpoints are never faulted (like every other fault here).
    """

    kind: str
    on: str = "any"
    remaining: int = 0
    hold_ms: int = 1000
    used_up: bool = False

    def take(self, is_read: bool) -> bool:
        """Whether this request gets the fault (and count it)."""
        if self.used_up or (self.on != "any" and (self.on == "read") != is_read):
            return False
        if self.remaining > 0:
            self.remaining -= 1
            self.used_up = self.remaining == 0
        return True

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> WireFault:
        kind, on = str(spec.get("kind", "")), str(spec.get("on", "any"))
        if kind not in WIRE_KINDS:
            raise ValueError(f"wire fault kind must be one of {', '.join(WIRE_KINDS)}, not {kind!r}")
        if on not in WIRE_TARGETS:
            raise ValueError(f"wire fault 'on' must be one of {', '.join(WIRE_TARGETS)}, not {on!r}")
        return cls(kind=kind, on=on, remaining=max(0, int(spec.get("count", 0))),
                   hold_ms=max(0, int(spec.get("hold_ms", 1000))))


@dataclass
class Faults:
    error_rate: float = 0.0
    latency_ms: int = 0
    storm: Storm = field(default_factory=Storm)
    wire: WireFault | None = None
    seed: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(0))


class Bucket:
    """The marketplace's own throttle (real time): `rate` per second, `burst` saved up."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.capacity = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> float | None:
        """None when allowed, else the seconds until a token is free."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


class Market:
    """Everything one marketplace holds. Callers take `lock` around reads and writes."""

    def __init__(self, name: str, rate: float | None, burst: float) -> None:
        self.name = name
        self.lock = threading.RLock()
        self.accounts: list[dict[str, Any]] = []
        self.listings: dict[str, Listing] = {}  # by sku
        self.by_external: dict[str, str] = {}  # external_id -> sku
        self.tokens: dict[str, tuple[int, float]] = {}  # access token -> (account index, expires_at)
        self.faults = Faults()
        self.default_rate = (rate, burst)
        self.bucket: Bucket | None = Bucket(rate, burst) if rate else None
        self.jobs: dict[str, dict[str, Any]] = {}  # async process statuses (bol)
        self.counter = 1000

    # -- listings
    def put(self, listing: Listing) -> Listing:
        old = self.listings.get(listing.sku)
        if old is not None and old.external_id:
            self.by_external.pop(old.external_id, None)
        self.listings[listing.sku] = listing
        if listing.external_id:
            self.by_external[listing.external_id] = listing.sku
        return listing

    def find(self, *, sku: str | None = None, external_id: str | None = None) -> Listing | None:
        if external_id is not None:
            sku = self.by_external.get(str(external_id))
        return self.listings.get(sku) if sku is not None else None

    def remove(self, sku: str) -> None:
        listing = self.listings.pop(sku, None)
        if listing is not None and listing.external_id:
            self.by_external.pop(listing.external_id, None)

    def next_id(self) -> int:
        self.counter += 1
        return self.counter

    # -- accounts and tokens
    def account_where(self, **match: Any) -> tuple[int, dict[str, Any]] | None:
        """The account whose credentials all equal `match` (values compared as strings)."""
        for index, account in enumerate(self.accounts):
            if all(str(account.get(k, "")) == str(v) and v not in (None, "") for k, v in match.items()):
                return index, account
        return None

    def issue_token(self, account_index: int, lifetime_s: float, prefix: str = "") -> str:
        token = prefix + secrets.token_urlsafe(24)
        self.tokens[token] = (account_index, time.time() + lifetime_s)
        return token

    def token_account(self, token: str | None) -> dict[str, Any] | None:
        if not token:
            return None
        entry = self.tokens.get(token)
        if entry is None or entry[1] < time.time():
            return None
        return self.accounts[entry[0]]

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def reset(self) -> None:
        self.accounts.clear()
        self.listings.clear()
        self.by_external.clear()
        self.tokens.clear()
        self.jobs.clear()
        self.faults = Faults()
        rate, burst = self.default_rate
        self.bucket = Bucket(rate, burst) if rate else None


@dataclass
class LoggedRequest:
    marketplace: str
    method: str
    path: str  # never the query string: it carries tokens and signatures for some APIs
    status: int
    time: float
    operation: str = ""
    items: int = 0  # stock updates carried by the request, when known


class Sandbox:
    """All markets plus the request log; `rates` maps marketplace -> (rate/s, burst)."""

    def __init__(
        self,
        rates: dict[str, tuple[float | None, float]] | None = None,
        seed: dict[str, Any] | None = None,
        log_size: int = 100_000,
    ) -> None:
        rates = rates or {}
        self.markets = {m: Market(m, *rates.get(m, (None, 1))) for m in MARKETPLACES}
        self.log: deque[LoggedRequest] = deque(maxlen=log_size)
        self.log_lock = threading.Lock()
        self.seed = seed
        if seed:
            self.load(seed)

    def market(self, name: str) -> Market:
        return self.markets[name]

    def load(self, seed: dict[str, Any]) -> None:
        for name, accounts in (seed.get("accounts") or {}).items():
            for account in accounts:
                self.add_account(name, account)
        for name, listings in (seed.get("listings") or {}).items():
            for raw in listings:
                self.add_listing(name, raw)

    def add_account(self, marketplace: str, credentials: dict[str, Any]) -> None:
        market = self.markets[marketplace]
        with market.lock:
            market.accounts.append({k: str(v) for k, v in credentials.items()})

    def add_listing(self, marketplace: str, raw: dict[str, Any]) -> Listing:
        market = self.markets[marketplace]
        with market.lock:
            return market.put(Listing.from_dict(raw))

    def reset(self, reseed: bool = True) -> None:
        for market in self.markets.values():
            with market.lock:
                market.reset()
        with self.log_lock:
            self.log.clear()
        if reseed and self.seed:
            self.load(self.seed)

    def record(self, entry: LoggedRequest) -> None:
        with self.log_lock:
            self.log.append(entry)

    def requests(self, marketplace: str | None = None, since: float | None = None) -> list[dict[str, Any]]:
        with self.log_lock:
            entries = list(self.log)
        return [
            asdict(e) for e in entries
            if (marketplace is None or e.marketplace == marketplace) and (since is None or e.time >= since)
        ]

    def state(self, marketplace: str | None = None) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for name, market in self.markets.items():
            if marketplace is None or marketplace == name:
                with market.lock:
                    out[name] = [listing.view() for listing in market.listings.values()]
        return out

    def set_faults(self, spec: dict[str, Any]) -> None:
        """Apply a faults document (see connector/sandbox/admin.py)."""
        names = [spec["marketplace"]] if spec.get("marketplace") else list(self.markets)
        for name in names:
            market = self.markets[name]
            with market.lock:
                faults = market.faults
                if "seed" in spec:
                    faults.seed = int(spec["seed"])
                    faults.rng = random.Random(faults.seed)
                if "error_rate" in spec:
                    faults.error_rate = float(spec["error_rate"])
                if "latency_ms" in spec:
                    faults.latency_ms = int(spec["latency_ms"])
                storm = spec.get("storm_429")
                if storm is not None:
                    faults.storm = Storm(
                        remaining=int(storm.get("count", 0)),
                        until=time.time() + float(storm.get("seconds", 0)),
                        retry_after=float(storm.get("retry_after", 1)),
                    )
                if "wire" in spec:
                    wire = spec["wire"]
                    faults.wire = WireFault.from_spec(wire) if wire else None
                if "rate_limit" in spec:
                    limit = spec["rate_limit"]
                    market.bucket = Bucket(float(limit["rate"]), float(limit.get("burst", 1))) if limit else None
                if spec.get("revoke_tokens"):
                    market.revoke_tokens()
                lock = spec.get("lock")
                if lock is not None:
                    listing = market.find(sku=str(lock["sku"]))
                    if listing is None:
                        raise KeyError(f"{name}: no listing with sku {lock['sku']!r}")
                    floor = lock.get("floor")
                    if name == "shopee":
                        listing.promotion_stock = int(floor or 0)
                    else:
                        listing.lock_floor = None if floor is None else int(floor)
                end = spec.get("promotion_end")
                if end is not None:
                    listing = market.find(sku=str(end["sku"]))
                    if listing is None:
                        raise KeyError(f"{name}: no listing with sku {end['sku']!r}")
                    # The promotion's unsold units go back to the seller's stock: the
                    # marketplace now holds more than the bridge last pushed (drift).
                    listing.quantity += int(end.get("returned_qty", 0))
                    listing.promotion_stock = 0
                    listing.lock_floor = None
