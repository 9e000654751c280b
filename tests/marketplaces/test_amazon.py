"""Amazon adapter against mocked SP-API replies (responses): exact requests, LWA token
flow, per-item issues, throttling and zero stock. The bodies are checked against the
published Listings Items model (tests.support.specs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from urllib.parse import parse_qs

import pytest
import responses

from connector.marketplaces.amazon import AmazonAdapter
from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from connector.marketplaces.http import ManualClock
from connector.stock.model import PushAction
from tests.marketplaces.conftest import body_of, token_replies
from tests.support.specs import validate_request, validate_response

HOST = "https://sellingpartnerapi-eu.amazon.com"
TOKEN_URL = "https://api.amazon.com/auth/o2/token"
SETTINGS = {
    "base_url": HOST,
    "token_url": TOKEN_URL,
    "seller_id": "A3EXAMPLE",
    "marketplace_id": "A1PA6795UKMFR9",
    "client_id": "amzn1.application-oa2-client.abc",
    "client_secret": "lwa-secret-123456",
    "refresh_token": "Atzr|refresh-123456",
}
ITEM = f"{HOST}/listings/2021-08-01/items/A3EXAMPLE"
QUERY = "?marketplaceIds=A1PA6795UKMFR9&issueLocale=en_US"


def accepted(sku: str) -> dict[str, object]:
    return {"sku": sku, "status": "ACCEPTED", "submissionId": "f1dc2914", "issues": []}


@pytest.fixture
def adapter(clock: ManualClock) -> Iterator[AmazonAdapter]:
    with closing(AmazonAdapter("amazon_de", SETTINGS, clock=clock)) as a:
        yield a


def token_reply(mock: responses.RequestsMock, *tokens: str) -> None:
    token_replies(mock, TOKEN_URL, tokens, token_type="bearer", expires_in=3600)


def api_calls(mock: responses.RequestsMock) -> list[responses.Call]:
    return [c for c in mock.calls if not c.request.url.startswith(TOKEN_URL)]


def test_push_sends_the_exact_patch_and_lwa_token(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "Atza|access-1")
    mock.patch(f"{ITEM}/MUG%2FRED{QUERY}", json=accepted("MUG/RED"))

    [result] = adapter.push([StockUpdate(listing_id=1, sku="MUG/RED", quantity=4)])

    assert result.outcome is Outcome.OK and result.applied_quantity == 4
    token_call, call = mock.calls
    assert parse_qs(token_call.request.body) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["Atzr|refresh-123456"],
        "client_id": ["amzn1.application-oa2-client.abc"],
        "client_secret": ["lwa-secret-123456"],
    }
    assert call.request.method == "PATCH"
    assert call.request.url == f"{ITEM}/MUG%2FRED{QUERY}"
    assert call.request.headers["x-amz-access-token"] == "Atza|access-1"
    assert call.request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in call.request.headers
    expected = {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 4}],
            }
        ],
    }
    assert body_of(call) == expected
    validate_request("amazon", "PATCH", call.request.url, expected, dict(call.request.headers))
    validate_response("amazon", "PATCH", call.request.url, 200, json.dumps(accepted("MUG/RED")))


def test_token_is_cached_between_pushes(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "Atza|access-1")
    mock.patch(f"{ITEM}/A{QUERY}", json=accepted("A"))
    adapter.push([StockUpdate(1, "A", 1)])
    adapter.push([StockUpdate(1, "A", 2)])
    assert len([c for c in mock.calls if c.request.url == TOKEN_URL]) == 1


def test_invalid_item_in_a_batch_fails_alone(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.patch(f"{ITEM}/GOOD{QUERY}", json=accepted("GOOD"))
    invalid = {
        "sku": "BAD",
        "status": "INVALID",
        "submissionId": "x1",
        "issues": [
            {"code": "90000900", "message": "The attributes are invalid.", "severity": "ERROR",
             "attributeNames": ["fulfillment_availability"], "categories": []}
        ],
    }
    validate_response("amazon", "PATCH", f"{ITEM}/BAD{QUERY}", 200, json.dumps(invalid))
    mock.patch(f"{ITEM}/BAD{QUERY}", json=invalid)
    mock.patch(f"{ITEM}/GONE{QUERY}", status=404,
               json={"errors": [{"code": "NOT_FOUND", "message": "SKU GONE not found"}]})

    good, bad, gone = adapter.push(
        [StockUpdate(1, "GOOD", 3), StockUpdate(2, "BAD", 3), StockUpdate(3, "GONE", 3)]
    )

    assert good.outcome is Outcome.OK
    assert bad.outcome is Outcome.FAILED and bad.category is FailureCategory.VALIDATION
    assert bad.message == "90000900: The attributes are invalid."
    assert gone.category is FailureCategory.UNKNOWN_LISTING and "not found" in gone.message


def test_429_waits_the_retry_after(adapter: AmazonAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    token_reply(mock, "t")
    url = f"{ITEM}/A{QUERY}"
    mock.patch(url, status=429, headers={"Retry-After": "3"},
               json={"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]})
    mock.patch(url, json=accepted("A"))

    [result] = adapter.push([StockUpdate(1, "A", 2)])

    assert result.outcome is Outcome.OK
    assert len(api_calls(mock)) == 2
    assert clock.sleeps[0] == 3.0  # the hint, not a guess


def test_5xx_then_success(adapter: AmazonAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    token_reply(mock, "t")
    url = f"{ITEM}/A{QUERY}"
    mock.patch(url, status=503, json={"errors": [{"code": "ServiceUnavailable", "message": "x"}]})
    mock.patch(url, json=accepted("A"))
    [result] = adapter.push([StockUpdate(1, "A", 2)])
    assert result.outcome is Outcome.OK
    assert len(api_calls(mock)) == 2
    assert 0.5 <= clock.sleeps[0] <= 0.75  # first backoff step with jitter


def test_retries_used_up_gives_a_retryable_result(adapter: AmazonAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    token_reply(mock, "t")
    mock.patch(f"{ITEM}/A{QUERY}", status=500, json={"errors": [{"code": "InternalFailure", "message": "x"}]})
    [result] = adapter.push([StockUpdate(1, "A", 2)])
    assert result.outcome is Outcome.RETRY and result.retry_at is not None
    assert result.retry_at > clock.now() - 1
    assert len(api_calls(mock)) == adapter.session.attempts


def test_401_refreshes_the_token_once(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "Atza|old", "Atza|new")
    url = f"{ITEM}/A{QUERY}"
    mock.patch(url, status=401, json={"errors": [{"code": "Unauthorized", "message": "expired"}]})
    mock.patch(url, json=accepted("A"))

    [result] = adapter.push([StockUpdate(1, "A", 2)])

    assert result.outcome is Outcome.OK
    assert len([c for c in mock.calls if c.request.url == TOKEN_URL]) == 2
    first, second = api_calls(mock)
    assert first.request.headers["x-amz-access-token"] == "Atza|old"
    assert second.request.headers["x-amz-access-token"] == "Atza|new"


def test_refused_refresh_token_is_an_auth_failure_without_secrets(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    mock.post(TOKEN_URL, status=400, json={"error": "invalid_grant",
                                           "error_description": "bad Atzr|refresh-123456"})
    [result] = adapter.push([StockUpdate(1, "A", 2)])
    assert result.outcome is Outcome.FAILED and result.category is FailureCategory.AUTH
    assert "invalid_grant" in result.message
    for secret in ("Atzr|refresh-123456", "lwa-secret-123456"):
        assert secret not in result.message


def test_zero_stock_and_reactivation(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.patch(f"{ITEM}/A{QUERY}", json=accepted("A"))
    [zero] = adapter.push([StockUpdate(1, "A", 0, action=PushAction.DEACTIVATE)])
    [back] = adapter.push([StockUpdate(1, "A", 6, action=PushAction.REACTIVATE)])
    assert zero.outcome is Outcome.OK and zero.applied_quantity == 0
    assert back.outcome is Outcome.OK and back.applied_quantity == 6
    quantities = [body_of(c)["patches"][0]["value"][0]["quantity"] for c in api_calls(mock)]  # type: ignore[index]
    assert quantities == [0, 6]


def test_batch_limit_is_one_sku_per_patch(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    for sku in ("A", "B"):
        mock.patch(f"{ITEM}/{sku}{QUERY}", json=accepted(sku))
    updates = [StockUpdate(i, sku, 1) for i, sku in enumerate(("A", "B"), start=1)]
    assert len(updates) == AmazonAdapter.batch_limit + 1
    results = adapter.push(updates)
    assert [r.outcome for r in results] == [Outcome.OK, Outcome.OK]
    assert len(api_calls(mock)) == 2


def test_read_back(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.get(
        f"{ITEM}/A?marketplaceIds=A1PA6795UKMFR9&includedData=summaries%2CfulfillmentAvailability&issueLocale=en_US",
        json={"sku": "A", "summaries": [{"marketplaceId": "A1PA6795UKMFR9", "status": ["BUYABLE"]}],
              "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": 4}]},
    )
    mock.get(
        f"{ITEM}/B?marketplaceIds=A1PA6795UKMFR9&includedData=summaries%2CfulfillmentAvailability&issueLocale=en_US",
        status=404, json={"errors": [{"code": "NOT_FOUND", "message": "not found"}]},
    )
    a, b = adapter.read([("A", None), ("B", None)])
    assert (a.quantity, a.active, a.found) == (4, True, True)
    assert b.found is False


def test_403_unauthorized_token_is_refreshed_once(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    """SP-API answers a revoked/expired access token with 403 Unauthorized, not 401."""
    token_reply(mock, "Atza|old", "Atza|new")
    url = f"{ITEM}/A{QUERY}"
    denied = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                          "details": "The access token you provided is revoked, malformed or invalid."}]}
    mock.patch(url, status=403, json=denied)
    mock.patch(url, json=accepted("A"))
    [result] = adapter.push([StockUpdate(1, "A", 2)])
    assert result.outcome is Outcome.OK
    assert [c.request.headers["x-amz-access-token"] for c in api_calls(mock)] == ["Atza|old", "Atza|new"]


def test_403_with_a_fresh_token_is_an_auth_failure(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "Atza|old", "Atza|new")
    mock.patch(f"{ITEM}/A{QUERY}", status=403,
               json={"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]})
    [result] = adapter.push([StockUpdate(1, "A", 2)])
    assert result.outcome is Outcome.FAILED and result.category is FailureCategory.AUTH
    assert len(api_calls(mock)) == 2  # one refresh, then stop
