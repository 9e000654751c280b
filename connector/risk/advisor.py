"""Buffer sizing from demand and delay: the smallest buffer whose oversell risk per
sell-out stays under a target (oversell-model.md §3-4).

Two models, both closed forms:

* one buffer b on every channel (the reference's formula, generalised to unequal
  channels): the last unit sells on channel k with probability λ_k/Λ; every other
  channel j keeps showing stock for its window W_kj = detect_k + push_j + live_j, so

      risk(b) = Σ_k λ_k/Λ · P[Poisson(Σ_{j≠k} λ_j·W_kj) > b]

* one buffer per channel, so that a slow channel stops first: once the ERP's number
  reaches b_j, channel j still shows stock for W_j; it oversells when it takes at least
  one order then and its orders plus the others' (which use up the b_j units) exceed b_j:

      risk_j(b_j) = P[Poisson(Λ·W_j) > b_j] − e^{−λ_j·W_j}·P[Poisson((Λ−λ_j)·W_j) > b_j]

  and the product's risk is at most Σ_j risk_j (a union bound: conservative).

Windows use each leg's `quantile` (default 0.95), which over-states the window: the
simulator (connector.risk.simulator) checks what the advice really buys. With
`dispersion` > 0 the counts are negative binomial (bursty demand).

Usage::

    loads = [ChannelLoad("amazon_de", 20 / 86400, default_legs("amazon")), ...]
    advise_uniform(loads, target=0.001)            # one b for all channels
    advise_per_channel(loads, target=0.001)        # {"amazon_de": 3, "shopify_eu": 0, ...}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from connector.risk.delays import ChannelDelays
from connector.risk.tails import count_sf, negbin_pmf

DEFAULT_QUANTILE = 0.95
MAX_BUFFER = 100_000  # the advisor gives up (and says so) rather than loop forever


class AdviceError(ValueError):
    """Bad input to the advisor or the simulator: one line saying what."""


@dataclass(frozen=True, slots=True)
class ChannelLoad:
    """One channel selling one product: order rate (per second) and its delay legs."""

    code: str
    rate_per_s: float
    legs: ChannelDelays

    def __post_init__(self) -> None:
        if not self.rate_per_s >= 0 or math.isinf(self.rate_per_s):
            raise AdviceError(f"channel {self.code}: the order rate must be a non-negative number, "
                              f"got {self.rate_per_s}")


def check_target(target: float) -> float:
    if not 0 < target < 1:
        raise AdviceError(f"target risk must be in (0, 1), got {target}")
    return target


def _zero_count(mean: float, dispersion: float) -> float:
    return math.exp(-mean) if dispersion == 0 else negbin_pmf(0, mean, dispersion)


def uniform_risk(loads: Sequence[ChannelLoad], b: int, quantile: float = DEFAULT_QUANTILE,
                 dispersion: float = 0.0) -> float:
    """Risk of an oversell per sell-out with the same buffer `b` on every channel."""
    return _uniform_risk_shift(loads, b, 0.0, quantile, dispersion)


def _windows(loads: Sequence[ChannelLoad], quantile: float) -> list[float]:
    """W_j: channel j's stale window, the detection leg weighted by where sales happen."""
    total = sum(c.rate_per_s for c in loads)
    detect = (sum(c.rate_per_s * c.legs.detect.quantile(quantile) for c in loads) / total) if total else 0.0
    return [detect + c.legs.to_buyers_quantile(quantile) for c in loads]


def channel_risks(loads: Sequence[ChannelLoad], buffers: Mapping[str, int],
                  quantile: float = DEFAULT_QUANTILE, dispersion: float = 0.0) -> dict[str, float]:
    """risk_j(b_j) of every channel (module doc)."""
    total = sum(c.rate_per_s for c in loads)
    out: dict[str, float] = {}
    for load, window in zip(loads, _windows(loads, quantile)):
        b = int(buffers.get(load.code, 0))
        own = load.rate_per_s * window
        others = (total - load.rate_per_s) * window
        out[load.code] = max(0.0, count_sf(b, own + others, dispersion)
                             - _zero_count(own, dispersion) * count_sf(b, others, dispersion))
    return out


def product_risk(loads: Sequence[ChannelLoad], buffers: Mapping[str, int],
                 quantile: float = DEFAULT_QUANTILE, dispersion: float = 0.0) -> float:
    """The product's risk per sell-out: the uniform formula when every channel has the same
    buffer, else the per-channel union bound."""
    values = {int(buffers.get(c.code, 0)) for c in loads}
    if len(values) <= 1:
        return uniform_risk(loads, values.pop() if values else 0, quantile, dispersion)
    return min(1.0, sum(channel_risks(loads, buffers, quantile, dispersion).values()))


def advise_uniform(loads: Sequence[ChannelLoad], target: float, quantile: float = DEFAULT_QUANTILE,
                   dispersion: float = 0.0) -> int:
    """The smallest b with uniform_risk(b) <= target."""
    check_target(target)
    b = 0
    while uniform_risk(loads, b, quantile, dispersion) > target:
        b += 1
        if b > MAX_BUFFER:
            raise AdviceError(f"no buffer up to {MAX_BUFFER} reaches a risk of {target}")
    return b


def advise_per_channel(loads: Sequence[ChannelLoad], target: float, quantile: float = DEFAULT_QUANTILE,
                       dispersion: float = 0.0) -> dict[str, int]:
    """Per-channel buffers with Σ_j risk_j <= target, each unit placed where it removes the
    most risk per order it turns away (λ_j): slow, busy channels get buffers first.

    The greedy path does not depend on `target`, so a smaller target only adds units
    (the advice is monotone in the target)."""
    check_target(target)
    buffers = {c.code: 0 for c in loads}
    risks = channel_risks(loads, buffers, quantile, dispersion)
    steps = 0
    while sum(risks.values()) > target:
        best, best_gain = None, 0.0
        for load in loads:
            gain = risks[load.code] - _one_risk(loads, load.code, buffers[load.code] + 1, quantile, dispersion)
            weight = gain / max(load.rate_per_s, 1e-12)
            if weight > best_gain:
                best, best_gain = load.code, weight
        if best is None:  # on a plateau (risk ~ 1 − e^{−λW} until b nears the mean): the riskiest
            best = max(loads, key=lambda c: risks[c.code]).code
        assert best is not None
        buffers[best] += 1
        risks[best] = _one_risk(loads, best, buffers[best], quantile, dispersion)
        steps += 1
        if steps > MAX_BUFFER:
            raise AdviceError(f"no buffers up to {MAX_BUFFER} units reach a risk of {target}")
    return buffers


def _one_risk(loads: Sequence[ChannelLoad], code: str, b: int, quantile: float, dispersion: float) -> float:
    return channel_risks(loads, {code: b}, quantile, dispersion)[code]


def batch_risk(loads: Sequence[ChannelLoad], period_s: float, b: int = 0,
               quantile: float = DEFAULT_QUANTILE, dispersion: float = 0.0, steps: int = 200) -> float:
    """Risk per sell-out when every channel is synced every `period_s` seconds: the window
    is uniform on [0, T] plus the legs (reference: 1 − (1 − e^{−a})/a for b = 0)."""
    if period_s <= 0:
        raise AdviceError(f"the batch period must be positive, got {period_s}")
    total = 0.0
    for i in range(steps):  # midpoint rule over the uniform wait for the next batch
        wait = (i + 0.5) / steps * period_s
        total += _uniform_risk_shift(loads, b, wait, quantile, dispersion)
    return total / steps


def _uniform_risk_shift(loads: Sequence[ChannelLoad], b: int, shift: float, quantile: float,
                        dispersion: float) -> float:
    total = sum(c.rate_per_s for c in loads)
    if total == 0:
        return 0.0
    risk = 0.0
    for k, last in enumerate(loads):
        detect = last.legs.detect.quantile(quantile)
        mean = sum(c.rate_per_s * (detect + shift + c.legs.to_buyers_quantile(quantile))
                   for j, c in enumerate(loads) if j != k)
        risk += last.rate_per_s / total * count_sf(b, mean, dispersion)
    return risk
