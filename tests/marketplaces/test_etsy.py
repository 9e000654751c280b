"""Etsy adapter against `responses`: inventory read-modify-write, deactivate at zero, OAuth refresh."""

from __future__ import annotations

from typing import Any

import responses

from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.marketplaces.etsy import EtsyAdapter
from connector.stock.model import PushAction
from tests.marketplaces.conftest import body_of, form_of
from tests.support.specs import validate_request

BASE = "https://openapi.etsy.com"
TOKEN = "https://api.etsy.com/v3/public/oauth/token"
SETTINGS = {"base_url": BASE, "token_url": TOKEN, "keystring": "etsykeystring1", "shared_secret": "etsysharedsecret2",
            "shop_id": "42", "refresh_token": "42.refresh-token-1"}
INV = f"{BASE}/v3/application/listings/123/inventory"
STATE = f"{BASE}/v3/application/shops/42/listings/123"
LISTING = f"{BASE}/v3/application/listings/123"


def adapter(clock: ManualClock) -> EtsyAdapter:
    return EtsyAdapter("etsy_shop", SETTINGS, clock=clock)


def token_reply(n: int) -> dict[str, Any]:
    return {"access_token": f"42.access-token-{n}", "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": f"42.refresh-token-{n + 1}"}


def inventory(red: int, blue: int) -> dict[str, Any]:
    def product(pid: int, sku: str, value: int, name: str, qty: int) -> dict[str, Any]:
        return {"product_id": pid, "sku": sku, "is_deleted": False,
                "property_values": [{"property_id": 200, "property_name": "Primary color", "scale_id": None,
                                     "scale_name": None, "value_ids": [value], "values": [name]}],
                "offerings": [{"offering_id": pid * 10, "quantity": qty, "is_enabled": True, "is_deleted": False,
                               "readiness_state_id": 987,
                               "price": {"amount": 2200, "divisor": 100, "currency_code": "EUR"}}]}
    return {"products": [product(1, "MUG-RED", 1213, "Red", red), product(2, "MUG-BLUE", 1214, "Blue", blue)],
            "price_on_property": [], "quantity_on_property": [200], "sku_on_property": [200],
            "readiness_state_on_property": []}


def test_success_read_modify_write_with_both_auth_headers(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=inventory(3, 5))
    rsps.put(INV, json=inventory(4, 5))
    a = adapter(clock)
    [result] = a.push([StockUpdate(1, "MUG-RED", 4, external_id="123")])
    # MUG-BLUE is not pushed and goes back as read: read twice, written when both agree
    token_call, get_call, reread_call, put_call = rsps.calls
    assert reread_call.request.url == INV
    assert form_of(token_call) == {"grant_type": "refresh_token", "client_id": "etsykeystring1",
                                   "refresh_token": "42.refresh-token-1"}
    for call in (get_call, put_call):
        assert call.request.headers["x-api-key"] == "etsykeystring1:etsysharedsecret2"
        assert call.request.headers["Authorization"] == "Bearer 42.access-token-1"
    assert put_call.request.method == "PUT" and put_call.request.url == INV
    assert body_of(put_call) == {
        "products": [
            {"sku": "MUG-RED", "property_values": [{"property_id": 200, "value_ids": [1213], "scale_id": None,
                                                    "property_name": "Primary color", "values": ["Red"]}],
             "offerings": [{"price": 22.0, "quantity": 4, "is_enabled": True, "readiness_state_id": 987}]},
            {"sku": "MUG-BLUE", "property_values": [{"property_id": 200, "value_ids": [1214], "scale_id": None,
                                                     "property_name": "Primary color", "values": ["Blue"]}],
             "offerings": [{"price": 22.0, "quantity": 5, "is_enabled": True, "readiness_state_id": 987}]},
        ],
        "price_on_property": [], "quantity_on_property": [200], "sku_on_property": [200],
        "readiness_state_on_property": []}
    validate_request("etsy", "PUT", put_call.request.url, put_call.request.body, dict(put_call.request.headers))
    assert (result.outcome, result.applied_quantity) == (Outcome.OK, 4)
    assert a.refresh_token == "42.refresh-token-2"


def test_quantity_is_capped_at_max_quantity(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=inventory(3, 5))
    rsps.put(INV, json=inventory(999, 5))
    [result] = adapter(clock).push([StockUpdate(1, "MUG-RED", 1500, external_id="123/1")])
    assert EtsyAdapter.max_quantity == 999
    assert body_of(rsps.calls[3])["products"][0]["offerings"][0]["quantity"] == 999
    assert (result.outcome, result.applied_quantity) == (Outcome.OK, 999)


def test_variations_of_one_listing_share_one_write(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=inventory(3, 5))
    rsps.put(INV, json=inventory(1, 2))
    results = adapter(clock).push([StockUpdate(1, "MUG-RED", 1, external_id="123/1"),
                                   StockUpdate(2, "MUG-BLUE", 2, external_id="123/2")])
    assert [p["offerings"][0]["quantity"] for p in body_of(rsps.calls[2])["products"]] == [1, 2]
    assert all(r.outcome is Outcome.OK for r in results)


def test_per_item_error_unknown_variation(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=inventory(3, 5))
    rsps.put(INV, json=inventory(3, 7))
    results = adapter(clock).push([StockUpdate(1, "MUG-GREEN", 1, external_id="123"),
                                   StockUpdate(2, "MUG-BLUE", 7, external_id="123")])
    assert results[0].category is FailureCategory.UNKNOWN_LISTING
    assert results[1].outcome is Outcome.OK


def test_put_validation_error_carries_etsys_message(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=inventory(3, 5))
    rsps.put(INV, status=400, json={"error": "quantity_on_property must include property 200"})
    [result] = adapter(clock).push([StockUpdate(1, "MUG-RED", 2, external_id="123")])
    assert result.category is FailureCategory.VALIDATION
    assert "quantity_on_property must include property 200" in result.message


def test_zero_deactivates_and_reactivation_writes_then_activates(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    """Issue 17 item 4: offline first, then the placeholder 1 in every offering (never the
    old real number, which a hand reactivation would sell); on reactivation the products
    not pushed go back to their real 0, not to the placeholder."""
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=inventory(3, 0))
    rsps.patch(STATE, json={"listing_id": 123, "state": "inactive"})
    rsps.put(INV, json=inventory(1, 1))
    rsps.get(LISTING, json={"listing_id": 123, "state": "inactive"})
    rsps.get(INV, json=inventory(1, 1))
    rsps.put(INV, json=inventory(6, 0))
    rsps.patch(STATE, json={"listing_id": 123, "state": "active"})
    a = adapter(clock)
    [off] = a.push([StockUpdate(1, "MUG-RED", 0, PushAction.DEACTIVATE, external_id="123")])
    [on] = a.push([StockUpdate(1, "MUG-RED", 6, PushAction.REACTIVATE, external_id="123")])
    calls = [(c.request.method, c.request.url) for c in rsps.calls]
    assert calls == [("POST", TOKEN), ("GET", INV), ("PATCH", STATE), ("PUT", INV),
                     ("GET", LISTING), ("GET", INV), ("PUT", INV), ("PATCH", STATE)]
    for index, state in ((2, "inactive"), (7, "active")):
        call = rsps.calls[index]
        assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert form_of(call) == {"state": state}
        validate_request("etsy", "PATCH", call.request.url, form_of(call), dict(call.request.headers))
    placeholder, real = body_of(rsps.calls[3]), body_of(rsps.calls[6])
    assert [p["offerings"][0]["quantity"] for p in placeholder["products"]] == [1, 1]
    assert [p["offerings"][0]["quantity"] for p in real["products"]] == [6, 0]
    for call in (rsps.calls[3], rsps.calls[6]):
        validate_request("etsy", "PUT", call.request.url, call.request.body, dict(call.request.headers))
    assert (off.outcome, off.active, on.outcome, on.active) == (Outcome.OK, False, Outcome.OK, True)
    assert (off.applied_quantity, on.applied_quantity) == (0, 6)


def test_one_variation_at_zero_is_written_as_zero(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=inventory(3, 5))
    rsps.put(INV, json=inventory(0, 5))
    [result] = adapter(clock).push([StockUpdate(1, "MUG-RED", 0, PushAction.DEACTIVATE, external_id="123/1")])
    assert body_of(rsps.calls[3])["products"][0]["offerings"][0]["quantity"] == 0
    assert result.outcome is Outcome.OK and result.active is None


def test_429_retry_after_is_honoured(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, status=429, headers={"Retry-After": "6"}, body="")
    rsps.get(INV, json=inventory(3, 5))
    rsps.put(INV, json=inventory(4, 5))
    [result] = adapter(clock).push([StockUpdate(1, "MUG-RED", 4, external_id="123")])
    assert result.outcome is Outcome.OK and 6.0 in clock.sleeps


def test_5xx_then_success(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=inventory(3, 5))
    rsps.put(INV, status=500, json={"error": "server"})
    rsps.put(INV, json=inventory(4, 5))
    [result] = adapter(clock).push([StockUpdate(1, "MUG-RED", 4, external_id="123")])
    assert result.outcome is Outcome.OK and len(clock.sleeps) == 1


def test_401_refreshes_token_then_succeeds(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, status=401, json={"error": "invalid_token"})
    rsps.post(TOKEN, json=token_reply(2))
    rsps.get(INV, json=inventory(3, 5))
    rsps.put(INV, json=inventory(4, 5))
    [result] = adapter(clock).push([StockUpdate(1, "MUG-RED", 4, external_id="123")])
    assert result.outcome is Outcome.OK
    assert len([c for c in rsps.calls if c.request.url == TOKEN]) == 2
    assert form_of(rsps.calls[2])["refresh_token"] == "42.refresh-token-2"  # rotated token used
    assert rsps.calls[3].request.headers["Authorization"] == "Bearer 42.access-token-2"


def test_refused_refresh_is_auth_without_secrets(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, status=400, json={"error": "invalid_grant",
                                       "error_description": "refresh token 42.refresh-token-1 expired"})
    [result] = adapter(clock).push([StockUpdate(1, "MUG-RED", 4, external_id="123")])
    assert result.category is FailureCategory.AUTH
    assert "42.refresh-token-1" not in result.message


def test_batch_split_one_write_per_listing(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    other = f"{BASE}/v3/application/listings/124/inventory"
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=inventory(3, 5))
    rsps.put(INV, json=inventory(4, 5))
    rsps.get(other, json=inventory(3, 5))
    rsps.put(other, json=inventory(3, 9))
    results = adapter(clock).push([StockUpdate(1, "MUG-RED", 4, external_id="123"),
                                   StockUpdate(2, "MUG-BLUE", 9, external_id="124")])
    assert [c.request.url for c in rsps.calls if c.request.method == "PUT"] == [INV, other]
    assert all(r.outcome is Outcome.OK for r in results)


def test_read_back_reports_inactive_placeholder_as_zero(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=inventory(1, 0))
    rsps.get(f"{BASE}/v3/application/listings/123", json={"listing_id": 123, "state": "inactive", "quantity": 1})
    [red, missing] = adapter(clock).read([("MUG-RED", "123/1"), ("MUG-X", "123/9")])
    assert (red.quantity, red.active, red.raw["offering_quantity"]) == (0, False, 1)
    assert missing.found is False


# -- issue 17 item 4: variants with different numbers, concurrent sales ---------------------------
# Spec (updateListingInventory): "The update fails if the supplied values for product sku,
# offering quantity, and/or price are incompatible with values in `*_on_property_*` fields";
# quantity_on_property: "the properties that change the quantity of the products".


def unvaried(red: int, blue: int) -> dict[str, Any]:
    """The listing as read when its variations all held one number (no quantity_on_property)."""
    return {**inventory(red, blue), "quantity_on_property": []}


def test_different_numbers_name_the_property_that_varies_them(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=unvaried(5, 5))
    rsps.put(INV, json=inventory(2, 7))
    results = adapter(clock).push([StockUpdate(1, "MUG-RED", 2, external_id="123/1"),
                                   StockUpdate(2, "MUG-BLUE", 7, external_id="123/2")])
    assert all(r.outcome is Outcome.OK for r in results)
    put = rsps.calls[-1]
    assert body_of(put)["quantity_on_property"] == [200]  # from the products' property_values
    validate_request("etsy", "PUT", put.request.url, put.request.body, dict(put.request.headers))


def test_equal_numbers_leave_quantity_on_property_as_read(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=unvaried(5, 5))
    rsps.put(INV, json=unvaried(4, 4))
    adapter(clock).push([StockUpdate(1, "MUG-RED", 4, external_id="123/1"),
                         StockUpdate(2, "MUG-BLUE", 4, external_id="123/2")])
    assert body_of(rsps.calls[-1])["quantity_on_property"] == []


def test_a_sale_between_read_and_write_is_not_undone(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    rsps.get(INV, json=inventory(3, 5))
    rsps.get(INV, json=inventory(3, 4))  # a blue mug sold after our first read
    rsps.get(INV, json=inventory(3, 4))
    rsps.put(INV, json=inventory(6, 4))
    [result] = adapter(clock).push([StockUpdate(1, "MUG-RED", 6, external_id="123/1")])
    assert result.outcome is Outcome.OK and "after 2 reads" in result.message
    assert [p["offerings"][0]["quantity"] for p in body_of(rsps.calls[-1])["products"]] == [6, 4]


def test_a_listing_that_keeps_changing_is_retried_not_written(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(TOKEN, json=token_reply(1))
    for blue in (9, 8, 7, 6):
        rsps.get(INV, json=inventory(3, blue))
    [result] = adapter(clock).push([StockUpdate(1, "MUG-RED", 6, external_id="123/1")])
    assert result.outcome is Outcome.RETRY and "no sale is undone" in result.message
    assert [c.request.method for c in rsps.calls].count("PUT") == 0
