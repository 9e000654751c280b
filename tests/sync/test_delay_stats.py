"""Rolling per-channel delay histograms: quantiles within the bucket error, windows that
forget, bounded memory, and a JSON round trip for restarts."""

from __future__ import annotations

import json
import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.sync.delay_stats import DelayStats, Histogram

T0 = 1_800_000_000.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.002, max_value=5000), min_size=1, max_size=300),
       st.sampled_from([0.5, 0.9, 0.99]))
def test_quantile_is_within_the_bucket_error_of_the_exact_one(samples: list[float], q: float) -> None:
    histogram = Histogram()
    for value in samples:
        histogram.record(value)
    exact = sorted(samples)[max(1, math.ceil(q * len(samples))) - 1]
    got = histogram.quantile(q)
    assert got is not None
    assert abs(got - exact) <= 0.05 * exact


def test_p50_and_p99_of_a_known_mix() -> None:
    stats = DelayStats()
    rng = random.Random(7)
    for i in range(1000):
        stats.record("bol_nl", 0.1 if i % 100 else 2.0, at=T0 + rng.random() * 30)
    summary = stats.summary("bol_nl", "hour", now=T0 + 60)
    assert summary.count == 1000
    assert summary.p50_s is not None and abs(summary.p50_s - 0.1) < 0.005
    assert summary.p99_s is not None and abs(summary.p99_s - 0.1) < 0.005  # 1 % at 2 s: p99 rank is 990
    assert summary.max_s == 2.0


def test_the_hour_window_forgets_and_the_day_window_remembers() -> None:
    stats = DelayStats()
    stats.record("amazon_de", 3.0, at=T0)
    stats.record("amazon_de", 0.2, at=T0 + 2 * 3600)
    hour = stats.summary("amazon_de", "hour", now=T0 + 2 * 3600)
    day = stats.summary("amazon_de", "day", now=T0 + 2 * 3600)
    assert hour.count == 1 and hour.max_s == 0.2
    assert day.count == 2
    assert stats.summary("amazon_de", "day", now=T0 + 30 * 3600).count == 0
    assert stats.summary("nowhere", "hour", now=T0).count == 0


def test_memory_is_bounded_by_the_windows_not_the_pushes() -> None:
    stats = DelayStats()
    for i in range(48 * 60):  # two days, one push a minute
        stats.record("etsy_shop", 0.05 + (i % 7) * 0.01, at=T0 + i * 60)
    doc = stats.to_json()["etsy_shop"]
    assert len(doc["minutes"]) <= 60 and len(doc["hours"]) <= 24


def test_it_survives_a_restart_through_json() -> None:
    stats = DelayStats()
    for i in range(200):
        stats.record("shopify_eu", 0.01 * (i + 1), at=T0 + i)
    again = DelayStats.from_json(json.loads(json.dumps(stats.to_json())))
    assert again.summary("shopify_eu", "day", now=T0 + 300) == stats.summary("shopify_eu", "day", now=T0 + 300)
    assert again.last("shopify_eu") == stats.last("shopify_eu") == [1.96, 1.97, 1.98, 1.99, 2.0]
