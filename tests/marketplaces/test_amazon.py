"""Amazon adapter against mocked SP-API replies (responses): exact requests, LWA token
flow, per-item issues, throttling, zero stock and the FBA check before a SKU's first
push. The bodies are checked against the published Listings Items model
(tests.support.specs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from urllib.parse import parse_qs, quote

import pytest
import responses

from connector.marketplaces.amazon import FULFILLMENT_CHECK_TTL_S, AmazonAdapter
from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.stock.model import PushAction
from tests.marketplaces.conftest import body_of, token_replies
from tests.support.specs import specs_dir, validate_request, validate_response

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
FF_QUERY = "?marketplaceIds=A1PA6795UKMFR9&includedData=fulfillmentAvailability&issueLocale=en_US"


def accepted(sku: str) -> dict[str, object]:
    return {"sku": sku, "status": "ACCEPTED", "submissionId": "f1dc2914", "issues": []}


@pytest.fixture
def adapter(clock: ManualClock) -> Iterator[AmazonAdapter]:
    with closing(AmazonAdapter("amazon_de", SETTINGS, clock=clock)) as a:
        yield a


def token_reply(mock: responses.RequestsMock, *tokens: str) -> None:
    token_replies(mock, TOKEN_URL, tokens, token_type="bearer", expires_in=3600)


def fulfilment(sku: str, *channels: str) -> dict[str, object]:
    """getListingsItem with includedData=fulfillmentAvailability, one entry per channel."""
    return {"sku": sku, "fulfillmentAvailability": [
        {"fulfillmentChannelCode": c, **({"quantity": 3} if c == "DEFAULT" else {})} for c in channels]}


def ff_url(sku: str) -> str:
    return f"{ITEM}/{quote(sku, safe='')}{FF_QUERY}"


def merchant(mock: responses.RequestsMock, *skus: str) -> None:
    """The FBA check's reply for merchant-fulfilled SKUs."""
    for sku in skus:
        mock.get(ff_url(sku), json=fulfilment(sku, "DEFAULT"))


def api_calls(mock: responses.RequestsMock) -> list[responses.Call]:
    """The PATCHes sent (not the token calls, not the FBA checks)."""
    return [c for c in mock.calls if c.request.method == "PATCH"]


def checks(mock: responses.RequestsMock) -> list[responses.Call]:
    return [c for c in mock.calls if c.request.method == "GET"]


def test_push_sends_the_exact_patch_and_lwa_token(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "Atza|access-1")
    merchant(mock, 'MUG/RED')
    mock.patch(f"{ITEM}/MUG%2FRED{QUERY}", json=accepted("MUG/RED"))

    [result] = adapter.push([StockUpdate(listing_id=1, sku="MUG/RED", quantity=4)])

    assert result.awaiting_confirmation and result.applied_quantity is None
    token_call, check, call = mock.calls
    assert (check.request.method, check.request.url) == ("GET", ff_url("MUG/RED"))
    assert check.request.headers["x-amz-access-token"] == "Atza|access-1"
    validate_request("amazon", "GET", check.request.url, None, dict(check.request.headers))
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
    merchant(mock, 'A')
    mock.patch(f"{ITEM}/A{QUERY}", json=accepted("A"))
    adapter.push([StockUpdate(1, "A", 1)])
    adapter.push([StockUpdate(1, "A", 2)])
    assert len([c for c in mock.calls if c.request.url == TOKEN_URL]) == 1
    assert len(checks(mock)) == 1  # the FBA check is cached per SKU too
    assert len(api_calls(mock)) == 2


def test_invalid_item_in_a_batch_fails_alone(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    merchant(mock, 'GOOD', 'BAD')
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
    mock.get(ff_url("GONE"), status=404,
             json={"errors": [{"code": "NOT_FOUND", "message": "SKU GONE not found"}]})

    good, bad, gone = adapter.push(
        [StockUpdate(1, "GOOD", 3), StockUpdate(2, "BAD", 3), StockUpdate(3, "GONE", 3)]
    )

    assert good.awaiting_confirmation
    assert bad.outcome is Outcome.FAILED and bad.category is FailureCategory.VALIDATION
    assert bad.message == "90000900: The attributes are invalid."
    assert gone.category is FailureCategory.UNKNOWN_LISTING and "not found" in gone.message
    assert [c.request.url for c in api_calls(mock)] == [f"{ITEM}/GOOD{QUERY}", f"{ITEM}/BAD{QUERY}"]


def test_429_waits_the_retry_after(adapter: AmazonAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    token_reply(mock, "t")
    merchant(mock, 'A')
    url = f"{ITEM}/A{QUERY}"
    mock.patch(url, status=429, headers={"Retry-After": "3"},
               json={"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]})
    mock.patch(url, json=accepted("A"))

    [result] = adapter.push([StockUpdate(1, "A", 2)])

    assert result.awaiting_confirmation
    assert len(api_calls(mock)) == 2
    assert clock.sleeps[0] == 3.0  # the hint, not a guess


def test_5xx_then_success(adapter: AmazonAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    token_reply(mock, "t")
    merchant(mock, 'A')
    url = f"{ITEM}/A{QUERY}"
    mock.patch(url, status=503, json={"errors": [{"code": "ServiceUnavailable", "message": "x"}]})
    mock.patch(url, json=accepted("A"))
    [result] = adapter.push([StockUpdate(1, "A", 2)])
    assert result.awaiting_confirmation
    assert len(api_calls(mock)) == 2
    assert 0.5 <= clock.sleeps[0] <= 0.75  # first backoff step with jitter


def test_retries_used_up_gives_a_retryable_result(adapter: AmazonAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    token_reply(mock, "t")
    merchant(mock, 'A')
    mock.patch(f"{ITEM}/A{QUERY}", status=500, json={"errors": [{"code": "InternalFailure", "message": "x"}]})
    [result] = adapter.push([StockUpdate(1, "A", 2)])
    assert result.outcome is Outcome.RETRY and result.retry_at is not None
    assert result.retry_at > clock.now() - 1
    assert len(api_calls(mock)) == adapter.session.attempts


def test_401_refreshes_the_token_once(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "Atza|old", "Atza|new")
    merchant(mock, 'A')
    url = f"{ITEM}/A{QUERY}"
    mock.patch(url, status=401, json={"errors": [{"code": "Unauthorized", "message": "expired"}]})
    mock.patch(url, json=accepted("A"))

    [result] = adapter.push([StockUpdate(1, "A", 2)])

    assert result.awaiting_confirmation
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
    merchant(mock, 'A')
    mock.patch(f"{ITEM}/A{QUERY}", json=accepted("A"))
    [zero] = adapter.push([StockUpdate(1, "A", 0, action=PushAction.DEACTIVATE)])
    [back] = adapter.push([StockUpdate(1, "A", 6, action=PushAction.REACTIVATE)])
    assert zero.awaiting_confirmation
    assert back.awaiting_confirmation
    quantities = [body_of(c)["patches"][0]["value"][0]["quantity"] for c in api_calls(mock)]  # type: ignore[index]
    assert quantities == [0, 6]


def test_batch_limit_is_one_sku_per_patch(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    merchant(mock, 'A', 'B')
    for sku in ("A", "B"):
        mock.patch(f"{ITEM}/{sku}{QUERY}", json=accepted(sku))
    updates = [StockUpdate(i, sku, 1) for i, sku in enumerate(("A", "B"), start=1)]
    assert len(updates) == AmazonAdapter.batch_limit + 1
    results = adapter.push(updates)
    assert all(r.awaiting_confirmation for r in results)
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
    merchant(mock, 'A')
    url = f"{ITEM}/A{QUERY}"
    denied = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                          "details": "The access token you provided is revoked, malformed or invalid."}]}
    mock.patch(url, status=403, json=denied)
    mock.patch(url, json=accepted("A"))
    [result] = adapter.push([StockUpdate(1, "A", 2)])
    assert result.awaiting_confirmation
    assert [c.request.headers["x-amz-access-token"] for c in api_calls(mock)] == ["Atza|old", "Atza|new"]


def test_403_with_a_fresh_token_is_an_auth_failure(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "Atza|old", "Atza|new")
    merchant(mock, 'A')
    mock.patch(f"{ITEM}/A{QUERY}", status=403,
               json={"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]})
    [result] = adapter.push([StockUpdate(1, "A", 2)])
    assert result.outcome is Outcome.FAILED and result.category is FailureCategory.AUTH
    assert len(api_calls(mock)) == 2  # one refresh, then stop


def test_fba_sku_fails_validation_and_no_patch_is_sent(
    adapter: AmazonAdapter, mock: responses.RequestsMock, clock: ManualClock
) -> None:
    token_reply(mock, "t")
    reply = fulfilment("FBA-1", "AMAZON_EU")
    validate_response("amazon", "GET", ff_url("FBA-1"), 200, json.dumps(reply))
    mock.get(ff_url("FBA-1"), json=reply)
    mock.patch(f"{ITEM}/FBA-1{QUERY}", json=accepted("FBA-1"))

    first = adapter.push([StockUpdate(1, "FBA-1", 4)])
    clock.advance(FULFILLMENT_CHECK_TTL_S - 1)
    second = adapter.push([StockUpdate(1, "FBA-1", 5)])

    for [result] in (first, second):
        assert result.outcome is Outcome.FAILED and result.category is FailureCategory.VALIDATION
        assert result.message.startswith("FBA listing: Amazon manages its stock")
        assert "AMAZON_EU" in result.message
    assert api_calls(mock) == []
    assert len(checks(mock)) == 1  # cached per SKU


def test_fba_check_asks_only_for_fulfilment_availability(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    merchant(mock, "A")
    mock.patch(f"{ITEM}/A{QUERY}", json=accepted("A"))
    adapter.push([StockUpdate(1, "A", 4)])
    [check] = checks(mock)
    included = parse_qs(check.request.url.split("?", 1)[1])["includedData"]
    spec = json.loads((specs_dir() / "amazon" / "listingsItems_2021-08-01.json").read_text())
    params = spec["paths"]["/listings/2021-08-01/items/{sellerId}/{sku}"]["get"]["parameters"]
    [allowed] = [p["items"]["enum"] for p in params if p["name"] == "includedData"]
    assert included == ["fulfillmentAvailability"] and included[0] in allowed


def test_fba_check_is_repeated_after_its_ttl(adapter: AmazonAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    """A seller may convert an FBA SKU to merchant fulfilment: the answer is not kept forever."""
    token_reply(mock, "t")
    mock.get(ff_url("A"), json=fulfilment("A", "AMAZON_EU"))
    mock.get(ff_url("A"), json=fulfilment("A", "DEFAULT"))
    mock.patch(f"{ITEM}/A{QUERY}", json=accepted("A"))
    [before] = adapter.push([StockUpdate(1, "A", 4)])
    clock.advance(FULFILLMENT_CHECK_TTL_S)
    [after] = adapter.push([StockUpdate(1, "A", 4)])
    assert before.outcome is Outcome.FAILED and after.awaiting_confirmation
    assert len(checks(mock)) == 2 and len(api_calls(mock)) == 1


def test_sku_without_offer_or_with_both_channels_is_pushed(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.get(ff_url("NEW"), json={"sku": "NEW", "fulfillmentAvailability": []})
    mock.get(ff_url("BOTH"), json=fulfilment("BOTH", "AMAZON_EU", "DEFAULT"))
    for sku in ("NEW", "BOTH"):
        mock.patch(f"{ITEM}/{sku}{QUERY}", json=accepted(sku))
    results = adapter.push([StockUpdate(1, "NEW", 2), StockUpdate(2, "BOTH", 3)])
    assert all(r.awaiting_confirmation for r in results)
    assert len(api_calls(mock)) == 2


def test_unknown_sku_at_the_check_is_not_cached(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.get(ff_url("LATE"), status=404, json={"errors": [{"code": "NOT_FOUND", "message": "SKU LATE not found"}]})
    mock.get(ff_url("LATE"), json=fulfilment("LATE", "DEFAULT"))
    mock.patch(f"{ITEM}/LATE{QUERY}", json=accepted("LATE"))
    [missing] = adapter.push([StockUpdate(1, "LATE", 2)])
    [created] = adapter.push([StockUpdate(1, "LATE", 2)])
    assert missing.category is FailureCategory.UNKNOWN_LISTING and "not found" in missing.message
    assert created.awaiting_confirmation
    assert len(checks(mock)) == 2 and len(api_calls(mock)) == 1


def test_read_back_fills_the_fba_cache(adapter: AmazonAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.get(
        f"{ITEM}/F?marketplaceIds=A1PA6795UKMFR9&includedData=summaries%2CfulfillmentAvailability&issueLocale=en_US",
        json={"sku": "F", "summaries": [], "fulfillmentAvailability": [{"fulfillmentChannelCode": "AMAZON_EU"}]},
    )
    adapter.read([("F", None)])
    [result] = adapter.push([StockUpdate(1, "F", 2)])
    assert result.category is FailureCategory.VALIDATION
    assert len(checks(mock)) == 1 and api_calls(mock) == []  # the read's GET only


# -- accepted is not applied (issue 17 item 6) ------------------------------------------------
# Amazon, "Manage Listings Issues" (developer-docs.amazon.com/sp-api/docs/manage-listings-issues):
# "Accepted does not mean the process is complete ... any of these processes can generate
# issues that return asynchronously". The spec's ListingsItemSubmissionResponse.status:
# ACCEPTED = "The listings submission was accepted for processing."

CONFIRM_QUERY = ("?marketplaceIds=A1PA6795UKMFR9&includedData=fulfillmentAvailability%2Cissues"
                 "&issueLocale=en_US")


def shown(sku: str, quantity: int, issues: list[dict[str, object]] | None = None) -> dict[str, object]:
    """getListingsItem with includedData=fulfillmentAvailability,issues."""
    return {"sku": sku, "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": quantity}],
            "issues": issues or []}


def accept_then(mock: responses.RequestsMock, adapter: AmazonAdapter, clock: ManualClock, sku: str,
                quantity: int, *reads: dict[str, object]) -> list[object]:
    """PATCH accepted, then one confirmation read per `reads`; every result in order."""
    token_reply(mock, "t")
    merchant(mock, sku)
    mock.patch(f"{ITEM}/{sku}{QUERY}", json=accepted(sku))
    for read in reads:
        mock.get(f"{ITEM}/{sku}{CONFIRM_QUERY}", json=read)
    results: list[object] = []
    [first] = adapter.push([StockUpdate(1, sku, quantity)])
    results.append(first)
    for _ in reads:
        assert first.retry_at is not None
        clock.advance(first.retry_at - clock.now())  # the engine's retry queue brings the update back then
        [first] = adapter.push([StockUpdate(1, sku, quantity)])
        results.append(first)
    return results


def test_accepted_is_held_then_confirmed_applied_by_reading_back(
    adapter: AmazonAdapter, mock: responses.RequestsMock, clock: ManualClock
) -> None:
    start = clock.now()
    read = shown("A", 7)
    validate_response("amazon", "GET", f"{ITEM}/A{CONFIRM_QUERY}", 200, json.dumps(read))
    accepted_result, confirmed = accept_then(mock, adapter, clock, "A", 7, read)
    assert accepted_result.awaiting_confirmation and accepted_result.deferred  # type: ignore[attr-defined]
    assert accepted_result.retry_at == start + adapter.confirm_after_s  # type: ignore[attr-defined]
    assert adapter.pending_confirmations() == 0
    assert confirmed.outcome is Outcome.OK and confirmed.applied_quantity == 7  # type: ignore[attr-defined]
    assert len(api_calls(mock)) == 1, "the confirmation reads back, it does not PATCH again"
    confirm_call = checks(mock)[-1]
    validate_request("amazon", "GET", confirm_call.request.url, None, dict(confirm_call.request.headers))


def test_accepted_then_rejected_later_is_a_listing_error(
    adapter: AmazonAdapter, mock: responses.RequestsMock, clock: ManualClock
) -> None:
    issue = {"code": "99022", "message": "quantity exceeds the allowed maximum", "severity": "ERROR",
             "attributeNames": ["fulfillment_availability"], "categories": ["INVALID_ATTRIBUTE"]}
    read = shown("A", 3, [issue])
    validate_response("amazon", "GET", f"{ITEM}/A{CONFIRM_QUERY}", 200, json.dumps(read))
    _accepted, late = accept_then(mock, adapter, clock, "A", 7, read)
    assert late.outcome is Outcome.FAILED and late.category is FailureCategory.VALIDATION  # type: ignore[attr-defined]
    assert "f1dc2914" in late.message and "99022: quantity exceeds" in late.message  # type: ignore[attr-defined]
    assert len(api_calls(mock)) == 1


def test_warning_issues_do_not_reject_and_the_wait_doubles_within_the_budget(
    adapter: AmazonAdapter, mock: responses.RequestsMock, clock: ManualClock
) -> None:
    warning = {"code": "18027", "message": "image missing", "severity": "WARNING", "categories": []}
    start = clock.now()
    results = accept_then(mock, adapter, clock, "A", 7, shown("A", 3, [warning]), shown("A", 3))
    first, second, third = results
    assert all(r.awaiting_confirmation for r in results)  # type: ignore[attr-defined]
    wait = adapter.confirm_after_s
    assert first.retry_at == start + wait  # type: ignore[attr-defined]
    assert second.retry_at == start + wait + 2 * wait  # type: ignore[attr-defined]
    assert third.retry_at == start + 3 * wait + 4 * wait  # type: ignore[attr-defined]
    assert "shows 3" in third.message  # type: ignore[attr-defined]
    # Past the budget: a plain retry (counted by the engine), and the next push PATCHes again.
    clock.advance(start + adapter.confirm_budget_s - clock.now())
    mock.get(f"{ITEM}/A{CONFIRM_QUERY}", json=shown("A", 3))
    [spent] = adapter.push([StockUpdate(1, "A", 7)])
    assert spent.outcome is Outcome.RETRY and not spent.deferred and "sending again" in spent.message
    [again] = adapter.push([StockUpdate(1, "A", 7)])
    assert again.awaiting_confirmation and len(api_calls(mock)) == 2


def test_a_new_value_while_one_awaits_confirmation_is_patched(
    adapter: AmazonAdapter, mock: responses.RequestsMock
) -> None:
    token_reply(mock, "t")
    merchant(mock, "A")
    mock.patch(f"{ITEM}/A{QUERY}", json=accepted("A"))
    adapter.push([StockUpdate(1, "A", 7)])
    [newer] = adapter.push([StockUpdate(1, "A", 2)])
    assert newer.awaiting_confirmation
    assert [body_of(c)["patches"][0]["value"][0]["quantity"] for c in api_calls(mock)] == [7, 2]  # type: ignore[index]
    assert adapter.pending_confirmations() == 1
