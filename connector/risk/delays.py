"""Per-channel delay distributions: how long a channel shows a stale number.

A channel's stale window after an order lands on channel k is
`detect_k + push_j + live_j` (oversell-model.md §1): the order reaching the ERP, the
ERP's new number reaching marketplace j (the bridge's end to end), and marketplace j
showing it to buyers. Each leg is a `Delay`: a log-normal fitted to a median and a 99th
percentile (a constant when both are equal), which is what a benchmark or the bridge's
own histograms report.

Measured delays come through a `DelaySource` (the sync engine's per-channel histograms
will implement it); given ones from the config or the command line; the rest from
`DEFAULT_*` below, which are the reference's estimates and the README's benchmark figures.

Usage::

    legs = default_legs("amazon")                 # detect / push / live for an Amazon channel
    legs.window_quantile(0.95)                    # seconds, conservative
    legs.to_buyers.sample(random.Random(1))       # one random push + live time
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Protocol

Z99 = NormalDist().inv_cdf(0.99)


@dataclass(frozen=True, slots=True)
class Delay:
    """One leg's delay in seconds: log-normal through (p50, p99); constant when equal."""

    p50: float
    p99: float
    sigma: float = field(init=False, repr=False, compare=False, default=0.0)  # of the log

    def __post_init__(self) -> None:
        if self.p50 < 0 or self.p99 < 0:
            raise ValueError("a delay cannot be negative")
        if self.p99 < self.p50:
            raise ValueError(f"p99 ({self.p99} s) is below p50 ({self.p50} s)")
        if self.p50 > 0 and self.p99 > self.p50:  # computed once: sample() is the simulator's hot path
            object.__setattr__(self, "sigma", math.log(self.p99 / self.p50) / Z99)

    def quantile(self, p: float) -> float:
        """Seconds below which a fraction `p` of the delays fall."""
        if not 0 < p < 1:
            raise ValueError("p must be in (0, 1)")
        if self.sigma == 0:
            return self.p50 if self.p50 > 0 else 0.0
        return self.p50 * math.exp(self.sigma * NormalDist().inv_cdf(p))

    @property
    def mean(self) -> float:
        return self.p50 * math.exp(self.sigma ** 2 / 2)

    def sample(self, rng: random.Random) -> float:
        if self.sigma == 0:
            return self.p50
        return self.p50 * math.exp(self.sigma * rng.gauss(0.0, 1.0))

    def scaled(self, factor: float) -> Delay:
        return Delay(self.p50 * factor, self.p99 * factor)


ZERO = Delay(0.0, 0.0)


@dataclass(frozen=True, slots=True)
class ChannelDelays:
    """The three legs of one channel (seconds)."""

    detect: Delay = ZERO  # an order on this channel -> the ERP's stock moves
    push: Delay = ZERO  # the ERP's commit -> the marketplace accepted the new number
    live: Delay = ZERO  # accepted -> buyers see it
    source: str = "default"  # where the numbers came from: default, config, measured, cli

    def window_quantile(self, p: float, detect: Delay | None = None) -> float:
        """A conservative stale window: the sum of the legs' p-quantiles (>= the sum's own
        p-quantile). `detect` is the detection leg of the channel that made the sale."""
        leg = self.detect if detect is None else detect
        return leg.quantile(p) + self.push.quantile(p) + self.live.quantile(p)

    def to_buyers_quantile(self, p: float) -> float:
        return self.push.quantile(p) + self.live.quantile(p)

    def sample_to_buyers(self, rng: random.Random) -> float:
        return self.push.sample(rng) + self.live.sample(rng)

    def with_push(self, push: Delay, source: str) -> ChannelDelays:
        return replace(self, push=push, source=source)


@dataclass(frozen=True, slots=True)
class MeasuredDelays:
    """What a `DelaySource` returns for one channel: the bridge's own measurements."""

    push: Delay  # ERP commit -> marketplace accepted (or applied where confirmed)
    samples: int = 0
    window: str = "1h"  # which rolling window the quantiles come from
    extra: Mapping[str, float] = field(default_factory=dict)


class DelaySource(Protocol):
    """Measured per-channel delays (issue 13 item 1: the sync engine's rolling histograms).

    Returns channel code -> measured push delay; a channel without enough samples is left
    out, and the advisor then uses the configured or default figure for it.
    """

    def measured(self) -> Mapping[str, MeasuredDelays]: ...


class NoMeasurements:
    """A `DelaySource` that knows nothing yet (the engine's histograms are wired later)."""

    def measured(self) -> Mapping[str, MeasuredDelays]:
        return {}


# The bridge's own leg, measured by `make bench` (README.md, Latency: real budgets, all
# channels, end to end commit -> the sandbox receiving the value): p50 197 ms, p99 1,841 ms.
BENCH_PUSH = Delay(0.197, 1.841)

# Marketplace accepted -> buyers see it (oversell-model.md §1; all estimates except
# Shopify's, which applies on commit). (p50, p99) in seconds.
DEFAULT_LIVE: dict[str, Delay] = {
    "amazon": Delay(180.0, 900.0),  # "a few minutes"; 1-15 min (estimate)
    "bol": Delay(10.0, 120.0),  # v10 async: seconds-minutes (estimate)
    "zalando": Delay(10.0, 120.0),  # batched, unpublished: seconds-min (estimate)
    "kaufland": Delay(10.0, 120.0),  # unpublished: seconds-min (estimate)
    "ebay": Delay(1.0, 5.0),  # synchronous, ~immediate (estimate)
    "shopify": ZERO,  # immediate on commit
    "etsy": Delay(1.0, 5.0),  # synchronous PUT, ~immediate (estimate)
    "woocommerce": Delay(0.5, 5.0),  # synchronous DB write, page caches aside (estimate)
    "lazada": Delay(5.0, 30.0),  # seconds (estimate)
    "shopee": Delay(2.0, 10.0),  # synchronous, seconds (estimate)
}

# An order on the marketplace -> the ERP's stock moves. Not measured by the bridge (orders
# reach the ERP through the merchant's order import); 0 means "the import is immediate".
# Set it per channel when orders are polled (Amazon getOrders: 1 request/min, so up to 60 s).
DEFAULT_DETECT = ZERO


def default_legs(marketplace: str, push: Delay = BENCH_PUSH) -> ChannelDelays:
    """The default legs of a channel of this marketplace."""
    return ChannelDelays(detect=DEFAULT_DETECT, push=push,
                         live=DEFAULT_LIVE.get(marketplace, Delay(10.0, 120.0)))


def parse_delay(text: str) -> Delay:
    """`"5"` (constant seconds), `"0.2:1.8"` (p50:p99 seconds); `ms`/`s`/`m` suffixes allowed."""
    parts = text.split(":")
    if len(parts) not in (1, 2):
        raise ValueError(f"delay must be SECONDS or P50:P99, got {text!r}")
    values = [_seconds(p) for p in parts]
    return Delay(values[0], values[-1])


def _seconds(text: str) -> float:
    word = text.strip().lower()
    scale = 1.0
    for suffix, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if word.endswith(suffix):
            word, scale = word[: -len(suffix)], factor
            break
    try:
        value = float(word) * scale
    except ValueError:
        raise ValueError(f"not a delay: {text!r}") from None
    if value < 0 or math.isnan(value) or math.isinf(value):
        raise ValueError(f"a delay must be a non-negative number, got {text!r}")
    return value
