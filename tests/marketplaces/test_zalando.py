"""Zalando adapter against mocked zDirect replies: exact requests, client-credentials
token, the 207 per-item results, throttling, zero stock and the 1000-item batch limit.
Bodies are checked against the published Stocks API spec (tests.support.specs)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import closing
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses

from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.marketplaces.zalando import ZalandoAdapter
from connector.stock.model import PushAction
from tests.marketplaces.conftest import body_of, token_replies
from tests.support.specs import validate_request, validate_response

HOST = "https://api.merchants.zalando.com"
MERCHANT = "7c3b1a2e-5f4d-4c1b-9e8a-0d6f2b3c4a5e"
CHANNEL = "01924c48-49bb-40c2-9c32-ab582e6db6f4"
SETTINGS = {
    "base_url": HOST,
    "merchant_id": MERCHANT,
    "sales_channel_id": CHANNEL,
    "client_id": "zal-client",
    "client_secret": "zal-secret-987",
}
TOKEN_URL = f"{HOST}/auth/token"
STOCKS = f"{HOST}/merchants/{MERCHANT}/stocks"


def ean(n: int) -> str:
    """A valid GTIN-13 (check digit computed as GS1 defines it)."""
    body = f"400000{n:06d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def results(*entries: tuple[str, int, str, int]) -> dict[str, Any]:
    return {"results": [
        {"item": {"sales_channel_id": CHANNEL, "ean": e, "quantity": q},
         "result": {"status": status, "code": code, "description": f"{status.lower()} {e}"}}
        for e, q, status, code in entries
    ]}


@pytest.fixture
def adapter(clock: ManualClock) -> Iterator[ZalandoAdapter]:
    with closing(ZalandoAdapter("zalando_de", SETTINGS, clock=clock)) as a:
        yield a


def token_reply(mock: responses.RequestsMock, *tokens: str) -> None:
    token_replies(mock, TOKEN_URL, tokens, token_type="Bearer", expires_in=7200)


def stock_calls(mock: responses.RequestsMock) -> list[responses.Call]:
    return [c for c in mock.calls if c.request.url == STOCKS]


def test_push_sends_the_exact_request(adapter: ZalandoAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "zal-access-1")
    reply = results((ean(1), 5, "ACCEPTED", 0), (ean(2), 0, "ACCEPTED", 0))
    mock.post(STOCKS, status=207, json=reply)

    r1, r2 = adapter.push([StockUpdate(1, ean(1), 5), StockUpdate(2, ean(2), 0)])

    assert (r1.outcome, r1.applied_quantity) == (Outcome.OK, 5)
    assert (r2.outcome, r2.applied_quantity) == (Outcome.OK, 0)
    token_call, call = mock.calls
    assert token_call.request.headers["Authorization"] == "Basic " + base64.b64encode(
        b"zal-client:zal-secret-987").decode()
    assert parse_qs(token_call.request.body) == {"grant_type": ["client_credentials"]}
    assert token_call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.request.method == "POST" and call.request.url == STOCKS
    assert call.request.headers["Authorization"] == "Bearer zal-access-1"
    assert call.request.headers["Content-Type"] == "application/json"
    expected = {"items": [
        {"sales_channel_id": CHANNEL, "ean": ean(1), "quantity": 5},
        {"sales_channel_id": CHANNEL, "ean": ean(2), "quantity": 0},
    ]}
    assert body_of(call) == expected
    validate_request("zalando", "POST", STOCKS, expected, dict(call.request.headers))
    validate_response("zalando", "POST", STOCKS, 207, json.dumps(reply))


def test_per_item_results_of_the_207(adapter: ZalandoAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.post(STOCKS, status=207, json=results(
        (ean(1), 1, "ACCEPTED", 0), (ean(2), 2, "REJECTED", 101), (ean(3), 3, "FAILED", 102),
        (ean(4), 4, "ACCEPTED", 104)))
    a, b, c, d = adapter.push([StockUpdate(i, ean(i), i) for i in range(1, 5)])
    assert a.outcome is Outcome.OK
    assert b.outcome is Outcome.FAILED and b.category is FailureCategory.VALIDATION
    assert b.message == f"rejected {ean(2)}"
    assert c.outcome is Outcome.RETRY and c.retry_at is not None
    assert d.outcome is Outcome.OK and "onboarded" in d.message


def test_duplicate_ean_is_refused_locally(adapter: ZalandoAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.post(STOCKS, status=207, json=results((ean(1), 1, "ACCEPTED", 0)))
    a, b = adapter.push([StockUpdate(1, ean(1), 1), StockUpdate(2, ean(1), 2)])
    assert a.outcome is Outcome.OK
    assert b.category is FailureCategory.VALIDATION
    assert len(body_of(stock_calls(mock)[0])["items"]) == 1


def test_bad_request_fails_the_batch_with_the_problem(adapter: ZalandoAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.post(STOCKS, status=400, json={"type": "about:blank", "title": "Bad Request",
                                        "status": 400, "detail": "items[0].ean must be a GTIN-13"},
              content_type="application/problem+json")
    [r] = adapter.push([StockUpdate(1, ean(1), 1)])
    assert r.category is FailureCategory.VALIDATION
    assert r.message == "Bad Request; items[0].ean must be a GTIN-13"


def test_429_waits_the_retry_after(adapter: ZalandoAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    token_reply(mock, "t")
    mock.post(STOCKS, status=429, headers={"Retry-After": "12", "X-Rate-Limit": "60"}, json={})
    mock.post(STOCKS, status=207, json=results((ean(1), 1, "ACCEPTED", 0)))
    [r] = adapter.push([StockUpdate(1, ean(1), 1)])
    assert r.outcome is Outcome.OK
    assert clock.sleeps[0] == 12.0
    assert len(stock_calls(mock)) == 2


def test_5xx_then_success(adapter: ZalandoAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.post(STOCKS, status=500, json={})
    mock.post(STOCKS, status=207, json=results((ean(1), 1, "ACCEPTED", 0)))
    [r] = adapter.push([StockUpdate(1, ean(1), 1)])
    assert r.outcome is Outcome.OK and len(stock_calls(mock)) == 2


def test_401_refreshes_the_token_once(adapter: ZalandoAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "old", "new")
    mock.post(STOCKS, status=401, json={})
    mock.post(STOCKS, status=207, json=results((ean(1), 1, "ACCEPTED", 0)))
    [r] = adapter.push([StockUpdate(1, ean(1), 1)])
    assert r.outcome is Outcome.OK
    assert len([c for c in mock.calls if c.request.url == TOKEN_URL]) == 2
    assert [c.request.headers["Authorization"] for c in stock_calls(mock)] == ["Bearer old", "Bearer new"]


def test_zero_stock_and_back(adapter: ZalandoAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.post(STOCKS, status=207, json=results((ean(1), 0, "ACCEPTED", 0)))
    mock.post(STOCKS, status=207, json=results((ean(1), 4, "ACCEPTED", 0)))
    [zero] = adapter.push([StockUpdate(1, ean(1), 3, action=PushAction.DEACTIVATE)])
    [back] = adapter.push([StockUpdate(1, ean(1), 4, action=PushAction.REACTIVATE)])
    assert (zero.outcome, zero.applied_quantity) == (Outcome.OK, 0)
    assert (back.outcome, back.applied_quantity) == (Outcome.OK, 4)
    assert [body_of(c)["items"][0]["quantity"] for c in stock_calls(mock)] == [0, 4]


def test_batch_split_at_1000(adapter: ZalandoAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    updates = [StockUpdate(i, ean(i), 1) for i in range(ZalandoAdapter.batch_limit + 1)]
    mock.post(STOCKS, status=207, json=results(*[(u.sku, 1, "ACCEPTED", 0) for u in updates[:1000]]))
    mock.post(STOCKS, status=207, json=results((updates[-1].sku, 1, "ACCEPTED", 0)))
    out = adapter.push(updates)
    assert all(r.outcome is Outcome.OK for r in out)
    sizes = [len(body_of(c)["items"]) for c in stock_calls(mock)]
    assert sizes == [1000, 1]
    validate_request("zalando", "POST", STOCKS, body_of(stock_calls(mock)[0]))


def test_item_budget_paces_big_batches(clock: ManualClock, mock: responses.RequestsMock) -> None:
    """2000 items a minute: three full batches cannot all go out in the first minute."""
    adapter = ZalandoAdapter("zalando_de", SETTINGS, clock=clock)
    token_reply(mock, "t")
    mock.post(STOCKS, status=207, json={"results": []})
    start = clock.now()
    adapter.push([StockUpdate(i, ean(i), 1) for i in range(3000)])
    assert clock.now() - start >= 29.0  # third 1000-item call waited for the budget
    adapter.close()


# -- issue 17 item 9: one invalid item must not fail the others --------------------------------------
# Spec (StockUpdatePerSalesChannel): `ean` is `format: gtin-13`, `sales_channel_id` `format: uuid`,
# `quantity` `minimum: 0`; a 207 reply carries one result per item, a `default` problem refuses the
# request as a whole.


def test_an_ean_that_is_not_a_gtin13_fails_alone_and_is_not_sent(adapter: ZalandoAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    good = ean(1)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)  # wrong check digit
    mock.post(STOCKS, status=207, json=results((good, 3, "ACCEPTED", 0)))
    ok_result, refused = adapter.push([StockUpdate(1, good, 3), StockUpdate(2, bad, 3)])
    assert ok_result.outcome is Outcome.OK
    assert refused.outcome is Outcome.FAILED and refused.category is FailureCategory.VALIDATION
    assert "GTIN-13" in refused.message
    [call] = stock_calls(mock)
    assert [i["ean"] for i in body_of(call)["items"]] == [good]


def test_a_whole_request_refusal_is_narrowed_down_to_the_item(adapter: ZalandoAdapter, mock: responses.RequestsMock) -> None:
    """Zalando refuses the whole request (problem, not 207) because of one item: the batch
    is halved until only that item fails; the others get their own 207 results."""
    token_reply(mock, "t")
    a, b, c, d = (ean(n) for n in range(1, 5))
    problem = {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": f"items: {c} refused"}

    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        items = json.loads(request.body)["items"]
        if any(i["ean"] == c for i in items):
            return 400, {"Content-Type": "application/problem+json"}, json.dumps(problem)
        return 207, {}, json.dumps(results(*[(i["ean"], i["quantity"], "ACCEPTED", 0) for i in items]))

    mock.add_callback(responses.POST, STOCKS, callback=reply)
    got = adapter.push([StockUpdate(n, e, 2) for n, e in enumerate((a, b, c, d), start=1)])
    assert [r.outcome for r in got] == [Outcome.OK, Outcome.OK, Outcome.FAILED, Outcome.OK]
    assert got[2].category is FailureCategory.VALIDATION and c in got[2].message
    sizes = [len(body_of(call)["items"]) for call in stock_calls(mock)]
    assert sizes == [4, 2, 2, 1, 1]


def test_the_sales_channel_id_must_be_a_uuid(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="UUID"):
        ZalandoAdapter("zalando_de", {**SETTINGS, "sales_channel_id": "de-DE"}, clock=clock)
