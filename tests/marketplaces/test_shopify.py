"""Shopify adapter against `responses`: inventorySetQuantities with compare-and-set, and
inventoryActivate for items not stocked at the channel's location."""

from __future__ import annotations

import re
from typing import Any

import pytest
import responses

from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.marketplaces.shopify import ACTIVATE_PER_REQUEST, ShopifyAdapter
from tests.marketplaces.conftest import body_of
from tests.support.specs import validate_request, validate_shopify_graphql

BASE = "https://acme.myshopify.com"
URL = f"{BASE}/admin/api/2025-10/graphql.json"
# The ManualClock starts on 2025-06-15, when 2025-10 is a coming version (no warning); the
# version lifecycle has its own tests in test_shopify_versions.py.
SETTINGS = {"base_url": BASE, "access_token": "shpat_secret_token_123", "location_id": "2",
            "api_version": "2025-10"}
ITEM = "gid://shopify/InventoryItem/"
LOC = "gid://shopify/Location/2"


def adapter(clock: ManualClock, **overrides: str) -> ShopifyAdapter:
    return ShopifyAdapter("shop_eu", {**SETTINGS, **overrides}, clock=clock)


def set_ok() -> dict[str, Any]:
    return {"data": {"inventorySetQuantities": {
        "inventoryAdjustmentGroup": {"id": "gid://shopify/InventoryAdjustmentGroup/9"}, "userErrors": []}},
        "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": 10,
                                "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 1990,
                                                   "restoreRate": 100}}}}


def set_errors(*errors: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": list(errors)}}}


def read_reply(*levels: tuple[int, int | None]) -> dict[str, Any]:
    nodes = []
    for item, available in levels:
        level = None if available is None else {"quantities": [
            {"name": "available", "quantity": available}, {"name": "on_hand", "quantity": available + 1},
            {"name": "committed", "quantity": 1}]}
        nodes.append({"id": f"{ITEM}{item}", "sku": f"S{item}", "tracked": True, "inventoryLevel": level})
    return {"data": {"nodes": nodes}}


def quantities(call: responses.Call) -> list[dict[str, Any]]:
    return body_of(call)["variables"]["input"]["quantities"]


def test_success_exact_mutation_with_compare_quantity(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, json=set_ok())
    results = adapter(clock).push([
        StockUpdate(1, "MUG", 7, external_id=f"{ITEM}1", expected_quantity=5),
        StockUpdate(2, "CUP", 0, external_id="3", expected_quantity=2),
    ])
    call = rsps.calls[0]
    assert call.request.method == "POST" and call.request.url == URL
    assert call.request.headers["X-Shopify-Access-Token"] == "shpat_secret_token_123"
    assert call.request.headers["Content-Type"] == "application/json"
    body = body_of(call)
    assert body["variables"] == {"input": {
        "name": "available", "reason": "correction",
        "referenceDocumentUri": "gid://stock-bridge/Channel/shop_eu",
        "quantities": [
            {"inventoryItemId": f"{ITEM}1", "locationId": LOC, "quantity": 7, "compareQuantity": 5},
            {"inventoryItemId": f"{ITEM}3", "locationId": LOC, "quantity": 0, "compareQuantity": 2},
        ]}}
    assert "inventorySetQuantities(input: $input)" in body["query"]
    assert "@idempotent" not in body["query"]
    validate_shopify_graphql(body["query"], body["variables"])
    validate_request("shopify", "POST", call.request.url, call.request.body, dict(call.request.headers))
    assert [(r.outcome, r.applied_quantity) for r in results] == [(Outcome.OK, 7), (Outcome.OK, 0)]


def test_2026_versions_use_change_from_and_idempotency(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(f"{BASE}/admin/api/2026-01/graphql.json", json=set_ok())
    rsps.post(f"{BASE}/admin/api/2026-04/graphql.json", json=set_ok())
    update = StockUpdate(1, "MUG", 7, external_id=f"{ITEM}1", expected_quantity=5)
    adapter(clock, api_version="2026-01").push([update])
    adapter(clock, api_version="2026-04").push([update])
    q0, q1 = quantities(rsps.calls[0])[0], quantities(rsps.calls[1])[0]
    assert q0["changeFromQuantity"] == 5 and "compareQuantity" not in q0
    assert q1["changeFromQuantity"] == 5
    # Shopify changelog: @idempotent accepted from 2026-01, mandatory from 2026-04; sent from 2026-01
    assert '@idempotent(key: "' in body_of(rsps.calls[0])["query"]
    assert '@idempotent(key: "' in body_of(rsps.calls[1])["query"]


def test_unknown_expected_quantity_reads_first(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, json=read_reply((1, 4)))
    rsps.post(URL, json=set_ok())
    [result] = adapter(clock).push([StockUpdate(1, "MUG", 7, external_id=f"{ITEM}1")])
    read = body_of(rsps.calls[0])
    assert read["variables"] == {"ids": [f"{ITEM}1"], "locationId": LOC}
    validate_shopify_graphql(read["query"], read["variables"])
    assert quantities(rsps.calls[1])[0]["compareQuantity"] == 4
    assert result.outcome is Outcome.OK


def test_stale_compare_reports_shopifys_value_and_never_resends_ours(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    """A stale compare means a sale (or an admin) changed Shopify after our ERP read: our
    computed 3 may predate that sale, so it must not be sent again with a fresh compare."""
    rsps.post(URL, json=set_errors({"code": "COMPARE_QUANTITY_STALE",
                                    "field": ["input", "quantities", "1", "compareQuantity"],
                                    "message": "The compareQuantity argument no longer matches"}))
    rsps.post(URL, json=read_reply((2, 9)))
    rsps.post(URL, json=set_ok())
    a, b = adapter(clock).push([
        StockUpdate(1, "A", 7, external_id=f"{ITEM}1", expected_quantity=5),
        StockUpdate(2, "B", 3, external_id=f"{ITEM}2", expected_quantity=4),
    ])
    read = body_of(rsps.calls[1])
    assert read["variables"] == {"ids": [f"{ITEM}2"], "locationId": LOC}
    # round 2: only the row held back by the all-or-nothing set, with its own compare
    assert quantities(rsps.calls[2]) == [
        {"inventoryItemId": f"{ITEM}1", "locationId": LOC, "quantity": 7, "compareQuantity": 5},
    ]
    sets = [c for c in rsps.calls if "inventorySetQuantities" in body_of(c)["query"]]
    assert sum(q["inventoryItemId"] == f"{ITEM}2" for c in sets for q in quantities(c)) == 1
    assert (a.outcome, a.applied_quantity) == (Outcome.OK, 7)
    assert (b.outcome, b.applied_quantity) == (Outcome.RETRY, 9)
    assert b.retry_at == clock.now() + 2.0
    assert "changed under us" in b.message and "holds 9" in b.message


def test_stale_change_from_sold_out_is_one_set_and_one_read(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    url = f"{BASE}/admin/api/2026-01/graphql.json"
    rsps.post(url, json=set_errors({"code": "CHANGE_FROM_QUANTITY_STALE",
                                    "field": ["input", "quantities", "0", "changeFromQuantity"],
                                    "message": "The changeFromQuantity argument no longer matches"}))
    rsps.post(url, json=read_reply((1, 0)))  # a sale took the last ones meanwhile
    [result] = adapter(clock, api_version="2026-01").push(
        [StockUpdate(1, "A", 7, external_id=f"{ITEM}1", expected_quantity=5)])
    assert len(rsps.calls) == 2  # no second set with the old 7
    assert (result.outcome, result.applied_quantity) == (Outcome.RETRY, 0)
    assert result.retry_at == clock.now() + 2.0


def test_held_back_forever_is_bounded_and_retryable(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    busy = set_errors({"code": "IDEMPOTENCY_CONCURRENT_REQUEST", "field": ["input", "quantities", "0"],
                       "message": "concurrent request"})
    for _ in range(3):
        rsps.post(URL, json=busy)
    [result] = adapter(clock).push([StockUpdate(1, "A", 7, external_id=f"{ITEM}1", expected_quantity=5)])
    assert result.outcome is Outcome.RETRY and result.retry_at is not None
    assert result.applied_quantity is None
    assert len(rsps.calls) == 3


def test_per_item_error_in_batch_with_activation_off(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, json=set_errors({"code": "ITEM_NOT_STOCKED_AT_LOCATION",
                                    "field": ["input", "quantities", "0", "locationId"],
                                    "message": "The specified inventory item is not stocked at the location."}))
    rsps.post(URL, json=set_ok())
    results = adapter(clock, activate_at_location="false").push([
        StockUpdate(1, "A", 7, external_id=f"{ITEM}1", expected_quantity=5),
        StockUpdate(2, "B", 3, external_id=f"{ITEM}2", expected_quantity=4),
    ])
    assert results[0].outcome is Outcome.FAILED
    assert results[0].category is FailureCategory.UNKNOWN_LISTING
    assert "not stocked at the location" in results[0].message
    assert "activate_at_location" in results[0].message
    assert results[1].outcome is Outcome.OK
    assert [q["inventoryItemId"] for q in quantities(rsps.calls[1])] == [f"{ITEM}2"]
    assert len(rsps.calls) == 2  # no inventoryActivate


def activate_reply(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"data": {f"a{n}": f for n, f in enumerate(fields)}}


def activated(available: int) -> dict[str, Any]:
    return {"inventoryLevel": {"id": "gid://shopify/InventoryLevel/1?inventory_item_id=1&location_id=2",
                               "quantities": [{"name": "available", "quantity": available}]},
            "userErrors": []}


def test_not_stocked_on_read_is_activated_with_the_wanted_quantity(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    rsps.post(URL, json=read_reply((1, None), (2, 4), (3, None)))
    rsps.post(URL, json=activate_reply(activated(7), activated(0)))
    rsps.post(URL, json=set_ok())
    a, b, c = adapter(clock).push([
        StockUpdate(1, "A", 7, external_id=f"{ITEM}1"),
        StockUpdate(2, "B", 3, external_id=f"{ITEM}2"),
        StockUpdate(3, "C", 0, external_id=f"{ITEM}3"),  # a zero push activates with 0
    ])
    body = body_of(rsps.calls[1])
    assert body["variables"] == {"locationId": LOC, "item0": f"{ITEM}1", "available0": 7,
                                 "item1": f"{ITEM}3", "available1": 0}
    assert "a0: inventoryActivate(inventoryItemId: $item0, locationId: $locationId, available: $available0)" in body["query"]
    assert "a1: inventoryActivate(" in body["query"] and "@idempotent" not in body["query"]
    validate_shopify_graphql(body["query"], body["variables"])
    validate_request("shopify", "POST", rsps.calls[1].request.url, rsps.calls[1].request.body,
                     dict(rsps.calls[1].request.headers))
    # the stocked item keeps compare-and-set with the value read
    assert quantities(rsps.calls[2]) == [
        {"inventoryItemId": f"{ITEM}2", "locationId": LOC, "quantity": 3, "compareQuantity": 4}]
    assert [(r.outcome, r.applied_quantity) for r in (a, b, c)] == [(Outcome.OK, 7), (Outcome.OK, 3), (Outcome.OK, 0)]


def test_not_stocked_answer_to_a_set_is_activated(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, json=set_errors({"code": "ITEM_NOT_STOCKED_AT_LOCATION",
                                    "field": ["input", "quantities", "1", "locationId"],
                                    "message": "The specified inventory item is not stocked at the location."}))
    rsps.post(URL, json=activate_reply(activated(3)))
    rsps.post(URL, json=set_ok())
    a, b = adapter(clock).push([
        StockUpdate(1, "A", 7, external_id=f"{ITEM}1", expected_quantity=5),
        StockUpdate(2, "B", 3, external_id=f"{ITEM}2", expected_quantity=4),
    ])
    assert body_of(rsps.calls[1])["variables"] == {"locationId": LOC, "item0": f"{ITEM}2", "available0": 3}
    assert [q["inventoryItemId"] for q in quantities(rsps.calls[2])] == [f"{ITEM}1"]
    assert [(r.outcome, r.applied_quantity) for r in (a, b)] == [(Outcome.OK, 7), (Outcome.OK, 3)]


def test_activation_user_errors_fail_with_shopifys_field_and_message(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    rsps.post(URL, json=read_reply((1, None), (2, None)))
    rsps.post(URL, json=activate_reply(
        {"inventoryLevel": None, "userErrors": [{"field": ["inventoryItemId"],
                                                 "message": "Inventory item does not exist"}]},
        {"inventoryLevel": None, "userErrors": [{"field": ["locationId"],
                                                 "message": "Location is not active"}]}))
    a, b = adapter(clock).push([StockUpdate(1, "A", 7, external_id=f"{ITEM}1"),
                                StockUpdate(2, "B", 2, external_id=f"{ITEM}2")])
    assert (a.outcome, a.category) == (Outcome.FAILED, FailureCategory.UNKNOWN_LISTING)
    assert a.message == f"inventoryActivate refused {ITEM}1 at {LOC}: inventoryItemId: Inventory item does not exist"
    assert (b.outcome, b.category) == (Outcome.FAILED, FailureCategory.VALIDATION)
    assert "locationId: Location is not active" in b.message
    assert len(rsps.calls) == 2  # no set for rows that failed


def test_activation_finding_another_value_comes_back_like_a_stale_compare(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    """Stocked meanwhile: Shopify keeps its level; our value is not forced over it."""
    rsps.post(URL, json=read_reply((1, None)))
    rsps.post(URL, json=activate_reply(activated(9)))
    [result] = adapter(clock).push([StockUpdate(1, "A", 7, external_id=f"{ITEM}1")])
    assert (result.outcome, result.applied_quantity) == (Outcome.RETRY, 9)
    assert result.retry_at == clock.now() + 2.0
    assert len(rsps.calls) == 2


def test_activation_off_fails_not_stocked_read_with_a_hint(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, json=read_reply((1, None)))
    [result] = adapter(clock, activate_at_location="False").push([StockUpdate(1, "A", 7, external_id=f"{ITEM}1")])
    assert (result.outcome, result.category) == (Outcome.FAILED, FailureCategory.UNKNOWN_LISTING)
    assert f"{ITEM}1 is not stocked at {LOC}" in result.message
    assert 'activate_at_location = "true"' in result.message
    assert len(rsps.calls) == 1


def test_activate_at_location_must_be_true_or_false(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="activate_at_location"):
        adapter(clock, activate_at_location="yes")
    assert adapter(clock).activate_at_location is True


def test_activation_is_chunked_and_idempotent_from_2026_04(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    url = f"{BASE}/admin/api/2026-04/graphql.json"
    count = ACTIVATE_PER_REQUEST + 1
    rsps.post(url, json=read_reply(*[(i, None) for i in range(count)]))
    rsps.post(url, json=activate_reply(*[activated(1)] * ACTIVATE_PER_REQUEST))
    rsps.post(url, json=activate_reply(activated(1)))
    results = adapter(clock, api_version="2026-04").push(
        [StockUpdate(i, f"S{i}", 1, external_id=f"{ITEM}{i}") for i in range(count)])
    first, second = body_of(rsps.calls[1]), body_of(rsps.calls[2])
    assert first["query"].count("inventoryActivate(") == ACTIVATE_PER_REQUEST
    assert len(set(re.findall(r'@idempotent\(key: "([^"]+)"\)', first["query"]))) == ACTIVATE_PER_REQUEST
    assert second["variables"] == {"locationId": LOC, "item0": f"{ITEM}{count - 1}", "available0": 1}
    assert all(r.outcome is Outcome.OK for r in results)


def test_throttled_activation_waits_and_goes_on(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, json=read_reply((1, None)))
    rsps.post(URL, json={"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                         "extensions": {"cost": {"requestedQueryCost": 110, "actualQueryCost": None,
                                                 "throttleStatus": {"maximumAvailable": 2000,
                                                                    "currentlyAvailable": 10, "restoreRate": 100}}}})
    rsps.post(URL, json=activate_reply(activated(7)))
    [result] = adapter(clock).push([StockUpdate(1, "A", 7, external_id=f"{ITEM}1")])
    assert result.outcome is Outcome.OK
    assert clock.sleeps[0] == pytest.approx(1.0)
    assert "inventoryActivate" in body_of(rsps.calls[2])["query"]


def test_throttled_in_200_body_waits_the_documented_time(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, json={"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                         "extensions": {"cost": {"requestedQueryCost": 310, "actualQueryCost": None,
                                                 "throttleStatus": {"maximumAvailable": 2000,
                                                                    "currentlyAvailable": 10, "restoreRate": 100}}}})
    rsps.post(URL, json=set_ok())
    [result] = adapter(clock).push([StockUpdate(1, "A", 7, external_id=f"{ITEM}1", expected_quantity=5)])
    assert result.outcome is Outcome.OK
    assert clock.sleeps[0] == pytest.approx(3.0)


def test_429_retry_after_is_honoured(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, status=429, headers={"Retry-After": "2"}, body="")
    rsps.post(URL, json=set_ok())
    [result] = adapter(clock).push([StockUpdate(1, "A", 7, external_id=f"{ITEM}1", expected_quantity=5)])
    assert result.outcome is Outcome.OK
    assert clock.sleeps[0] == 2.0


def test_5xx_then_success(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, status=502, body="bad gateway")
    rsps.post(URL, json=set_ok())
    [result] = adapter(clock).push([StockUpdate(1, "A", 7, external_id=f"{ITEM}1", expected_quantity=5)])
    assert result.outcome is Outcome.OK and len(clock.sleeps) == 1


def test_401_retried_once_then_auth_failure_without_token(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, status=401, json={"errors": "[API] Invalid API key or access token shpat_secret_token_123"})
    rsps.post(URL, json=set_ok())
    [ok] = adapter(clock).push([StockUpdate(1, "A", 7, external_id=f"{ITEM}1", expected_quantity=5)])
    assert ok.outcome is Outcome.OK
    rsps.post(URL, status=401, json={"errors": "[API] Invalid API key or access token shpat_secret_token_123"})
    rsps.post(URL, status=401, json={"errors": "[API] Invalid API key or access token shpat_secret_token_123"})
    [failed] = adapter(clock).push([StockUpdate(1, "A", 7, external_id=f"{ITEM}1", expected_quantity=5)])
    assert failed.category is FailureCategory.AUTH
    assert "shpat_secret_token_123" not in failed.message


def test_zero_is_available_zero_and_back_in_stock(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, json=set_ok())
    rsps.post(URL, json=set_ok())
    a = adapter(clock)
    [zero] = a.push([StockUpdate(1, "A", 0, external_id=f"{ITEM}1", expected_quantity=3)])
    [back] = a.push([StockUpdate(1, "A", 6, external_id=f"{ITEM}1", expected_quantity=0)])
    assert quantities(rsps.calls[0])[0]["quantity"] == 0
    assert quantities(rsps.calls[1])[0] == {"inventoryItemId": f"{ITEM}1", "locationId": LOC,
                                            "quantity": 6, "compareQuantity": 0}
    assert (zero.applied_quantity, back.applied_quantity) == (0, 6)


def test_batch_split_at_limit(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    limit = ShopifyAdapter.batch_limit
    rsps.post(URL, json=set_ok())
    rsps.post(URL, json=set_ok())
    updates = [StockUpdate(i, f"S{i}", 1, external_id=f"{ITEM}{i + 1}", expected_quantity=0) for i in range(limit + 1)]
    results = adapter(clock).push(updates)
    assert [len(quantities(c)) for c in rsps.calls] == [limit, 1]
    assert all(r.outcome is Outcome.OK for r in results)


def test_missing_gid_and_unknown_item(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, json={"data": {"nodes": [None]}})
    results = adapter(clock).push([StockUpdate(1, "A", 1), StockUpdate(2, "B", 1, external_id=f"{ITEM}77")])
    assert [r.category for r in results] == [FailureCategory.UNKNOWN_LISTING, FailureCategory.UNKNOWN_LISTING]


def test_read_back(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(URL, json=read_reply((1, 4), (2, None)))
    [one, two] = adapter(clock).read([("S1", f"{ITEM}1"), ("S2", f"{ITEM}2")])
    assert (one.quantity, one.found, one.raw["on_hand"]) == (4, True, 5)
    assert two.found is False


def test_stale_row_found_deactivated_is_not_activated_before_a_fresh_erp_read(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    rsps.post(URL, json=set_errors({"code": "COMPARE_QUANTITY_STALE",
                                    "field": ["input", "quantities", "0", "compareQuantity"],
                                    "message": "The compareQuantity argument no longer matches"}))
    rsps.post(URL, json=read_reply((1, None)))
    [result] = adapter(clock).push([StockUpdate(1, "A", 7, external_id=f"{ITEM}1", expected_quantity=5)])
    assert (result.outcome, result.applied_quantity) == (Outcome.RETRY, None)
    assert result.retry_at == clock.now() + 2.0 and "no longer stocked" in result.message
    assert len(rsps.calls) == 2
