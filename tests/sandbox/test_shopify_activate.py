"""Shopify sandbox: `inventoryActivate` stocks an item at a location, after which it takes
ordinary `inventorySetQuantities` pushes (through the real adapter, over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.marketplaces.shopify import ShopifyAdapter
from connector.sandbox.client import SandboxAdmin
from connector.sandbox.server import RunningSandbox
from tests.support.specs import validate_shopify_graphql

T = 5.0
TOKEN = "shpat_sandbox_token_1234"
ITEM = "gid://shopify/InventoryItem/5"
ELSEWHERE = "gid://shopify/Location/9"
HERE = "gid://shopify/Location/2"  # the seeded account's location
ACTIVATE = ("mutation act($item: ID!, $location: ID!, $available: Int) { inventoryActivate(inventoryItemId: $item, "
            "locationId: $location, available: $available) { inventoryLevel { id quantities(names: [\"available\"]) "
            "{ name quantity } } userErrors { field message } } }")


@pytest.fixture()
def shop(sandbox: RunningSandbox, admin: SandboxAdmin) -> Iterator[ShopifyAdapter]:
    admin.add_listings("shopify", [{"sku": "TEE-S", "external_id": ITEM, "quantity": 3, "location_id": ELSEWHERE}])
    adapter = ShopifyAdapter("shop_eu", {"base_url": sandbox.url + "/shopify", "access_token": TOKEN,
                                         "location_id": HERE, "api_version": "2025-01"}, clock=ManualClock())
    yield adapter
    adapter.close()


def _activate(sandbox: RunningSandbox, item: str, location: str, available: int) -> dict[str, Any]:
    variables = {"item": item, "location": location, "available": available}
    validate_shopify_graphql(ACTIVATE, variables)
    reply = requests.post(sandbox.url + "/shopify/admin/api/2025-01/graphql.json",
                          json={"query": ACTIVATE, "variables": variables},
                          headers={"X-Shopify-Access-Token": TOKEN}, timeout=T)
    assert "errors" not in reply.json(), reply.text
    result: dict[str, Any] = reply.json()["data"]["inventoryActivate"]
    return result


def test_not_stocked_item_is_activated_then_takes_normal_sets(shop: ShopifyAdapter, admin: SandboxAdmin) -> None:
    [before] = shop.read([("TEE-S", ITEM)])
    assert before.found is False

    [activated] = shop.push([StockUpdate(1, "TEE-S", 4, external_id=ITEM)])
    assert (activated.outcome, activated.applied_quantity) == (Outcome.OK, 4)
    assert admin.listing("shopify", "TEE-S")["quantity"] == 4  # type: ignore[index]
    [after] = shop.read([("TEE-S", ITEM)])
    assert (after.found, after.quantity) == (True, 4)

    [pushed] = shop.push([StockUpdate(1, "TEE-S", 6, external_id=ITEM, expected_quantity=4)])
    assert (pushed.outcome, pushed.applied_quantity) == (Outcome.OK, 6)
    [stale] = shop.push([StockUpdate(1, "TEE-S", 1, external_id=ITEM, expected_quantity=4)])
    assert (stale.outcome, stale.applied_quantity) == (Outcome.RETRY, 6)
    assert admin.listing("shopify", "TEE-S")["quantity"] == 6  # type: ignore[index]


def test_known_item_pushed_with_a_compare_is_activated_on_the_set_error(shop: ShopifyAdapter, admin: SandboxAdmin) -> None:
    [result] = shop.push([StockUpdate(1, "TEE-S", 0, external_id=ITEM, expected_quantity=3)])
    assert (result.outcome, result.applied_quantity) == (Outcome.OK, 0)
    listing = admin.listing("shopify", "TEE-S")
    assert listing is not None and (listing["quantity"], listing["extra"]["location_id"]) == (0, HERE)


def test_opt_out_keeps_the_item_where_it_is(sandbox: RunningSandbox, shop: ShopifyAdapter, admin: SandboxAdmin) -> None:
    off = ShopifyAdapter("shop_eu", {**shop.settings, "activate_at_location": "false"}, clock=ManualClock())
    [result] = off.push([StockUpdate(1, "TEE-S", 4, external_id=ITEM)])
    off.close()
    assert (result.outcome, result.category) == (Outcome.FAILED, FailureCategory.UNKNOWN_LISTING)
    listing = admin.listing("shopify", "TEE-S")
    assert listing is not None and (listing["quantity"], listing["extra"]["location_id"]) == (3, ELSEWHERE)


def test_activate_user_errors_and_already_stocked(sandbox: RunningSandbox, shop: ShopifyAdapter) -> None:
    unknown_item = _activate(sandbox, "gid://shopify/InventoryItem/404", HERE, 1)
    assert unknown_item == {"inventoryLevel": None,
                            "userErrors": [{"field": ["inventoryItemId"], "message": "Inventory item does not exist"}]}
    unknown_location = _activate(sandbox, ITEM, "gid://shopify/Location/404", 1)
    assert unknown_location["inventoryLevel"] is None
    assert unknown_location["userErrors"][0]["field"] == ["locationId"]
    # already stocked there: the level comes back as it is, the quantity untouched
    here = _activate(sandbox, "gid://shopify/InventoryItem/1", HERE, 99)
    assert here["userErrors"] == []
    assert here["inventoryLevel"]["quantities"] == [{"name": "available", "quantity": 5}]
