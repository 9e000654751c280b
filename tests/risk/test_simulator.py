"""The simulator against the closed form (oversell-model.md §3), seeded and fast."""

from __future__ import annotations

import math

import pytest

from connector.risk.advisor import AdviceError, ChannelLoad, batch_risk, uniform_risk
from connector.risk.delays import ChannelDelays, Delay
from connector.risk.simulator import Policy, SimChannel, sellout_trials, simulate

DAY = 86400.0


def channels(n: int, per_day: float, window_s: float, marketplace: str = "amazon") -> list[SimChannel]:
    legs = ChannelDelays(push=Delay(window_s, window_s))
    return [SimChannel(f"c{i}", per_day / DAY, legs, marketplace) for i in range(n)]


def loads(sim: list[SimChannel]) -> list[ChannelLoad]:
    return [ChannelLoad(c.code, c.rate_per_s, c.legs) for c in sim]


@pytest.mark.parametrize(("n", "per_day", "window_s"), [(5, 20, 900), (3, 40, 300), (4, 10, 1800)])
def test_last_unit_matches_the_closed_form(n: int, per_day: float, window_s: float) -> None:
    """b = 0, one unit: the closed form is exact, so only sampling error separates them."""
    sim = channels(n, per_day, window_s)
    result = sellout_trials(sim, Policy.event(), units=1, trials=3000, seed=7)
    expected = uniform_risk(loads(sim), 0)
    assert abs(result.probability - expected) <= 4 * math.sqrt(expected * (1 - expected) / result.trials)


def test_unequal_channels_match_the_closed_form() -> None:
    fast = ChannelDelays(push=Delay(2, 2))
    slow = ChannelDelays(push=Delay(600, 600))
    sim = [SimChannel("slow", 30 / DAY, slow), SimChannel("fast1", 20 / DAY, fast), SimChannel("fast2", 40 / DAY, fast)]
    result = sellout_trials(sim, Policy.event(), units=1, trials=4000, seed=3)
    expected = uniform_risk(loads(sim), 0)
    assert abs(result.probability - expected) <= 4 * math.sqrt(expected * (1 - expected) / result.trials)


def test_buffers_stay_near_the_closed_form() -> None:
    """With b >= 1 the Poisson form is an approximation (each marketplace shows a count and
    a late push can briefly restore a sold unit); it stays within 25 % of the simulation."""
    sim = channels(5, 20, 900)
    for b in (1, 2):
        result = sellout_trials(sim, Policy.event({c.code: b for c in sim}), units=b + 2, trials=3000, seed=11)
        expected = uniform_risk(loads(sim), b)
        slack = 4 * result.standard_error + 0.25 * expected
        assert abs(result.probability - expected) <= slack, (b, result.probability, expected)


def test_batch_sync_matches_its_closed_form() -> None:
    sim = channels(5, 20, 0.0)
    result = sellout_trials(sim, Policy.batch(900), units=1, trials=3000, seed=5)
    expected = batch_risk(loads(sim), 900)
    assert abs(result.probability - expected) <= 4 * math.sqrt(expected * (1 - expected) / result.trials)


def test_same_seed_same_answer() -> None:
    sim = channels(3, 30, 120)
    first = simulate(sim, Policy.event(), lot_size=5, orders=2000, seed=42).to_dict()
    assert simulate(sim, Policy.event(), lot_size=5, orders=2000, seed=42).to_dict() == first


def test_steady_run_counts_what_a_merchant_cares_about() -> None:
    sim = channels(4, 50, 900, marketplace="zalando")
    batch = simulate(sim, Policy.batch(900), lot_size=5, orders=1500, seed=1)
    assert batch.oversold > 0 and batch.sellouts > 0
    assert all(c.threshold == 0.01 for c in batch.channels.values())
    assert any(c.breaches for c in batch.channels.values())  # 15-min batch on a busy product
    buffered = simulate(sim, Policy.event({c.code: 2 for c in sim}), lot_size=5, orders=1500, seed=1)
    assert buffered.hidden_share > 0  # two units of five are held back
    assert simulate(sim, Policy.event(), lot_size=5, orders=1500, seed=1).hidden_share == 0


def test_bursty_orders_beat_a_buffer_more_often() -> None:
    """Over-dispersed orders have a fatter tail: a buffer sized for Poisson fails more."""
    sim = channels(4, 20, 300)
    policy = Policy.event({c.code: 2 for c in sim})
    calm = sellout_trials(sim, policy, units=4, trials=2000, seed=9)
    bursty = sellout_trials(sim, policy, units=4, trials=2000, seed=9, dispersion=4.0, burst_epoch_s=600)
    assert bursty.probability > calm.probability + 3 * bursty.standard_error


def test_bad_input() -> None:
    with pytest.raises(AdviceError, match="non-negative"):
        SimChannel("x", -0.1, ChannelDelays())
    with pytest.raises(AdviceError, match="every order rate is 0"):
        simulate([SimChannel("x", 0.0, ChannelDelays())], Policy.event())
    with pytest.raises(AdviceError, match="period"):
        Policy.batch(0)
