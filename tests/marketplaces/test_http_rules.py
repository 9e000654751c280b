"""The rules every adapter shares (connector/marketplaces/http.py), one row each: what an
HTTP status means, how long Retry-After and the rate-limit headers say to wait, and how
the token bucket paces calls."""

from __future__ import annotations

import email.utils

import pytest
import requests

from connector.marketplaces.http import TokenBucket, Verdict, classify_status, retry_after_seconds
from tests.support.clock import ManualClock

NOW = 1_750_000_000.0


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.OK), (204, Verdict.OK), (302, Verdict.OK),
        (400, Verdict.FAIL_ITEM), (403, Verdict.FAIL_ITEM), (404, Verdict.FAIL_ITEM), (409, Verdict.FAIL_ITEM),
        (422, Verdict.FAIL_ITEM),
        (401, Verdict.AUTH),
        (408, Verdict.RETRY), (425, Verdict.RETRY), (429, Verdict.RETRY),
        (500, Verdict.RETRY), (502, Verdict.RETRY), (503, Verdict.RETRY), (599, Verdict.RETRY),
    ],
)
def test_reply_classification(status: int, verdict: Verdict) -> None:
    assert classify_status(status) is verdict


def reply(**headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = 429
    response.headers.update(headers)
    return response


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": " 2.5 "}, 2.5),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"Retry-After": email.utils.formatdate(NOW - 30, usegmt=True)}, 0.0),  # a date passed: now
        ({"X-RateLimit-Reset-After": "4"}, 4.0),
        ({"RateLimit-Reset": "12"}, 12.0),
        ({"X-RateLimit-Reset": str(int(NOW + 9))}, 9.0),  # an epoch timestamp, not seconds
        ({"X-RateLimit-Reset": "soon", "RateLimit-Reset": "3"}, 3.0),  # unreadable: the next header
        ({"Retry-After": "5", "X-RateLimit-Reset-After": "50"}, 5.0),  # Retry-After first
    ],
)
def test_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    got = retry_after_seconds(reply(**headers), NOW)
    assert got == (None if seconds is None else pytest.approx(seconds, abs=1.0))


@pytest.mark.parametrize(
    ("rate", "burst", "calls", "slept"),
    [
        (10.0, 5, 5, 0.0),  # the burst goes at once
        (10.0, 5, 6, 0.1),  # then one token per 1/rate s
        (2.0, 1, 3, 1.0),
        (0.5, 2, 4, 4.0),
    ],
)
def test_token_bucket_paces_calls(rate: float, burst: int, calls: int, slept: float) -> None:
    clock = ManualClock(NOW)
    bucket = TokenBucket(rate, burst, clock)
    waited = sum(bucket.acquire() for _ in range(calls))
    assert waited == pytest.approx(slept) == pytest.approx(sum(clock.sleeps))
    assert bucket.waited_s == pytest.approx(slept)  # what the bridge reports as rate-limit wait


def test_token_bucket_refills_with_time_up_to_its_burst() -> None:
    clock = ManualClock(NOW)
    bucket = TokenBucket(1.0, 3, clock)
    for _ in range(3):
        assert bucket.acquire() == 0.0
    clock.advance(100)  # a long pause saves up only `burst` tokens
    assert [bucket.acquire() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 1.0])


def test_a_pause_makes_the_next_call_wait() -> None:
    clock = ManualClock(NOW)
    bucket = TokenBucket(10.0, 5, clock)
    bucket.pause(2.0)  # the server said "slow down"
    assert bucket.acquire() == pytest.approx(2.1)
