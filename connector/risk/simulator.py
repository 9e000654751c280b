"""A seeded discrete-event simulation of one stock sold on N channels (issue 13 item 4).

The ERP holds the truth `q`. Each channel j shows its own count `s_j`, takes an order
when `s_j >= 1` and counts it down at once (every marketplace does). The order reaches the
ERP after channel j's detection delay; if the ERP has no unit left then, it is an
oversell: the order is cancelled and counts against channel j's cancellation rate. Every
change of `q` is pushed (policy "event") or the current `q` is pushed every T seconds
(policy "batch"); a push sets the channel's count to `max(0, q - b_j)` when it arrives,
after the push and live-for-buyers delays. An older push never overwrites a newer one.
When the ERP runs out, a lot of `lot_size` units arrives `restock_after_s` later.

Orders are Poisson per channel; with `dispersion` > 0 the product's rate is multiplied
by a Gamma(1/dispersion, dispersion) draw in every `burst_epoch_s` (bursty demand: the
counts per epoch are negative binomial).

Two drivers:

* `simulate(...)` runs the shop steadily for `orders` accepted orders and reports
  oversells per 10k orders, cancellation rates, units hidden by buffers, lost sales;
* `sellout_trials(...)` runs independent sell-outs from a few units (no restock) and
  reports the chance of an oversell per sell-out: what the closed form predicts.

Usage::

    channels = [SimChannel("amazon_de", 20 / 86400, legs), ...]
    simulate(channels, Policy.event({"amazon_de": 2}), lot_size=20, orders=20_000, seed=1)
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from connector.risk.advisor import AdviceError
from connector.risk.delays import ChannelDelays

ORDER, ARRIVE, APPLY, RESTOCK, BATCH, EPOCH = range(6)
# A push whose value and the channel's current count are both at least this high cannot
# matter for an oversell or a refused order soon; skipping it keeps big lots fast.
FAR_FROM_ZERO = 50

# Seller-fault cancellation thresholds (oversell-model.md §2); None: no published limit.
CANCEL_THRESHOLDS: dict[str, float | None] = {
    "amazon": 0.025, "bol": 0.02, "zalando": 0.01, "kaufland": 0.01, "ebay": 0.02,
    "lazada": 0.30, "shopee": 0.10, "etsy": None, "shopify": None, "woocommerce": None,
}


@dataclass(frozen=True, slots=True)
class SimChannel:
    code: str
    rate_per_s: float
    legs: ChannelDelays
    marketplace: str = ""

    def __post_init__(self) -> None:
        if not self.rate_per_s >= 0 or math.isinf(self.rate_per_s):
            raise AdviceError(f"channel {self.code}: the order rate must be a non-negative number")


@dataclass(frozen=True, slots=True)
class Policy:
    """How the ERP's number reaches the channels, and the buffers they hold back."""

    name: str
    kind: Literal["event", "batch"]
    buffers: Mapping[str, int] = field(default_factory=dict)
    period_s: float = 0.0  # batch only

    @staticmethod
    def event(buffers: Mapping[str, int] | None = None, name: str = "this bridge") -> Policy:
        return Policy(name, "event", dict(buffers or {}))

    @staticmethod
    def batch(period_s: float, buffers: Mapping[str, int] | None = None, name: str | None = None) -> Policy:
        if period_s <= 0:
            raise AdviceError(f"the batch period must be positive, got {period_s}")
        return Policy(name or f"batch every {period_s / 60:g} min", "batch", dict(buffers or {}), period_s)


@dataclass(slots=True)
class ChannelResult:
    code: str
    marketplace: str
    orders: int = 0  # accepted by the channel
    oversold: int = 0  # accepted, then cancelled: the ERP had no unit left
    refused_in_stock: int = 0  # turned away (count 0) while the ERP had a free unit
    threshold: float | None = None

    @property
    def cancel_rate(self) -> float:
        return self.oversold / self.orders if self.orders else 0.0

    @property
    def breaches(self) -> bool:
        return self.threshold is not None and self.cancel_rate > self.threshold

    def to_dict(self) -> dict[str, object]:
        return {"channel": self.code, "marketplace": self.marketplace, "orders": self.orders,
                "oversold": self.oversold, "cancel_rate": self.cancel_rate,
                "threshold": self.threshold, "breaches_threshold": self.breaches,
                "lost_sales": self.refused_in_stock}


@dataclass(slots=True)
class SimResult:
    policy: str
    channels: dict[str, ChannelResult]
    sellouts: int = 0
    hidden_time: float = 0.0  # ∫ demand-weighted share of the ERP's units a buyer cannot see
    in_stock_time: float = 0.0
    seconds: float = 0.0

    @property
    def orders(self) -> int:
        return sum(c.orders for c in self.channels.values())

    @property
    def oversold(self) -> int:
        return sum(c.oversold for c in self.channels.values())

    @property
    def lost_sales(self) -> int:
        return sum(c.refused_in_stock for c in self.channels.values())

    @property
    def oversells_per_10k(self) -> float:
        return 1e4 * self.oversold / self.orders if self.orders else 0.0

    @property
    def lost_per_10k(self) -> float:
        return 1e4 * self.lost_sales / self.orders if self.orders else 0.0

    @property
    def hidden_share(self) -> float:
        return self.hidden_time / self.in_stock_time if self.in_stock_time else 0.0

    def merge(self, other: SimResult) -> None:
        for code, theirs in other.channels.items():
            mine = self.channels.setdefault(code, ChannelResult(code, theirs.marketplace,
                                                                threshold=theirs.threshold))
            mine.orders += theirs.orders
            mine.oversold += theirs.oversold
            mine.refused_in_stock += theirs.refused_in_stock
        self.sellouts += other.sellouts
        self.hidden_time += other.hidden_time
        self.in_stock_time += other.in_stock_time
        self.seconds += other.seconds

    def to_dict(self) -> dict[str, object]:
        return {"policy": self.policy, "orders": self.orders, "oversold": self.oversold,
                "oversells_per_10k": self.oversells_per_10k, "lost_sales": self.lost_sales,
                "lost_sales_per_10k": self.lost_per_10k, "hidden_share": self.hidden_share,
                "sellouts": self.sellouts, "simulated_days": self.seconds / 86400,
                "channels": [c.to_dict() for c in self.channels.values()]}


class _Market:
    """The event loop shared by both drivers."""

    def __init__(self, channels: Sequence[SimChannel], policy: Policy, rng: random.Random, *,
                 stock: int, lot_size: int, restock_after_s: float, dispersion: float,
                 burst_epoch_s: float) -> None:
        self.ch = list(channels)
        self.policy = policy
        self.rng = rng
        self.buffers = [max(0, int(policy.buffers.get(c.code, 0))) for c in self.ch]
        total = sum(c.rate_per_s for c in self.ch)
        self.weights = [c.rate_per_s / total if total else 0.0 for c in self.ch]
        self.q = stock
        self.lot_size = lot_size
        self.restock_after_s = restock_after_s
        self.dispersion = dispersion
        self.burst_epoch_s = burst_epoch_s
        self.display = [max(0, stock - b) for b in self.buffers]
        # Sold out = no channel may show a unit any more; the next lot is ordered then
        # (with a buffer on every channel the ERP never reaches 0 by itself).
        self.reorder_point = min(self.buffers) if self.buffers else 0
        self.last_sent = list(self.display)
        self.applied_version = [0] * len(self.ch)
        self.version = 0
        self.in_flight = 0  # accepted by a channel, not yet at the ERP
        self.pending = 0  # ARRIVE and APPLY events still queued
        self.restock_due = False
        self.multiplier = 1.0
        self.now = 0.0
        self.last_change = 0.0
        self.heap: list[tuple[float, int, int, int, int, int]] = []
        self.seq = 0
        self.result = SimResult(policy.name, {
            c.code: ChannelResult(c.code, c.marketplace, threshold=CANCEL_THRESHOLDS.get(c.marketplace))
            for c in self.ch})
        self._stats = [self.result.channels[c.code] for c in self.ch]

    # -- scheduling ---------------------------------------------------------------------
    def push(self, at: float, kind: int, j: int = 0, a: int = 0, b: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, kind, j, a, b))
        if kind in (ARRIVE, APPLY):
            self.pending += 1

    def start(self) -> None:
        if self.dispersion > 0:
            self.multiplier = self._draw_multiplier()
            self.push(self.burst_epoch_s, EPOCH)
        for j in range(len(self.ch)):
            self._next_order(j)
        if self.policy.kind == "batch":
            self.push(self.rng.uniform(0, self.policy.period_s), BATCH)

    def _draw_multiplier(self) -> float:
        shape = 1.0 / self.dispersion
        return self.rng.gammavariate(shape, self.dispersion)

    def _next_order(self, j: int) -> None:
        rate = self.ch[j].rate_per_s * self.multiplier
        if rate > 0:
            self.push(self.now + self.rng.expovariate(rate), ORDER, j, self.version_epoch)

    @property
    def version_epoch(self) -> int:
        # an ORDER drawn under an old burst multiplier is dropped at the epoch change
        # (exponential waits are memoryless, so redrawing is exact)
        return int(self.now // self.burst_epoch_s) if self.dispersion > 0 else 0

    # -- the ERP ------------------------------------------------------------------------
    def _account_hidden(self) -> None:
        span = self.now - self.last_change
        if span > 0 and self.q > 0:
            self.result.in_stock_time += span
            self.result.hidden_time += span * sum(
                w * min(b, self.q) for w, b in zip(self.weights, self.buffers)) / self.q
        self.last_change = self.now

    def _changed(self) -> None:
        self.version += 1
        if self.policy.kind != "event":
            return
        self._send_all()

    def _send_all(self) -> None:
        for j, load in enumerate(self.ch):
            value = max(0, self.q - self.buffers[j])
            # unchanged values are not pushed (neither the bridge nor a batch tool does)
            if value == self.last_sent[j] or (value >= FAR_FROM_ZERO and self.last_sent[j] >= FAR_FROM_ZERO):
                continue
            self.last_sent[j] = value
            self.push(self.now + load.legs.sample_to_buyers(self.rng), APPLY, j, value, self.version)

    # -- the loop -----------------------------------------------------------------------
    def step(self) -> None:
        at, _, kind, j, a, b = heapq.heappop(self.heap)
        self.now = at
        if kind == ORDER:
            if a != self.version_epoch:
                return
            self._next_order(j)
            stats = self._stats[j]
            if self.display[j] >= 1:
                self.display[j] -= 1
                stats.orders += 1
                self.in_flight += 1
                self.push(at + self.ch[j].legs.detect.sample(self.rng), ARRIVE, j)
            elif self.q - self.in_flight > 0:
                stats.refused_in_stock += 1
        elif kind == ARRIVE:
            self.pending -= 1
            self.in_flight -= 1
            if self.q >= 1:
                self._account_hidden()
                self.q -= 1
                if self.q <= self.reorder_point:
                    self.result.sellouts += 1
                    if self.lot_size > 0 and not self.restock_due:
                        self.restock_due = True
                        self.push(at + self.restock_after_s, RESTOCK)
                self._changed()
            else:
                self._stats[j].oversold += 1
        elif kind == APPLY:
            self.pending -= 1
            if b > self.applied_version[j]:
                self.applied_version[j] = b
                self.display[j] = a
        elif kind == RESTOCK:
            self._account_hidden()
            self.restock_due = False
            self.q += self.lot_size
            self._changed()
        elif kind == BATCH:
            self._send_all()
            self.push(at + self.policy.period_s, BATCH)
        elif kind == EPOCH:
            self.multiplier = self._draw_multiplier()
            self.push(at + self.burst_epoch_s, EPOCH)
            for i in range(len(self.ch)):
                self._next_order(i)

    def finish(self) -> SimResult:
        self._account_hidden()
        self.result.seconds = self.now
        return self.result


def _check(channels: Sequence[SimChannel], lot_size: int) -> None:
    if not channels:
        raise AdviceError("nothing to simulate: no channel")
    if sum(c.rate_per_s for c in channels) <= 0:
        raise AdviceError("nothing to simulate: every order rate is 0")
    if lot_size < 1:
        raise AdviceError(f"the lot size must be at least 1, got {lot_size}")


def simulate(channels: Sequence[SimChannel], policy: Policy, *, lot_size: int = 20, orders: int = 20_000,
             restock_after_s: float = 86_400.0, dispersion: float = 0.0, burst_epoch_s: float = 3600.0,
             seed: int = 1) -> SimResult:
    """Steady state: sell `orders` orders (restocking `lot_size` units after each sell-out)."""
    _check(channels, lot_size)
    if dispersion < 0:
        raise AdviceError(f"dispersion must be non-negative, got {dispersion}")
    market = _Market(channels, policy, random.Random(seed), stock=lot_size, lot_size=lot_size,
                     restock_after_s=restock_after_s, dispersion=dispersion, burst_epoch_s=burst_epoch_s)
    market.start()
    target = max(1, orders)
    stats = market._stats
    budget = 200 * target  # events: a policy that turns every order away still ends
    while market.heap and budget > 0 and sum(s.orders for s in stats) < target:
        market.step()
        budget -= 1
    return market.finish()


@dataclass(frozen=True, slots=True)
class SelloutResult:
    trials: int
    with_oversell: int  # sell-outs with at least one oversold order
    oversold: int  # oversold orders in all sell-outs
    by_channel: Mapping[str, int] = field(default_factory=dict)  # oversold orders per channel

    @property
    def probability(self) -> float:
        return self.with_oversell / self.trials if self.trials else 0.0

    @property
    def standard_error(self) -> float:
        p = self.probability
        return math.sqrt(max(p * (1 - p), 1e-12) / self.trials) if self.trials else 1.0

    @property
    def mean_oversold(self) -> float:
        return self.oversold / self.trials if self.trials else 0.0

    def per_10k_orders(self, lot_size: int) -> float:
        """Oversold orders per 10,000 orders when every sell-out follows a lot of `lot_size`
        units (renewal: each cycle sells the lot, plus what it oversells)."""
        return 1e4 * self.mean_oversold / (lot_size + self.mean_oversold)


def sellout_trials(channels: Sequence[SimChannel], policy: Policy, *, units: int = 1, trials: int = 10_000,
                   dispersion: float = 0.0, burst_epoch_s: float = 3600.0, seed: int = 1,
                   max_events: int = 100_000) -> SelloutResult:
    """Independent sell-outs of `units` units, every channel showing `units - b_j` at the start."""
    _check(channels, 1)
    rng = random.Random(seed)
    hit = oversold = 0
    per_channel: dict[str, int] = {}
    for _ in range(trials):
        market = _Market(channels, policy, rng, stock=units, lot_size=0, restock_after_s=0.0,
                         dispersion=dispersion, burst_epoch_s=burst_epoch_s)
        market.start()
        events = 0
        while market.heap and events < max_events:
            if market.pending == 0 and market.in_flight == 0 and not any(market.display) \
                    and market.q <= market.reorder_point:
                break  # nobody shows stock, nobody will, nothing is on the way: sold out
            market.step()
            events += 1
        lost = market.result.oversold
        oversold += lost
        hit += lost > 0
        for code, stats in market.result.channels.items():
            per_channel[code] = per_channel.get(code, 0) + stats.oversold
    return SelloutResult(trials, hit, oversold, per_channel)
