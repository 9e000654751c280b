"""The tail math and the advisor against the reference's worked numbers
(../shared/reference/oversell-model.md §3), and their properties (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.risk.advisor import (
    AdviceError,
    ChannelLoad,
    advise_per_channel,
    advise_uniform,
    batch_risk,
    channel_risks,
    product_risk,
    uniform_risk,
)
from connector.risk.delays import ChannelDelays, Delay, parse_delay
from connector.risk.tails import negbin_sf, poisson_pmf, poisson_quantile, poisson_sf

DAY = 86400.0


def symmetric(n: int, per_day: float, window_s: float) -> list[ChannelLoad]:
    legs = ChannelDelays(push=Delay(window_s, window_s))
    return [ChannelLoad(f"c{i}", per_day / DAY, legs) for i in range(n)]


def test_poisson_tail_matches_the_reference_table() -> None:
    assert poisson_sf(0, 0.833) == pytest.approx(0.565, abs=0.001)
    assert poisson_sf(1, 0.833) == pytest.approx(0.203, abs=0.001)
    assert poisson_sf(2, 0.833) == pytest.approx(0.052, abs=0.001)
    assert poisson_sf(2, 0.278) == pytest.approx(0.0029, abs=0.0001)


@given(st.floats(0.0, 40.0), st.integers(0, 60))
def test_tail_is_one_minus_the_head(mean: float, b: int) -> None:
    head = sum(poisson_pmf(n, mean) for n in range(b + 1))
    assert poisson_sf(b, mean) == pytest.approx(1 - head, abs=1e-9)


@given(st.floats(0.01, 20.0), st.integers(0, 30))
def test_overdispersion_fattens_the_tail(mean: float, b: int) -> None:
    assert negbin_sf(b, mean, 1e-7) == pytest.approx(poisson_sf(b, mean), abs=1e-4)
    if b > mean + 2:  # far tail: a bursty demand is more likely to exceed b
        assert negbin_sf(b, mean, 0.5) >= poisson_sf(b, mean)


def test_quantile() -> None:
    assert poisson_quantile(0.99, 0.833) == 4


@pytest.mark.parametrize(("window_s", "per_day", "one_percent", "tenth_percent"), [
    (900, 20, 4, 5),       # 15-min batch, worst case
    (300, 20, 2, 3),       # Amazon async ~5 min
    (5, 20, 0, 1),         # 5 s event-driven
    (5, 400, 1, 2),        # 5 s during a 20x flash sale
])
def test_uniform_advice_matches_the_reference(window_s: float, per_day: float, one_percent: int,
                                              tenth_percent: int) -> None:
    loads = symmetric(5, per_day, window_s)
    assert advise_uniform(loads, 0.01) == one_percent
    assert advise_uniform(loads, 0.001) == tenth_percent


def test_fifteen_minute_flash_sale_needs_27_units() -> None:
    assert advise_uniform(symmetric(5, 400, 900), 0.01) == 27


def test_batch_average_is_the_reference_closed_form() -> None:
    a = 4 * 20 * 900 / DAY
    assert batch_risk(symmetric(5, 20, 0), 900) == pytest.approx(1 - (1 - math.exp(-a)) / a, rel=1e-3)


def test_slow_busy_channel_gets_the_buffer() -> None:
    fast = ChannelDelays(push=Delay(0.2, 1.8))
    slow = ChannelDelays(push=Delay(0.2, 1.8), live=Delay(180, 900))
    loads = [ChannelLoad("amazon", 30 / DAY, slow), ChannelLoad("shopify", 20 / DAY, fast),
             ChannelLoad("ebay", 10 / DAY, fast)]
    advice = advise_per_channel(loads, 0.001)
    assert advice["amazon"] > 0
    assert advice["shopify"] == advice["ebay"] == 0
    assert product_risk(loads, advice) <= 0.001


def test_bad_input_is_refused() -> None:
    with pytest.raises(AdviceError, match="target risk"):
        advise_uniform(symmetric(2, 1, 1), 1.5)
    with pytest.raises(AdviceError, match="non-negative"):
        ChannelLoad("x", -1.0, ChannelDelays())
    with pytest.raises(ValueError):
        parse_delay("-3")
    with pytest.raises(ValueError):
        parse_delay("9:2")  # p99 below p50


rates = st.lists(st.floats(0.0, 200.0), min_size=1, max_size=5)
windows = st.lists(st.floats(0.0, 1800.0), min_size=5, max_size=5)
targets = st.floats(1e-5, 0.5)


def loads_of(per_day: list[float], window: list[float]) -> list[ChannelLoad]:
    return [ChannelLoad(f"c{i}", r / DAY, ChannelDelays(push=Delay(w, w))) for i, (r, w) in
            enumerate(zip(per_day, window))]


@settings(max_examples=40, deadline=None)
@given(rates, windows, targets, targets)
def test_advice_is_monotone_in_the_target(per_day: list[float], window: list[float], t1: float,
                                          t2: float) -> None:
    loads = loads_of(per_day, window)
    strict, loose = min(t1, t2), max(t1, t2)
    assert advise_uniform(loads, strict) >= advise_uniform(loads, loose)
    tight, wide = advise_per_channel(loads, strict), advise_per_channel(loads, loose)
    assert all(tight[c] >= wide[c] for c in tight)
    assert sum(channel_risks(loads, tight).values()) <= strict


@settings(max_examples=40, deadline=None)
@given(rates, windows, st.integers(0, 4), st.floats(1.0, 20.0), targets)
def test_advice_is_monotone_in_delay(per_day: list[float], window: list[float], which: int, factor: float,
                                     target: float) -> None:
    loads = loads_of(per_day, window)
    slower = [ChannelLoad(c.code, c.rate_per_s, ChannelDelays(push=c.legs.push.scaled(factor)))
              if i == which % len(loads) else c for i, c in enumerate(loads)]
    assert uniform_risk(slower, 0) >= uniform_risk(loads, 0) - 1e-12
    assert advise_uniform(slower, target) >= advise_uniform(loads, target)
    # per channel: more delay never needs fewer units in total
    assert sum(advise_per_channel(slower, target).values()) >= sum(advise_per_channel(loads, target).values()) \
        or product_risk(slower, advise_per_channel(slower, target)) <= target
