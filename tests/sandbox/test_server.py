"""The sandbox behaves like the real APIs: auth, signatures (recomputed here from the docs,
not from connector code), per-item errors, async status, throttling, faults, inspection."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import requests

from connector.sandbox.client import SandboxAdmin
from connector.sandbox.server import RunningSandbox
from tests.sandbox.woo_oauth import woo_query
from tests.support.specs import validate_request, validate_response

T = 5  # seconds: every HTTP call in these tests is bounded


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# ----------------------------------------------------------------------------- Amazon


def _amazon_token(sb: RunningSandbox) -> str:
    reply = requests.post(sb.url + "/amazon/auth/o2/token", data={
        "grant_type": "refresh_token", "refresh_token": "Atzr|refresh-1234",
        "client_id": "amzn-client", "client_secret": "amzn-secret-1234"}, timeout=T)
    assert reply.status_code == 200, reply.text
    assert reply.json()["expires_in"] == 3600
    token: str = reply.json()["access_token"]
    return token


def test_amazon_patch_read_back_and_auth(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    token = _amazon_token(sandbox)
    url = sandbox.url + "/amazon/listings/2021-08-01/items/A3EXAMPLE/MUG-RED?marketplaceIds=A1PA6795UKMFR9"
    body = {"productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                                   "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 0}]}]}
    headers = {"x-amz-access-token": token, "Content-Type": "application/json"}
    validate_request("amazon", "PATCH", url, body, headers)
    reply = requests.patch(url, json=body, headers=headers, timeout=T)
    validate_response("amazon", "PATCH", url, reply.status_code, reply.content)
    assert reply.json()["status"] == "ACCEPTED"
    assert admin.listing("amazon", "MUG-RED") | {} == admin.listing("amazon", "MUG-RED")
    listing = admin.listing("amazon", "MUG-RED")
    assert listing is not None and listing["quantity"] == 0 and listing["active"] is False

    got = requests.get(url + "&includedData=summaries,fulfillmentAvailability", headers=headers, timeout=T)
    validate_response("amazon", "GET", url, got.status_code, got.content)
    assert got.json()["fulfillmentAvailability"][0]["quantity"] == 0
    assert got.json()["summaries"][0]["status"] == ["DISCOVERABLE"]

    unknown = requests.patch(url.replace("MUG-RED", "NOPE"), json=body, headers=headers, timeout=T)
    assert unknown.json()["status"] == "INVALID" and unknown.json()["issues"][0]["severity"] == "ERROR"

    bad = requests.patch(url, json=body, headers={"x-amz-access-token": "Atza|forged"}, timeout=T)
    assert bad.status_code == 403  # SP-API answers 403 Unauthorized for a bad/expired token
    validate_response("amazon", "PATCH", url, bad.status_code, bad.content)
    wrong_client = requests.post(sandbox.url + "/amazon/auth/o2/token", data={
        "grant_type": "refresh_token", "refresh_token": "Atzr|refresh-1234", "client_id": "amzn-client",
        "client_secret": "wrong"}, timeout=T)
    assert wrong_client.status_code == 401 and wrong_client.json()["error"] == "invalid_client"


# ----------------------------------------------------------------------------- bol


def test_bol_stock_is_async_and_media_type_is_enforced(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    token = requests.post(sandbox.url + "/bol/token?grant_type=client_credentials",
                          headers={**_basic("bol-client", "bol-secret-1234"), "Accept": "application/json"},
                          timeout=T).json()
    assert token["expires_in"] == 299
    media = "application/vnd.retailer.v10+json"
    headers = {"Authorization": f"Bearer {token['access_token']}", "Accept": media, "Content-Type": media}
    url = sandbox.url + "/bol/retailer/offers/1001/stock"
    body = {"amount": 3, "managedByRetailer": True}
    validate_request("bol", "PUT", url, body, headers)
    reply = requests.put(url, data=json.dumps(body), headers=headers, timeout=T)
    assert reply.status_code == 202
    validate_response("bol", "PUT", url, 202, reply.content)
    status_url = reply.json()["links"][0]["href"]
    polls = [requests.get(status_url, headers=headers, timeout=T) for _ in range(2)]
    for poll in polls:
        validate_response("bol", "GET", status_url, poll.status_code, poll.content)
    assert [p.json()["status"] for p in polls] == ["PENDING", "SUCCESS"]
    assert admin.listing("bol", "8712345678906")["quantity"] == 3  # type: ignore[index]

    missing = requests.put(sandbox.url + "/bol/retailer/offers/999/stock", data=json.dumps(body), headers=headers, timeout=T)
    bulk = requests.post(sandbox.url + "/bol/shared/process-status", headers=headers, timeout=T,
                         data=json.dumps({"processStatusQueries": [{"processStatusId": missing.json()["processStatusId"]}] * 2}))
    assert bulk.json()["processStatuses"][-1]["status"] == "FAILURE"

    too_much = requests.put(url, data=json.dumps({"amount": 1000, "managedByRetailer": True}), headers=headers, timeout=T)
    assert too_much.status_code == 400 and too_much.json()["violations"][0]["name"] == "amount"
    validate_response("bol", "PUT", url, 400, too_much.content)
    plain = requests.put(url, json=body, headers={**headers, "Content-Type": "application/json"}, timeout=T)
    assert plain.status_code == 415
    expired = requests.put(url, data=json.dumps(body), headers={**headers, "Authorization": "Bearer nope"}, timeout=T)
    assert expired.status_code == 401 and expired.json()["status"] == 401


# ----------------------------------------------------------------------------- Kaufland


def _kaufland_headers(method: str, url: str, body: str, secret: str = "kl-secret-key-1234") -> dict[str, str]:
    stamp = str(int(time.time()))
    message = "\n".join([method, url, body, stamp])  # Kaufland's documented string to sign
    sig = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {"Shop-Client-Key": "kl-client-key", "Shop-Timestamp": stamp, "Shop-Signature": sig,
            "User-Agent": "stock-bridge-tests", "Accept": "application/json", "Content-Type": "application/json"}


def test_kaufland_signature_checked_over_full_url_and_body(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    url = sandbox.url + "/kaufland/v2/units/338765432?storefront=de"
    body = json.dumps({"amount": 7})
    reply = requests.patch(url, data=body, headers=_kaufland_headers("PATCH", url, body), timeout=T)
    assert reply.status_code == 200, reply.text
    validate_request("kaufland", "PATCH", url, body, _kaufland_headers("PATCH", url, body))
    validate_response("kaufland", "PATCH", url, 200, reply.content)
    assert reply.json()["data"]["amount"] == 7
    wrong = requests.patch(url, data=body, headers=_kaufland_headers("PATCH", url, body, secret="other"), timeout=T)
    assert wrong.status_code == 401
    validate_response("kaufland", "PATCH", url, 401, wrong.content)
    tampered = requests.patch(url, data=json.dumps({"amount": 70}), headers=_kaufland_headers("PATCH", url, body), timeout=T)
    assert tampered.status_code == 401
    assert admin.listing("kaufland", "4006381333948")["quantity"] == 7  # type: ignore[index]
    deleted = requests.delete(url, headers=_kaufland_headers("DELETE", url, ""), timeout=T)
    assert deleted.status_code == 204
    gone = requests.get(url, headers=_kaufland_headers("GET", url, ""), timeout=T)
    assert gone.status_code == 404


# ----------------------------------------------------------------------------- Shopee


def _shopee_url(sb: RunningSandbox, path: str, key: str = "shopee-key-1234", query: str = "") -> str:
    stamp = int(time.time())
    base = f"2001{path}{stamp}shopee-access-12343001"  # partner_id path timestamp access_token shop_id
    sign = hmac.new(key.encode(), base.encode(), hashlib.sha256).hexdigest()
    return (f"{sb.url}/shopee{path}?partner_id=2001&timestamp={stamp}&access_token=shopee-access-1234"
            f"&shop_id=3001&sign={sign}{query}")


def test_shopee_sign_promotion_stock_and_drift(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    body = {"item_id": 1000, "stock_list": [{"model_id": 3456, "seller_stock": [{"stock": 1}]},
                                            {"model_id": 1234, "seller_stock": [{"stock": 0}]}]}
    admin.set_faults("shopee", lock={"sku": "MUG-BLUE", "floor": 2})
    reply = requests.post(_shopee_url(sandbox, "/api/v2/product/update_stock"), json=body, timeout=T).json()
    assert reply["error"] == "" and [x["model_id"] for x in reply["response"]["success_list"]] == [3456]
    assert reply["response"]["failure_list"][0]["model_id"] == 1234
    assert "reserved" in reply["response"]["failure_list"][0]["failed_reason"]

    bad = requests.post(_shopee_url(sandbox, "/api/v2/product/update_stock", key="wrong"), json=body, timeout=T)
    assert bad.status_code == 403 and bad.json()["error"] == "error_sign"

    admin.set_faults("shopee", promotion_end={"sku": "MUG-BLUE", "returned_qty": 2})
    models = requests.get(_shopee_url(sandbox, "/api/v2/product/get_model_list", query="&item_id=1000"), timeout=T).json()
    blue = next(m for m in models["response"]["model"] if m["model_id"] == 1234)
    assert blue["stock_info_v2"]["seller_stock"][0]["stock"] == 7  # 5 + 2 returned: drift
    assert blue["stock_info_v2"]["summary_info"]["total_reserved_stock"] == 0


# ----------------------------------------------------------------------------- Lazada


def _lazada_call(sb: RunningSandbox, api: str, extra: dict[str, str], secret: str = "lazada-secret-1234") -> Any:
    params = {"app_key": "100001", "timestamp": str(int(time.time() * 1000)), "sign_method": "sha256",
              "access_token": "lzd-access-1234", **extra}
    text = api + "".join(f"{k}{params[k]}" for k in sorted(params))
    params["sign"] = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    return requests.post(f"{sb.url}/lazada/rest{api}", data=params, timeout=T).json()


def test_lazada_sign_and_campaign_lock(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    payload = ("<Request><Product><Skus><Sku><ItemId>234234234</ItemId><SkuId>234</SkuId>"
               "<SellableQuantity>{}</SellableQuantity></Sku></Skus></Product></Request>")
    api = "/product/stock/sellable/update"
    assert _lazada_call(sandbox, api, {"payload": payload.format(9)})["code"] == "0"
    assert admin.listing("lazada", "MUG-RED")["quantity"] == 9  # type: ignore[index]
    assert _lazada_call(sandbox, api, {"payload": payload.format(1)}, secret="x")["code"] == "IncompleteSignature"

    admin.set_faults("lazada", lock={"sku": "MUG-RED", "floor": 4})
    locked = _lazada_call(sandbox, api, {"payload": payload.format(2)})
    assert locked["code"] == "501" and locked["detail"][0]["code"] == "4170"
    assert admin.listing("lazada", "MUG-RED")["quantity"] == 9  # type: ignore[index]

    admin.set_faults("lazada", storm_429={"count": 1})
    assert _lazada_call(sandbox, api, {"payload": payload.format(5)})["code"] == "ApiCallLimit"
    assert _lazada_call(sandbox, api, {"payload": payload.format(5)})["code"] == "0"


# ----------------------------------------------------------------------------- Shopify


MUTATION = ("mutation set($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) "
            "{ inventoryAdjustmentGroup { id } userErrors { code field message } } }")


def test_shopify_compare_and_set_and_throttle(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    url = sandbox.url + "/shopify/admin/api/2025-01/graphql.json"
    headers = {"X-Shopify-Access-Token": "shpat_sandbox_token_1234"}

    def set_qty(quantity: int, compare: int) -> Any:
        variables = {"input": {"name": "available", "reason": "correction", "quantities": [{
            "inventoryItemId": "gid://shopify/InventoryItem/1", "locationId": "gid://shopify/Location/2",
            "quantity": quantity, "compareQuantity": compare}]}}
        validate_request("shopify", "POST", url, {"query": MUTATION, "variables": variables})
        return requests.post(url, json={"query": MUTATION, "variables": variables}, headers=headers, timeout=T).json()

    assert set_qty(8, 5)["data"]["inventorySetQuantities"]["userErrors"] == []
    stale = set_qty(1, 5)["data"]["inventorySetQuantities"]
    assert stale["userErrors"][0]["code"] == "COMPARE_QUANTITY_STALE" and stale["inventoryAdjustmentGroup"] is None
    assert admin.listing("shopify", "MUG-RED")["quantity"] == 8  # type: ignore[index]

    query = ('{ inventoryItem(id: "gid://shopify/InventoryItem/1") { inventoryLevel(locationId: '
             '"gid://shopify/Location/2") { quantities(names: ["available"]) { name quantity } } } }')
    read = requests.post(url, json={"query": query}, headers=headers, timeout=T).json()
    assert read["data"]["inventoryItem"]["inventoryLevel"]["quantities"] == [{"name": "available", "quantity": 8}]

    admin.set_faults("shopify", storm_429={"count": 1})
    throttled = requests.post(url, json={"query": query}, headers=headers, timeout=T).json()
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert requests.post(url, json={"query": query}, headers={"X-Shopify-Access-Token": "x"}, timeout=T).status_code == 401


# ----------------------------------------------------------------------------- Etsy


def test_etsy_zero_is_refused_deactivate_instead(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    token = requests.post(sandbox.url + "/etsy/v3/public/oauth/token", data={
        "grant_type": "refresh_token", "client_id": "etsykey", "refresh_token": "123.etsy-refresh"}, timeout=T).json()
    headers = {"x-api-key": "etsykey:etsy-shared-1234", "Authorization": f"Bearer {token['access_token']}"}
    url = sandbox.url + "/etsy/v3/application/listings/123/inventory"
    inventory = requests.get(url, headers=headers, timeout=T)
    validate_response("etsy", "GET", url, 200, inventory.content)
    products = [{"sku": p["sku"], "property_values": [], "offerings": [
        {"price": 22.0, "quantity": 0, "is_enabled": True, "readiness_state_id": None}]} for p in inventory.json()["products"]]
    refused = requests.put(url, json={"products": products}, headers=headers, timeout=T)
    assert refused.status_code == 400 and "greater than 0" in refused.json()["error"]

    patch_url = sandbox.url + "/etsy/v3/application/shops/5001/listings/123"
    validate_request("etsy", "PATCH", patch_url, "state=inactive", {"Content-Type": "application/x-www-form-urlencoded"})
    assert requests.patch(patch_url, data={"state": "inactive"}, headers=headers, timeout=T).json()["state"] == "inactive"
    assert admin.listing("etsy", "MUG-RED")["active"] is False  # type: ignore[index]
    keystring_only = requests.get(url, headers={**headers, "x-api-key": "etsykey"}, timeout=T)
    assert keystring_only.status_code == 403 and "Shared secret" in keystring_only.json()["error"]


# ----------------------------------------------------------------------------- Zalando, eBay, WooCommerce


def test_zalando_per_item_results_and_storm_retry_after(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    token = requests.post(sandbox.url + "/zalando/auth/token", data={"grant_type": "client_credentials"},
                          headers=_basic("zal-client", "zal-secret-1234"), timeout=T).json()["access_token"]
    url = sandbox.url + "/zalando/merchants/7e0f3c4a-3b2a-4a4e-9a39-0c5a3b1f2d11/stocks"
    channel = "01924c48-49bb-40c2-9c32-ab582e6db6f4"
    body = {"items": [{"sales_channel_id": channel, "ean": "4006381333931", "quantity": 0},
                      {"sales_channel_id": channel, "ean": "4006381333948", "quantity": 2}]}
    validate_request("zalando", "POST", url, body, {"Content-Type": "application/json"})
    admin.set_faults("zalando", storm_429={"count": 1, "retry_after": 3})
    storm = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=T)
    assert storm.status_code == 429 and storm.headers["Retry-After"] == "3"
    reply = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=T)
    assert reply.status_code == 207
    validate_response("zalando", "POST", url, 207, reply.content)
    assert [r["result"]["code"] for r in reply.json()["results"]] == [0, 104]  # 104: not onboarded, held
    assert admin.listing("zalando", "4006381333931")["quantity"] == 0  # type: ignore[index]


def test_ebay_bulk_per_item_status_and_relist(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    token = requests.post(sandbox.url + "/ebay/identity/v1/oauth2/token", headers=_basic("ebay-client", "ebay-secret-1234"),
                          data={"grant_type": "refresh_token", "refresh_token": "v^1.1#refresh"}, timeout=T).json()
    headers = {"Authorization": f"Bearer {token['access_token']}", "Content-Type": "application/json"}
    url = sandbox.url + "/ebay/sell/inventory/v1/bulk_update_price_quantity"
    body = {"requests": [
        {"sku": "MUG-RED", "shipToLocationAvailability": {"quantity": 0}, "offers": [{"offerId": "9876543210", "availableQuantity": 0}]},
        {"sku": "NOPE", "shipToLocationAvailability": {"quantity": 1}}]}
    validate_request("ebay", "POST", url, body, headers)
    reply = requests.post(url, json=body, headers=headers, timeout=T)
    validate_response("ebay", "POST", url, reply.status_code, reply.content)
    assert reply.status_code == 207 and [r["statusCode"] for r in reply.json()["responses"]] == [200, 404]
    offer = requests.get(sandbox.url + "/ebay/sell/inventory/v1/offer?sku=MUG-RED", headers=headers, timeout=T).json()
    assert offer["offers"][0]["listing"]["listingStatus"] == "OUT_OF_STOCK"
    requests.post(sandbox.url + "/ebay/sell/inventory/v1/offer/9876543210/withdraw", headers=headers, timeout=T)
    assert admin.listing("ebay", "MUG-RED")["status"] == "ENDED"  # type: ignore[index]
    assert requests.post(url, json={"requests": body["requests"] * 13}, headers=headers, timeout=T).status_code == 400


def _woo(sandbox: RunningSandbox, method: str, path: str, secret: str = "cs_sandbox_secret",
         **kwargs: Any) -> requests.Response:
    """A WooCommerce call over the sandbox's plain http: OAuth 1.0a signed, as WooCommerce requires."""
    url = sandbox.url + "/woocommerce" + path
    params = woo_query(method, url, {}, "ck_sandbox", secret)
    return requests.request(method, url, params=params, timeout=T, **kwargs)


def test_woocommerce_batch_item_errors_and_limit(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    path = "/wp-json/wc/v3/products/batch"
    reply = _woo(sandbox, "POST", path, json={"update": [{"id": 799, "manage_stock": True, "stock_quantity": 0},
                                                          {"id": 4242, "manage_stock": True, "stock_quantity": 1}]})
    results = reply.json()["update"]
    assert reply.status_code == 200 and results[0]["stock_status"] == "outofstock"
    assert results[1]["error"]["code"] == "woocommerce_rest_product_invalid_id"
    too_many = _woo(sandbox, "POST", path, json={"update": [{"id": 799, "stock_quantity": 1}] * 101})
    assert too_many.status_code == 413
    variation = _woo(sandbox, "PUT", "/wp-json/wc/v3/products/10/variations/801",
                     json={"manage_stock": True, "stock_quantity": 6})
    assert variation.json()["stock_quantity"] == 6
    wrong = _woo(sandbox, "PUT", "/wp-json/wc/v3/products/799", secret="wrong", json={"stock_quantity": 1})
    assert wrong.status_code == 401


# ----------------------------------------------------------------------------- admin and faults


def test_request_log_has_no_secrets_and_faults_are_deterministic(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    _shopee_url(sandbox, "/api/v2/product/get_model_list")
    requests.get(_shopee_url(sandbox, "/api/v2/product/get_model_list", query="&item_id=1000"), timeout=T)
    token = _amazon_token(sandbox)
    log = admin.requests("shopee")
    assert log and log[-1]["path"] == "/shopee/api/v2/product/get_model_list" and log[-1]["status"] == 200
    everything = json.dumps(admin.requests())
    for secret in ("shopee-access-1234", "sign=", token, "amzn-secret-1234", "Atzr|refresh-1234"):
        assert secret not in everything

    def outcomes() -> list[int]:
        admin.set_faults("woocommerce", error_rate=0.5, seed=42)
        return [_woo(sandbox, "GET", "/wc/v3/products/799").status_code for _ in range(12)]

    first = outcomes()
    assert first == outcomes() and 503 in first and 200 in first
    admin.set_faults("woocommerce", error_rate=0, latency_ms=150)
    started = time.monotonic()
    _woo(sandbox, "GET", "/wc/v3/products/799")
    assert time.monotonic() - started >= 0.15

    admin.add_listings("bol", [{"sku": "NEW", "external_id": "77", "quantity": 1}])
    assert admin.listing("bol", "NEW") is not None
    admin.reset()
    assert admin.listing("bol", "NEW") is None and admin.listing("bol", "8712345678906") is not None
    assert admin.requests() == [] or all(r["path"].startswith("/_sandbox") for r in admin.requests())


def test_rate_limit_answers_429(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    admin.set_faults("kaufland", rate_limit={"rate": 0.5, "burst": 2})
    url = sandbox.url + "/kaufland/v2/units/338765432?storefront=de"
    codes = [requests.get(url, headers=_kaufland_headers("GET", url, ""), timeout=T).status_code for _ in range(3)]
    assert codes[:2] == [200, 200] and codes[2] == 429
