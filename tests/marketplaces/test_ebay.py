"""eBay adapter against mocked Sell Inventory API replies: exact requests, the OAuth
refresh-token grant, per-SKU status codes, throttling, zero stock (0 / withdraw / publish)
the 25-request limit and the 250-revisions-a-day spacing per listing. Bodies are checked against eBay's published OpenAPI
(tests.support.specs)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import closing
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses

from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from connector.marketplaces.ebay import (
    REVISION_BURST,
    REVISION_SPACING_S,
    REVISIONS_PER_DAY,
    EbayAdapter,
    RevisionBudget,
)
from tests.support.clock import ManualClock
from connector.stock.model import PushAction
from tests.marketplaces.conftest import body_of, token_replies
from tests.support.specs import validate_request, validate_response

HOST = "https://api.ebay.com"
TOKEN_URL = f"{HOST}/identity/v1/oauth2/token"
BULK = f"{HOST}/sell/inventory/v1/bulk_update_price_quantity"
SETTINGS = {
    "base_url": HOST,
    "client_id": "ebay-app-id",
    "client_secret": "ebay-cert-secret",
    "refresh_token": "v^1.1#refresh-token-xyz",
    "marketplace_id": "EBAY_DE",
    "out_of_stock_control": "on",  # the preference read has its own tests below
}
OFFERS = f"{HOST}/sell/inventory/v1/offer"
# The offer ids the tests' updates carry, by SKU (getOffers is read before every write).
OFFER_IDS = {"MUG-RED": "9876543210", "MUG": "1", "CUP": "2", "A": "1", "B": "2", "C": "3", "D": "4"}


def offer_id_of(sku: str) -> str:
    return OFFER_IDS.get(sku) or sku.removeprefix("S")


def sku_offers(request: Any) -> tuple[int, dict[str, str], str]:
    """getOffers(sku) on every marketplace: the SKU's one published EBAY_DE offer, unless
    the test registered its own reply first."""
    sku = parse_qs(request.url.split("?", 1)[1])["sku"][0]
    offer = {"offerId": offer_id_of(sku), "sku": sku, "marketplaceId": "EBAY_DE", "format": "FIXED_PRICE",
             "availableQuantity": 1, "status": "PUBLISHED"}
    return 200, {}, json.dumps({"offers": [offer], "total": 1, "size": 1})


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    """The shared lenient mock, answering getOffers(sku) for every SKU (last resort)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture(autouse=True)
def offers_default(mock: responses.RequestsMock) -> None:
    mock.add_callback(responses.GET, re.compile(re.escape(OFFERS) + r"\?sku=[^&]+$"), callback=sku_offers)


def ok_entries(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"responses": [{"statusCode": 200, "sku": sku, "offerId": offer, "errors": [], "warnings": []}
                          for sku, offer in pairs]}


@pytest.fixture
def adapter(clock: ManualClock) -> Iterator[EbayAdapter]:
    with closing(EbayAdapter("ebay_de", SETTINGS, clock=clock)) as a:
        yield a


def token_reply(mock: responses.RequestsMock, *tokens: str) -> None:
    token_replies(mock, TOKEN_URL, tokens, expires_in=7200, token_type="User Access Token")


def api_calls(mock: responses.RequestsMock) -> list[responses.Call]:
    """The writes and reads other than the token and getOffers(sku) before each write."""
    return [c for c in mock.calls if c.request.url != TOKEN_URL and not is_sku_offers(c)]


def is_sku_offers(call: responses.Call) -> bool:
    url = call.request.url
    return url.startswith(OFFERS + "?") and "marketplace_id" not in url


def test_push_sends_the_exact_bulk_request(adapter: EbayAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "v^1.1#access-1")
    reply = ok_entries(("MUG-RED", "9876543210"))
    mock.post(BULK, json=reply)

    [result] = adapter.push([StockUpdate(1, "MUG-RED", 4, external_id="9876543210")])

    assert (result.outcome, result.applied_quantity) == (Outcome.OK, 4)
    token_call, offers, call = mock.calls
    assert is_sku_offers(offers) and offers.request.url == f"{OFFERS}?sku=MUG-RED"
    validate_request("ebay", "GET", offers.request.url, None, dict(offers.request.headers))
    assert token_call.request.headers["Authorization"] == "Basic " + base64.b64encode(
        b"ebay-app-id:ebay-cert-secret").decode()
    assert parse_qs(token_call.request.body) == {
        "grant_type": ["refresh_token"], "refresh_token": ["v^1.1#refresh-token-xyz"],
        "scope": ["https://api.ebay.com/oauth/api_scope/sell.inventory"]}
    assert call.request.method == "POST" and call.request.url == BULK
    assert call.request.headers["Authorization"] == "Bearer v^1.1#access-1"
    assert call.request.headers["Content-Type"] == "application/json"
    expected = {"requests": [{"sku": "MUG-RED", "shipToLocationAvailability": {"quantity": 4},
                              "offers": [{"offerId": "9876543210", "availableQuantity": 4}]}]}
    assert body_of(call) == expected
    validate_request("ebay", "POST", BULK, expected, dict(call.request.headers))
    validate_response("ebay", "POST", BULK, 200, json.dumps(reply))


def test_per_sku_status_codes(adapter: EbayAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.post(BULK, status=207, json={"responses": [
        {"statusCode": 200, "sku": "A", "offerId": "1", "errors": [], "warnings": []},
        {"statusCode": 400, "sku": "B", "offerId": "2", "errors": [
            {"errorId": 25709, "domain": "API_INVENTORY", "category": "REQUEST",
             "message": "Invalid value for availableQuantity."}]},
        {"statusCode": 404, "sku": "C", "offerId": "3", "errors": [
            {"errorId": 25713, "domain": "API_INVENTORY", "category": "REQUEST",
             "message": "This Offer is not available : 3."}]},
        {"statusCode": 500, "sku": "D", "offerId": "4", "errors": [
            {"errorId": 25001, "domain": "API_INVENTORY", "category": "APPLICATION",
             "message": "A system error has occurred."}]},
    ]})
    a, b, c, d = adapter.push([StockUpdate(i, s, 1, external_id=str(i)) for i, s in enumerate("ABCD", start=1)])
    assert a.outcome is Outcome.OK
    assert b.category is FailureCategory.VALIDATION and b.message == "25709: Invalid value for availableQuantity."
    assert c.category is FailureCategory.UNKNOWN_LISTING
    assert d.outcome is Outcome.RETRY


def test_429_waits_the_retry_after(adapter: EbayAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    token_reply(mock, "t")
    mock.post(BULK, status=429, headers={"Retry-After": "6"}, json={"errors": [{"errorId": 2001, "message": "Too many requests"}]})
    mock.post(BULK, json=ok_entries(("A", "1")))
    [r] = adapter.push([StockUpdate(1, "A", 1, external_id="1")])
    assert r.outcome is Outcome.OK and clock.sleeps[0] == 6.0
    assert len(api_calls(mock)) == 2


def test_5xx_then_success(adapter: EbayAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.post(BULK, status=500, json={"errors": [{"errorId": 25001, "message": "A system error has occurred."}]})
    mock.post(BULK, json=ok_entries(("A", "1")))
    [r] = adapter.push([StockUpdate(1, "A", 1, external_id="1")])
    assert r.outcome is Outcome.OK and len(api_calls(mock)) == 2


def test_401_refreshes_the_token_once(adapter: EbayAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "old", "new")
    mock.post(BULK, status=401, json={"errors": [{"errorId": 1001, "message": "Invalid access token"}]})
    mock.post(BULK, json=ok_entries(("A", "1")))
    [r] = adapter.push([StockUpdate(1, "A", 1, external_id="1")])
    assert r.outcome is Outcome.OK
    assert len([c for c in mock.calls if c.request.url == TOKEN_URL]) == 2
    assert [c.request.headers["Authorization"] for c in api_calls(mock)] == ["Bearer old", "Bearer new"]


def test_expired_refresh_token_is_an_auth_failure_without_secrets(adapter: EbayAdapter, mock: responses.RequestsMock) -> None:
    mock.post(TOKEN_URL, status=400, json={"error": "invalid_grant",
                                           "error_description": "the provided authorization refresh token is invalid"})
    [r] = adapter.push([StockUpdate(1, "A", 1, external_id="1")])
    assert r.category is FailureCategory.AUTH and "invalid_grant" in r.message
    assert "refresh-token-xyz" not in r.message and "ebay-cert-secret" not in r.message


def test_zero_stock_pushes_zero_and_back(adapter: EbayAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.post(BULK, json=ok_entries(("A", "1")))
    [zero] = adapter.push([StockUpdate(1, "A", 0, external_id="1")])
    [back] = adapter.push([StockUpdate(1, "A", 5, action=PushAction.REACTIVATE, external_id="1")])
    assert (zero.applied_quantity, back.applied_quantity) == (0, 5)
    assert [body_of(c)["requests"][0]["offers"][0]["availableQuantity"] for c in api_calls(mock)] == [0, 5]


def test_end_withdraws_and_relist_publishes(adapter: EbayAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    withdraw = f"{HOST}/sell/inventory/v1/offer/1/withdraw"
    publish = f"{HOST}/sell/inventory/v1/offer/1/publish"
    mock.post(withdraw, json={"listingId": "110000000001", "warnings": []})
    mock.post(BULK, json={"responses": [{"statusCode": 200, "sku": "A", "errors": [], "warnings": []}]})
    mock.post(publish, json={"listingId": "110000000002", "warnings": []})
    # With the offer in the request, eBay answers for the offer too: that entry confirms it.
    mock.post(BULK, json=ok_entries(("A", "1")))
    [end] = adapter.push([StockUpdate(1, "A", 0, action=PushAction.END, external_id="1")])
    [relist] = adapter.push([StockUpdate(1, "A", 3, action=PushAction.RELIST, external_id="1")])
    assert (end.outcome, end.active) == (Outcome.OK, False)
    assert (relist.outcome, relist.applied_quantity, relist.active) == (Outcome.OK, 3, True)
    assert "110000000002" in relist.message
    urls = [c.request.url for c in api_calls(mock)]
    assert urls == [withdraw, BULK, publish, BULK]
    item_only, with_offer = body_of(api_calls(mock)[1]), body_of(api_calls(mock)[3])
    assert item_only == {"requests": [{"sku": "A", "shipToLocationAvailability": {"quantity": 3}}]}
    assert with_offer["requests"][0]["offers"] == [{"offerId": "1", "availableQuantity": 3}]
    for call in api_calls(mock):
        validate_request("ebay", "POST", call.request.url, body_of(call), dict(call.request.headers))


def test_batch_split_at_25(adapter: EbayAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    updates = [StockUpdate(i, f"S{i}", 1, external_id=str(i)) for i in range(EbayAdapter.batch_limit + 1)]
    mock.post(BULK, json=ok_entries(*[(u.sku, str(u.external_id)) for u in updates[:25]]))
    mock.post(BULK, json=ok_entries((updates[-1].sku, str(updates[-1].external_id))))
    assert all(r.outcome is Outcome.OK for r in adapter.push(updates))
    assert [len(body_of(c)["requests"]) for c in api_calls(mock)] == [25, 1]


def test_read_back(adapter: EbayAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.get(f"{HOST}/sell/inventory/v1/offer?sku=A&marketplace_id=EBAY_DE", json={"offers": [
        {"offerId": "1", "sku": "A", "availableQuantity": 4, "status": "PUBLISHED",
         "listing": {"listingId": "11", "listingStatus": "ACTIVE"}}], "size": 1, "total": 1})
    mock.get(f"{HOST}/sell/inventory/v1/offer?sku=B&marketplace_id=EBAY_DE", status=404,
             json={"errors": [{"errorId": 25713, "message": "This Offer is not available"}]})
    a, b = adapter.read([("A", "1"), ("B", None)])
    assert (a.quantity, a.active, a.found) == (4, True, True)
    assert b.found is False


def bulk_quantities(mock: responses.RequestsMock) -> list[int]:
    return [r["shipToLocationAvailability"]["quantity"]
            for c in mock.calls if c.request.url == BULK for r in body_of(c)["requests"]]


def burn_burst(adapter: EbayAdapter, mock: responses.RequestsMock) -> None:
    """Spend the listing's burst: REVISION_BURST non-zero revisions back to back."""
    for n in range(REVISION_BURST):
        [result] = adapter.push([StockUpdate(1, "MUG", 10 + n, external_id="1")])
        assert result.outcome is Outcome.OK


def test_spacing_constant_keeps_a_day_under_250() -> None:
    assert REVISION_SPACING_S == 86_400 / (REVISIONS_PER_DAY - REVISION_BURST) == 360.0


def test_burst_then_held_with_retry_at_when_it_may_go(
    adapter: EbayAdapter, mock: responses.RequestsMock, clock: ManualClock
) -> None:
    token_reply(mock, "t")
    mock.post(BULK, json=ok_entries(("MUG", "1")))
    burn_burst(adapter, mock)
    [held] = adapter.push([StockUpdate(1, "MUG", 25, external_id="1")])
    assert held.outcome is Outcome.RETRY
    assert held.retry_at == pytest.approx(clock.now() + REVISION_SPACING_S)
    assert "250 revisions per listing per day" in held.message
    assert held.message.startswith("held until ") and held.deferred  # status lists it with that time
    assert len(bulk_quantities(mock)) == REVISION_BURST  # the held one was not sent
    clock.advance(REVISION_SPACING_S)
    [sent] = adapter.push([StockUpdate(1, "MUG", 25, external_id="1")])
    assert sent.outcome is Outcome.OK and bulk_quantities(mock)[-1] == 25


def test_a_newer_value_replaces_the_held_one(
    adapter: EbayAdapter, mock: responses.RequestsMock, clock: ManualClock
) -> None:
    token_reply(mock, "t")
    mock.post(BULK, json=ok_entries(("MUG", "1")))
    burn_burst(adapter, mock)
    [first] = adapter.push([StockUpdate(1, "MUG", 25, external_id="1")])
    clock.advance(100)
    [second] = adapter.push([StockUpdate(1, "MUG", 23, external_id="1")])
    assert first.outcome is second.outcome is Outcome.RETRY
    assert second.retry_at == pytest.approx(first.retry_at)  # holding costs nothing
    clock.advance(REVISION_SPACING_S - 100)
    [latest] = adapter.push([StockUpdate(1, "MUG", 23, external_id="1")])
    assert latest.outcome is Outcome.OK
    assert bulk_quantities(mock)[REVISION_BURST:] == [23]  # 25 never went out


def test_pushes_to_zero_always_go_and_are_counted(
    adapter: EbayAdapter, mock: responses.RequestsMock, clock: ManualClock
) -> None:
    token_reply(mock, "t")
    mock.post(BULK, json=ok_entries(("MUG", "1")))
    mock.post(f"{HOST}/sell/inventory/v1/offer/1/withdraw", json={"listingId": "110000000001", "warnings": []})
    burn_burst(adapter, mock)
    zero = adapter.push([StockUpdate(1, "MUG", 0, external_id="1")])
    off = adapter.push([StockUpdate(1, "MUG", 0, action=PushAction.DEACTIVATE, external_id="1")])
    end = adapter.push([StockUpdate(1, "MUG", 0, action=PushAction.END, external_id="1")])
    assert [r.outcome for [r] in (zero, off, end)] == [Outcome.OK] * 3
    assert bulk_quantities(mock)[REVISION_BURST:] == [0, 0]
    # three revisions over budget: the next non-zero push waits for them too
    [held] = adapter.push([StockUpdate(1, "MUG", 2, external_id="1")])
    assert held.retry_at == pytest.approx(clock.now() + 4 * REVISION_SPACING_S)


def test_other_listings_in_the_batch_are_not_held(
    adapter: EbayAdapter, mock: responses.RequestsMock, clock: ManualClock
) -> None:
    token_reply(mock, "t")
    mock.post(BULK, json=ok_entries(("MUG", "1")))
    burn_burst(adapter, mock)
    mock.replace(responses.POST, BULK, json=ok_entries(("CUP", "2")))
    busy, other = adapter.push([StockUpdate(1, "MUG", 25, external_id="1"),
                                StockUpdate(2, "CUP", 5, external_id="2")])
    assert (busy.outcome, other.outcome) == (Outcome.RETRY, Outcome.OK)
    assert [r["sku"] for r in body_of(mock.calls[-1])["requests"]] == ["CUP"]


def test_failed_revisions_do_not_spend_the_budget(
    adapter: EbayAdapter, mock: responses.RequestsMock
) -> None:
    token_reply(mock, "t")
    refused = {"responses": [{"statusCode": 400, "sku": "MUG", "offerId": "1",
                              "errors": [{"errorId": 25001, "message": "System error"}]}]}
    mock.post(BULK, json=refused)
    for _ in range(REVISION_BURST + 1):
        [result] = adapter.push([StockUpdate(1, "MUG", 5, external_id="1")])
        assert result.outcome is Outcome.FAILED


def test_budget_never_allows_more_than_250_in_any_day() -> None:
    clock = ManualClock()
    budget = RevisionBudget(clock)
    sent: list[float] = []
    for _ in range(3 * 8640):  # a change every 10 s for three days
        if budget.wait("MUG") == 0:
            budget.spend("MUG")
            sent.append(clock.now())
        clock.advance(10)
    for index, start in enumerate(sent):
        in_day = sum(1 for t in sent[index:] if t < start + 86_400)
        assert in_day <= REVISIONS_PER_DAY
    assert len(sent) >= 3 * (REVISIONS_PER_DAY - REVISION_BURST)  # and still uses the allowance



def test_a_restart_remembers_the_revisions_of_the_last_day(clock: ManualClock) -> None:
    budget = RevisionBudget(clock)
    now = clock.now()
    budget.replay("MUG", [now - 60] * REVISION_BURST)  # the whole burst, a minute ago
    budget.replay("TEA", [now - 2 * 86_400 - n for n in range(REVISION_BURST)])  # long refilled
    assert budget.wait("MUG") == pytest.approx(REVISION_SPACING_S - 60, abs=1)
    assert budget.wait("TEA") == 0.0 and budget.wait("PEN") == 0.0


def test_the_adapter_holds_a_listing_whose_burst_was_spent_before_a_restart(
    adapter: EbayAdapter, mock: responses.RequestsMock, clock: ManualClock
) -> None:
    from connector.marketplaces.base import PastPush

    now = clock.now()
    adapter.restore_history([PastPush("MUG", 10 + n, now - 30) for n in range(REVISION_BURST)])
    [held] = adapter.push([StockUpdate(1, "MUG", 5, external_id="1")])
    assert held.outcome is Outcome.RETRY and held.deferred
    assert api_calls(mock) == []  # nothing was sent


# -- issue 17 item 12: the budget is spent where it prevents oversells ------------------------
# Spec, bulkUpdatePriceQuantity: "Each listing can be revised up to 250 times in one calendar
# day. If this revision threshold is reached, the seller will be blocked from revising the
# item until the next calendar day." A decrease held behind that block would sell stock the
# seller no longer has, so decreases always go; only increases wait.


def test_a_decrease_goes_at_once_even_with_the_burst_spent(
    adapter: EbayAdapter, mock: responses.RequestsMock, clock: ManualClock
) -> None:
    token_reply(mock, "t")
    mock.post(BULK, json=ok_entries(("MUG", "1")))
    burn_burst(adapter, mock)  # eBay now holds 19
    [lower] = adapter.push([StockUpdate(1, "MUG", 4, external_id="1")])
    assert lower.outcome is Outcome.OK and bulk_quantities(mock)[-1] == 4
    [higher] = adapter.push([StockUpdate(1, "MUG", 6, external_id="1")])
    assert higher.outcome is Outcome.RETRY and higher.deferred
    assert higher.retry_at == pytest.approx(clock.now() + 2 * REVISION_SPACING_S)  # the decrease counted


def test_the_engines_expected_quantity_decides_what_is_a_decrease(
    adapter: EbayAdapter, mock: responses.RequestsMock
) -> None:
    token_reply(mock, "t")
    mock.post(BULK, json=ok_entries(("MUG", "1")))
    burn_burst(adapter, mock)
    # The engine knows eBay holds 40 (a drift read): 30 lowers it, so it goes.
    [lower] = adapter.push([StockUpdate(1, "MUG", 30, external_id="1", expected_quantity=40)])
    assert lower.outcome is Outcome.OK
    [higher] = adapter.push([StockUpdate(1, "MUG", 31, external_id="1", expected_quantity=30)])
    assert higher.outcome is Outcome.RETRY


def test_in_one_batch_the_decrease_goes_and_only_the_increase_is_held(
    adapter: EbayAdapter, mock: responses.RequestsMock
) -> None:
    token_reply(mock, "t")
    mock.post(BULK, json=ok_entries(("MUG", "1")))
    burn_burst(adapter, mock)
    mock.replace(responses.POST, BULK, json=ok_entries(("CUP", "2")))
    for n in range(REVISION_BURST):  # CUP's burst is spent too
        assert adapter.push([StockUpdate(2, "CUP", 10 + n, external_id="2")])[0].outcome is Outcome.OK
    assert adapter.revisions.wait("CUP") > 0
    up, down = adapter.push([StockUpdate(1, "MUG", 50, external_id="1"),
                             StockUpdate(2, "CUP", 1, external_id="2")])
    assert (up.outcome, down.outcome) == (Outcome.RETRY, Outcome.OK)
    assert up.message.startswith("held until ")
    assert [r["sku"] for r in body_of(mock.calls[-1])["requests"]] == ["CUP"]
