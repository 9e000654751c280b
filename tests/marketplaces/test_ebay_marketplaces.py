"""eBay per marketplace and zero stock (issue 17 items 2, 3, 11), against mocked replies
validated with eBay's published Inventory API OpenAPI (tests.support.specs).

- Item 3: spec OfferPriceQuantity.availableQuantity is "the quantity of the item that is
  available in the marketplace specified within the offer, not the total quantity";
  ShipToLocationAvailability.quantity is "the total quantity of the item that is available
  for sale across all marketplaces"; a listing shows "the minimum value between" the two.
- Item 2: Trading user guide "Quantity" ("A fixed-price listing ends when the last item
  has been sold", unless Out-of-Stock control is enabled); Account API ProgramTypeEnum
  OUT_OF_STOCK_CONTROL and getOptedInPrograms ("An empty array is returned if the seller is
  not opted in to any of the seller programs").
- Item 11: Inventory API guide "Bulk updates": "Up to 25 inventory item records ... may be
  updated with one bulkUpdatePriceQuantity call".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest
import responses

from connector.marketplaces.base import Outcome, StockUpdate
from connector.marketplaces.ebay import OOS_CHECK_TTL_S, EbayAdapter
from tests.support.clock import ManualClock
from tests.marketplaces.conftest import body_of, form_of, token_replies
from tests.support.specs import validate_request, validate_response

HOST = "https://api.ebay.com"
TOKEN_URL = f"{HOST}/identity/v1/oauth2/token"
BULK = f"{HOST}/sell/inventory/v1/bulk_update_price_quantity"
OFFERS = f"{HOST}/sell/inventory/v1/offer"
PROGRAMS = f"{HOST}/sell/account/v1/program/get_opted_in_programs"
SETTINGS = {"base_url": HOST, "client_id": "ebay-app-id", "client_secret": "ebay-cert-secret",
            "refresh_token": "v^1.1#refresh-token-xyz", "marketplace_id": "EBAY_DE"}


def offer(offer_id: str, marketplace: str, quantity: int | None, status: str = "PUBLISHED") -> dict[str, Any]:
    return {"offerId": offer_id, "sku": "MUG", "marketplaceId": marketplace, "format": "FIXED_PRICE",
            "availableQuantity": quantity, "status": status}


def offers_reply(mock: responses.RequestsMock, *offers: dict[str, Any]) -> None:
    body = {"offers": list(offers), "total": len(offers), "size": len(offers)}
    validate_response("ebay", "GET", f"{OFFERS}?sku=MUG", 200, json.dumps(body))
    mock.get(f"{OFFERS}?sku=MUG", json=body)


def ok_reply(*offer_ids: str) -> dict[str, Any]:
    return {"responses": [{"statusCode": 200, "sku": "MUG", "offerId": o, "errors": [], "warnings": []}
                          for o in offer_ids]}


def programs(on: bool) -> dict[str, Any]:
    names = ["SELLING_POLICY_MANAGEMENT", *(["OUT_OF_STOCK_CONTROL"] if on else [])]
    return {"programs": [{"programType": name} for name in names]}


def make(clock: ManualClock, **more: str) -> EbayAdapter:
    return EbayAdapter("ebay_de", {**SETTINGS, **more}, clock=clock)


@pytest.fixture
def warned() -> list[tuple[str, str | None]]:
    return []


@pytest.fixture
def adapter(clock: ManualClock, warned: list[tuple[str, str | None]]) -> Iterator[EbayAdapter]:
    with closing(make(clock)) as a:
        a.on_warning = lambda topic, message: warned.append((topic, message))
        yield a


def writes(mock: responses.RequestsMock) -> list[responses.Call]:
    return [c for c in mock.calls if c.request.method == "POST" and c.request.url != TOKEN_URL]


# -- item 3: one offer per marketplace ----------------------------------------------------------


def test_a_channel_writes_its_offer_and_keeps_the_other_marketplaces_total(
    adapter: EbayAdapter, mock: responses.RequestsMock
) -> None:
    token_replies(mock, TOKEN_URL, ["t"])
    mock.get(PROGRAMS, json=programs(True))
    offers_reply(mock, offer("DE-1", "EBAY_DE", 9), offer("GB-1", "EBAY_GB", 8))
    mock.post(BULK, json=ok_reply("DE-1"))
    [result] = adapter.push([StockUpdate(1, "MUG", 3, external_id="DE-1")])
    assert result.outcome is Outcome.OK and result.applied_quantity == 3
    [call] = writes(mock)
    expected = {"requests": [{"sku": "MUG", "shipToLocationAvailability": {"quantity": 8},
                              "offers": [{"offerId": "DE-1", "availableQuantity": 3}]}]}
    assert body_of(call) == expected  # the GB listing keeps showing min(8, 8) = 8
    validate_request("ebay", "POST", BULK, expected, dict(call.request.headers))


def test_the_total_follows_the_largest_offer_and_ignores_unpublished_ones(
    adapter: EbayAdapter, mock: responses.RequestsMock
) -> None:
    token_replies(mock, TOKEN_URL, ["t"])
    offers_reply(mock, offer("DE-1", "EBAY_DE", 2), offer("GB-1", "EBAY_GB", 4),
                 offer("FR-1", "EBAY_FR", 50, status="UNPUBLISHED"))
    mock.post(BULK, json=ok_reply("DE-1"))
    adapter.push([StockUpdate(1, "MUG", 12, external_id="DE-1")])
    [call] = writes(mock)
    assert body_of(call)["requests"][0]["shipToLocationAvailability"] == {"quantity": 12}


def test_an_offer_that_is_not_the_skus_is_an_unknown_listing(adapter: EbayAdapter, mock: responses.RequestsMock) -> None:
    token_replies(mock, TOKEN_URL, ["t"])
    offers_reply(mock, offer("GB-1", "EBAY_GB", 4))
    [result] = adapter.push([StockUpdate(1, "MUG", 3, external_id="DE-1")])
    assert result.outcome is Outcome.FAILED and "DE-1" in result.message
    assert writes(mock) == []


# -- item 2: Out-of-Stock Control -----------------------------------------------------------------


def test_preference_is_read_with_the_account_api_and_on_writes_zero(
    adapter: EbayAdapter, mock: responses.RequestsMock, warned: list[tuple[str, str | None]]
) -> None:
    token_replies(mock, TOKEN_URL, ["v^1.1#inventory", "v^1.1#account"])
    mock.get(PROGRAMS, json=programs(True))
    offers_reply(mock, offer("DE-1", "EBAY_DE", 4))
    mock.post(BULK, json=ok_reply("DE-1"))
    [zero] = adapter.push([StockUpdate(1, "MUG", 0, external_id="DE-1")])
    assert zero.outcome is Outcome.OK and zero.applied_quantity == 0
    [read] = [c for c in mock.calls if c.request.url == PROGRAMS]
    assert read.request.headers["Authorization"] == "Bearer v^1.1#account"
    scopes = [form_of(c)["scope"] for c in mock.calls if c.request.url == TOKEN_URL]
    assert scopes == ["https://api.ebay.com/oauth/api_scope/sell.inventory",
                      "https://api.ebay.com/oauth/api_scope/sell.account.readonly"]
    assert body_of(writes(mock)[0])["requests"][0]["offers"][0]["availableQuantity"] == 0
    assert warned == [] and adapter.warnings() == {}


def test_off_ends_the_listing_at_zero_and_relists_when_stock_returns(
    adapter: EbayAdapter, mock: responses.RequestsMock, warned: list[tuple[str, str | None]]
) -> None:
    token_replies(mock, TOKEN_URL, ["t"])
    mock.get(PROGRAMS, json=programs(False))
    offers_reply(mock, offer("DE-1", "EBAY_DE", 4), offer("GB-1", "EBAY_GB", 6))
    withdraw, publish = f"{OFFERS}/DE-1/withdraw", f"{OFFERS}/DE-1/publish"
    mock.post(withdraw, json={"listingId": "110000000001", "warnings": []})
    [zero] = adapter.push([StockUpdate(1, "MUG", 0, external_id="DE-1")])
    assert (zero.outcome, zero.applied_quantity, zero.active) == (Outcome.OK, 0, False)
    assert "Out-of-Stock Control is off" in zero.message
    assert [c.request.url for c in writes(mock)] == [withdraw], "0 is never written with the control off"
    assert warned and warned[0][0] == "out_of_stock_control" and "relists" in str(warned[0][1])
    assert "out_of_stock_control" in adapter.warnings()

    mock.replace(responses.GET, f"{OFFERS}?sku=MUG", json={"offers": [
        offer("DE-1", "EBAY_DE", 4, status="UNPUBLISHED"), offer("GB-1", "EBAY_GB", 6)], "total": 2, "size": 2})
    mock.post(BULK, json={"responses": [{"statusCode": 200, "sku": "MUG", "errors": [], "warnings": []}]})
    mock.post(publish, json={"listingId": "110000000002", "warnings": []})
    mock.post(BULK, json=ok_reply("DE-1"))
    [back] = adapter.push([StockUpdate(1, "MUG", 3, external_id="DE-1")])
    assert (back.outcome, back.applied_quantity, back.active) == (Outcome.OK, 3, True)
    urls = [c.request.url for c in writes(mock)][1:]
    assert urls == [BULK, publish, BULK]
    # the item total stays the GB offer's 6 all along
    assert [body_of(c)["requests"][0]["shipToLocationAvailability"]["quantity"]
            for c in writes(mock) if c.request.url == BULK] == [6, 6]
    for call in writes(mock):
        validate_request("ebay", "POST", call.request.url, body_of(call), dict(call.request.headers))
    assert len([c for c in mock.calls if c.request.url == PROGRAMS]) == 1, "the preference is cached"


def test_an_unreadable_preference_counts_as_off_with_a_warning_and_is_asked_again(
    adapter: EbayAdapter, mock: responses.RequestsMock, clock: ManualClock
) -> None:
    token_replies(mock, TOKEN_URL, ["t"])
    mock.get(PROGRAMS, status=403, json={"errors": [{"errorId": 1100, "message": "Access denied",
                                                     "longMessage": "Insufficient permissions to fulfill the request."}]})
    offers_reply(mock, offer("DE-1", "EBAY_DE", 4))
    mock.post(f"{OFFERS}/DE-1/withdraw", json={"listingId": "110000000001", "warnings": []})
    [zero] = adapter.push([StockUpdate(1, "MUG", 0, external_id="DE-1")])
    assert zero.active is False
    assert "could not be read" in adapter.warnings()["out_of_stock_control"]
    mock.replace(responses.GET, PROGRAMS, json=programs(True))
    clock.advance(OOS_CHECK_TTL_S)
    assert adapter.out_of_stock_control() is True
    assert adapter.warnings() == {}


def test_a_fixed_setting_skips_the_trading_call(clock: ManualClock, mock: responses.RequestsMock) -> None:
    with closing(make(clock, out_of_stock_control="off")) as adapter:
        assert "out_of_stock_control" in adapter.warnings()  # known at start: status shows it at once
        assert adapter.out_of_stock_control() is False
    assert [c for c in mock.calls if c.request.url == PROGRAMS] == []
    with pytest.raises(ValueError, match="out_of_stock_control"):
        make(clock, out_of_stock_control="maybe")


# -- item 11: SKUs per bulk call -----------------------------------------------------------------


def test_bulk_skus_setting_gives_the_strict_one_sku_per_call_reading(
    clock: ManualClock, mock: responses.RequestsMock
) -> None:
    token_replies(mock, TOKEN_URL, ["t"])
    with closing(make(clock, bulk_skus="1", out_of_stock_control="on")) as adapter:
        assert EbayAdapter.batch_limit == 25 and adapter.batch_limit == 1
        mock.post(BULK, json={"responses": [{"statusCode": 200, "sku": "A", "errors": [], "warnings": []}]})
        mock.post(BULK, json={"responses": [{"statusCode": 200, "sku": "B", "errors": [], "warnings": []}]})
        results = adapter.push([StockUpdate(1, "A", 1), StockUpdate(2, "B", 1)])
    assert [r.outcome for r in results] == [Outcome.OK, Outcome.OK]
    assert [len(body_of(c)["requests"]) for c in writes(mock)] == [1, 1]


def test_the_new_settings_are_known_channel_keys() -> None:
    from connector.sync.channel_keys import known_keys

    assert {"out_of_stock_control", "bulk_skus"} <= known_keys("ebay")
    assert {"confirm_after_s", "confirm_budget_s"} <= known_keys("amazon")
