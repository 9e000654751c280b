"""The spec helpers must reject what the published specs reject (else every check is hollow)."""

from __future__ import annotations

import pytest

from tests.support.specs import (
    validate_amazon_feed,
    validate_request,
    validate_response,
    validate_shopify_graphql,
)

BOL_CT = {"Content-Type": "application/vnd.retailer.v10+json"}
AMAZON_URL = "http://h/amazon/listings/2021-08-01/items/A3/MUG-RED?marketplaceIds=A1PA6795UKMFR9"
AMAZON_BODY = {
    "productType": "PRODUCT",
    "patches": [
        {
            "op": "replace",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 4}],
        }
    ],
}
ZALANDO_URL = "http://h/zalando/merchants/7e0f3c4a-3b2a-4a4e-9a39-0c5a3b1f2d11/stocks"
CHANNEL = "01924c48-49bb-40c2-9c32-ab582e6db6f4"
SET_QUANTITIES = (
    "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) "
    "{ inventoryAdjustmentGroup { id } userErrors { code field message } } }"
)


def _quantities(**extra: object) -> dict[str, object]:
    row = {"inventoryItemId": "gid://shopify/InventoryItem/1", "locationId": "gid://shopify/Location/2", "quantity": 7}
    row.update(extra)
    return {"input": {"name": "available", "reason": "correction", "quantities": [row]}}


def test_valid_requests_pass() -> None:
    validate_request("bol", "PUT", "http://h/bol/retailer/offers/12/stock", {"amount": 3, "managedByRetailer": True}, BOL_CT)
    validate_request("amazon", "PATCH", AMAZON_URL, AMAZON_BODY, {"Content-Type": "application/json"})
    validate_request("zalando", "POST", ZALANDO_URL, {"items": [{"sales_channel_id": CHANNEL, "ean": "4006381333931", "quantity": 5}]})
    validate_request("kaufland", "PATCH", "http://h/kaufland/v2/units/9?storefront=de", b'{"amount":7}', {"Content-Type": "application/json"})
    validate_request("ebay", "POST", "https://api.ebay.com/sell/inventory/v1/bulk_update_price_quantity",
                     {"requests": [{"sku": "S", "shipToLocationAvailability": {"quantity": 4}, "offers": [{"offerId": "1", "availableQuantity": 4}]}]})
    validate_request("etsy", "PATCH", "http://h/etsy/v3/application/shops/1/listings/2", "state=inactive",
                     {"Content-Type": "application/x-www-form-urlencoded"})
    validate_request("lazada", "POST", "http://h/anything", "not checked: no spec")


@pytest.mark.parametrize(
    ("marketplace", "method", "url", "body", "headers", "reason"),
    [
        ("bol", "PUT", "http://h/retailer/offers/1/stock", {"amount": 1000, "managedByRetailer": True}, None, "maximum of 999"),
        ("bol", "PUT", "http://h/retailer/offers/1/stock", {"amount": 1}, None, "managedByRetailer"),
        ("bol", "PUT", "http://h/retailer/offers/1/stock", {"amount": 1, "managedByRetailer": True},
         {"Content-Type": "application/json"}, "Content-Type"),
        ("amazon", "PATCH", AMAZON_URL.split("?")[0], AMAZON_BODY, None, "marketplaceIds"),
        ("zalando", "POST", ZALANDO_URL, {"items": [{"sales_channel_id": CHANNEL, "ean": "4006381333932", "quantity": 1}]}, None, "gtin-13"),
        ("zalando", "POST", ZALANDO_URL, {"items": [{"sales_channel_id": CHANNEL, "ean": "4006381333931", "quantity": -1}]}, None, "minimum"),
        ("etsy", "PATCH", "http://h/v3/application/shops/1/listings/2", {"state": "inactive"},
         {"Content-Type": "application/json"}, "x-www-form-urlencoded"),
        ("kaufland", "POST", "http://h/v2/no/such/path", {}, None, "not an operation"),
    ],
)
def test_invalid_requests_fail(marketplace: str, method: str, url: str, body: object, headers: dict[str, str] | None, reason: str) -> None:
    with pytest.raises(AssertionError, match=reason):
        validate_request(marketplace, method, url, body, headers)  # type: ignore[arg-type]


def test_responses_are_checked() -> None:
    status = {"processStatusId": "1", "entityId": "12", "eventType": "UPDATE_OFFER_STOCK", "description": "d",
              "status": "PENDING", "createTimestamp": "2018-11-14T09:34:41+01:00", "links": []}
    validate_response("bol", "PUT", "http://h/bol/retailer/offers/12/stock", 202, status)
    with pytest.raises(AssertionError, match="enum|is not one of"):
        validate_response("bol", "GET", "http://h/bol/shared/process-status/1", 200, {**status, "status": "DONE"})
    validate_response("zalando", "POST", ZALANDO_URL, 207, {"results": [
        {"item": {"sales_channel_id": CHANNEL, "ean": "4006381333931", "quantity": 5}, "result": {"status": "ACCEPTED", "code": 0}}]})
    with pytest.raises(AssertionError, match="results"):  # the reference note's "items" is not the spec's name
        validate_response("zalando", "POST", ZALANDO_URL, 207, {"items": []})
    with pytest.raises(AssertionError, match="errors"):
        validate_response("amazon", "PATCH", AMAZON_URL, 429, {"message": "slow down"})


def test_shopify_graphql_against_2025_01() -> None:
    validate_shopify_graphql(SET_QUANTITIES, _quantities(compareQuantity=5))
    with pytest.raises(AssertionError, match="changeFromQuantity"):  # only exists from 2026-01
        validate_shopify_graphql(SET_QUANTITIES, _quantities(changeFromQuantity=5))
    with pytest.raises(AssertionError):
        validate_shopify_graphql("{ shop { noSuchField } }", None)


def test_amazon_feed_schema() -> None:
    message = {"messageId": 1, "sku": "X", "operationType": "PATCH", "productType": "PRODUCT", "patches": AMAZON_BODY["patches"]}
    validate_amazon_feed({"header": {"sellerId": "A3", "version": "2.0"}, "messages": [message]})
    with pytest.raises(AssertionError):
        validate_amazon_feed({"header": {"sellerId": "A3", "version": "1.0"}, "messages": [message]})
    with pytest.raises(AssertionError):
        validate_amazon_feed({"header": {"sellerId": "A3", "version": "2.0"}, "messages": [{**message, "operationType": "NOPE"}]})
