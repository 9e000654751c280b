"""Shopee adapter against `responses`: signed update_stock calls, failure_list, promotion stock."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlsplit

import responses

from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.marketplaces.shopee import ShopeeAdapter
from connector.stock.model import PushAction
from tests.marketplaces.conftest import body_of, query_of
from tests.support.specs import validate_request

BASE = "https://partner.shopeemobile.com"
UPDATE = f"{BASE}/api/v2/product/update_stock"
UNLIST = f"{BASE}/api/v2/product/unlist_item"
REFRESH = f"{BASE}/api/v2/auth/access_token/get"
SETTINGS = {
    "base_url": BASE,
    "partner_id": "2001234",
    "partner_key": "shpk-partner-key-0123456789abcdef",
    "shop_id": "600100",
    "access_token": "access-token-aaaa",
    "refresh_token": "refresh-token-bbbb",
}


def adapter(clock: ManualClock) -> ShopeeAdapter:
    return ShopeeAdapter("shopee_sg", SETTINGS, clock=clock)


def expected_sign(path: str, timestamp: str, token: str | None = None, shop: str | None = None) -> str:
    # Written from Shopee's doc: partner_id + api path + timestamp (+ access_token + shop_id).
    base = SETTINGS["partner_id"] + path + timestamp + (token or "") + (shop or "")
    return hmac.new(SETTINGS["partner_key"].encode(), base.encode(), hashlib.sha256).hexdigest()


def ok_reply(*model_stock: tuple[int, int]) -> dict:
    return {"error": "", "message": "", "request_id": "r1", "response": {
        "success_list": [{"model_id": m, "location_id": "", "stock": s} for m, s in model_stock],
        "failure_list": []}}


def test_success_exact_signed_request(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json=ok_reply((3456, 100), (1234, 0)))
    results = adapter(clock).push([
        StockUpdate(1, "TEE-M", 100, external_id="1000/3456"),
        StockUpdate(2, "TEE-L", 0, external_id="1000/1234"),
    ])
    call = rsps.calls[0]
    assert call.request.method == "POST"
    assert urlsplit(call.request.url).path == "/api/v2/product/update_stock"
    q = query_of(call)
    assert q["partner_id"] == "2001234" and q["shop_id"] == "600100"
    assert q["access_token"] == "access-token-aaaa"
    assert q["timestamp"] == str(int(clock.now()))
    assert q["sign"] == expected_sign("/api/v2/product/update_stock", q["timestamp"],
                                      "access-token-aaaa", "600100")
    assert call.request.headers["Content-Type"] == "application/json"
    assert body_of(call) == {"item_id": 1000, "stock_list": [
        {"model_id": 3456, "seller_stock": [{"stock": 100}]},
        {"model_id": 1234, "seller_stock": [{"stock": 0}]},
    ]}
    validate_request("shopee", "POST", call.request.url, call.request.body, dict(call.request.headers))
    assert [(r.outcome, r.applied_quantity) for r in results] == [(Outcome.OK, 100), (Outcome.OK, 0)]


def test_item_without_variations_uses_model_zero(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json=ok_reply((0, 5)))
    [result] = adapter(clock).push([StockUpdate(1, "MUG", 5, external_id="2000")])
    assert body_of(rsps.calls[0]) == {"item_id": 2000, "stock_list": [{"model_id": 0, "seller_stock": [{"stock": 5}]}]}
    assert result.outcome is Outcome.OK


def test_failure_list_per_model_and_promotion_lock(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json={"error": "", "message": "", "request_id": "r", "response": {
        "success_list": [{"model_id": 1, "stock": 4}],
        "failure_list": [
            {"model_id": 2, "failed_reason": "stock less than reserved stock"},
            {"model_id": 3, "failed_reason": "model not found"},
        ]}})
    results = adapter(clock).push([StockUpdate(i, f"S{i}", 4, external_id=f"10/{i}") for i in (1, 2, 3)])
    assert results[0].outcome is Outcome.OK
    assert (results[1].category, results[1].message) == (FailureCategory.LOCKED, "stock less than reserved stock")
    assert results[2].category is FailureCategory.UNKNOWN_LISTING


def test_item_level_promotion_error_is_locked(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json={"error": "error_promotion_cantnot_update_stock", "message": "in promotion",
                            "request_id": "r"})
    [result] = adapter(clock).push([StockUpdate(1, "S", 4, external_id="10/1")])
    assert result.outcome is Outcome.FAILED and result.category is FailureCategory.LOCKED


def test_429_retry_after_is_honoured(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, status=429, headers={"Retry-After": "4"}, json={"error": "too_many_request"})
    rsps.post(UPDATE, json=ok_reply((1, 2)))
    [result] = adapter(clock).push([StockUpdate(1, "S", 2, external_id="10/1")])
    assert result.outcome is Outcome.OK
    assert 4.0 in clock.sleeps
    # the retry is signed again with the clock's new time
    assert query_of(rsps.calls[1])["timestamp"] == str(int(clock.now()))
    assert query_of(rsps.calls[1])["sign"] == expected_sign(
        "/api/v2/product/update_stock", query_of(rsps.calls[1])["timestamp"], "access-token-aaaa", "600100")


def test_5xx_and_busy_body_then_success(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, status=500, body="oops")
    rsps.post(UPDATE, json={"error": "error_system_busy", "message": "busy", "request_id": "r"})
    rsps.post(UPDATE, json=ok_reply((1, 2)))
    [result] = adapter(clock).push([StockUpdate(1, "S", 2, external_id="10/1")])
    assert result.outcome is Outcome.OK
    assert len(clock.sleeps) == 2


def test_token_error_refreshes_once_then_succeeds(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, status=403, json={"error": "invalid_access_token", "message": "Invalid access_token.",
                                        "request_id": "r"})
    rsps.post(REFRESH, json={"access_token": "access-token-new1", "refresh_token": "refresh-token-new1",
                             "expire_in": 14400, "error": "", "message": ""})
    rsps.post(UPDATE, json=ok_reply((1, 2)))
    a = adapter(clock)
    [result] = a.push([StockUpdate(1, "S", 2, external_id="10/1")])
    assert result.outcome is Outcome.OK
    refresh = rsps.calls[1]
    rq = query_of(refresh)
    assert rq["sign"] == expected_sign("/api/v2/auth/access_token/get", rq["timestamp"])
    assert "access_token" not in rq
    assert body_of(refresh) == {"refresh_token": "refresh-token-bbbb", "partner_id": 2001234, "shop_id": 600100}
    q = query_of(rsps.calls[2])
    assert q["access_token"] == "access-token-new1"
    assert q["sign"] == expected_sign("/api/v2/product/update_stock", q["timestamp"], "access-token-new1", "600100")
    assert a.token.refresh_token == "refresh-token-new1"


def test_http_401_refresh_then_still_401_is_auth(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, status=401, json={"error": "error_auth", "message": "token access-token-aaaa bad"})
    rsps.post(REFRESH, json={"access_token": "access-token-new2", "refresh_token": "refresh-token-new2",
                             "expire_in": 14400})
    rsps.post(UPDATE, status=401, json={"error": "error_auth", "message": "token access-token-new2 bad"})
    [result] = adapter(clock).push([StockUpdate(1, "S", 2, external_id="10/1")])
    assert result.category is FailureCategory.AUTH
    assert "access-token" not in result.message
    assert len([c for c in rsps.calls if "access_token/get" in c.request.url]) == 1


def test_zero_unlists_an_item_without_models_and_reactivation_lists_again(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    rsps.post(UPDATE, json=ok_reply((0, 0)))
    rsps.post(UNLIST, json={"error": "", "message": "", "response": {"success_list": [{"item_id": 10, "unlist": True}],
                                                                      "failure_list": []}})
    rsps.post(UPDATE, json=ok_reply((0, 6)))
    rsps.post(UNLIST, json={"error": "", "message": "", "response": {"success_list": [{"item_id": 10, "unlist": False}],
                                                                      "failure_list": []}})
    a = adapter(clock)
    [off] = a.push([StockUpdate(1, "S", 0, PushAction.DEACTIVATE, external_id="10")])
    [on] = a.push([StockUpdate(1, "S", 6, PushAction.REACTIVATE, external_id="10")])
    assert body_of(rsps.calls[0]) == {"item_id": 10, "stock_list": [{"model_id": 0, "seller_stock": [{"stock": 0}]}]}
    assert body_of(rsps.calls[1]) == {"item_list": [{"item_id": 10, "unlist": True}]}
    assert body_of(rsps.calls[3]) == {"item_list": [{"item_id": 10, "unlist": False}]}
    q = query_of(rsps.calls[1])
    assert q["sign"] == expected_sign("/api/v2/product/unlist_item", q["timestamp"], "access-token-aaaa", "600100")
    assert (off.outcome, off.active, off.applied_quantity) == (Outcome.OK, False, 0)
    assert (on.outcome, on.active, on.applied_quantity) == (Outcome.OK, True, 6)


def test_deactivating_one_model_pushes_zero_and_keeps_the_item_listed(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    # Unlisting is per item: unlisting item 10 for model 1 would take model 2 off sale too.
    rsps.post(UPDATE, json={"error": "", "message": "", "request_id": "r1",
                            "response": {"success_list": [{"model_id": 1, "location_id": "", "stock": 0}],
                                         "failure_list": []}})
    [off] = adapter(clock).push([StockUpdate(1, "S-RED", 3, PushAction.DEACTIVATE, external_id="10/1")])
    assert len(rsps.calls) == 1 and UNLIST not in [c.request.url.split("?")[0] for c in rsps.calls]
    # Even a stray quantity rides as 0: the model's zero action is its stock 0.
    assert body_of(rsps.calls[0]) == {"item_id": 10, "stock_list": [{"model_id": 1, "seller_stock": [{"stock": 0}]}]}
    assert (off.outcome, off.applied_quantity, off.active) == (Outcome.OK, 0, None)
    assert "stays listed" in off.message


def test_model_and_plain_item_in_one_push(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json=ok_reply((1, 0)))
    rsps.post(UPDATE, json=ok_reply((0, 0)))
    rsps.post(UNLIST, json={"error": "", "message": "", "response": {"success_list": [{"item_id": 20, "unlist": True}],
                                                                      "failure_list": []}})
    model, plain = adapter(clock).push([StockUpdate(1, "S-RED", 0, PushAction.END, external_id="10/1"),
                                        StockUpdate(2, "MUG", 0, PushAction.END, external_id="20")])
    assert [body_of(c).get("item_id") or body_of(c)["item_list"][0]["item_id"] for c in rsps.calls] == [10, 20, 20]
    assert (model.outcome, model.active, plain.outcome, plain.active) == (Outcome.OK, None, Outcome.OK, False)


def test_reactivating_a_model_lists_its_item_again(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    # Harmless for a listed item; repairs an item an earlier release unlisted for one model.
    rsps.post(UPDATE, json=ok_reply((1, 4)))
    rsps.post(UNLIST, json={"error": "", "message": "", "response": {"success_list": [{"item_id": 10, "unlist": False}],
                                                                      "failure_list": []}})
    [on] = adapter(clock).push([StockUpdate(1, "S-RED", 4, PushAction.REACTIVATE, external_id="10/1")])
    assert body_of(rsps.calls[1]) == {"item_list": [{"item_id": 10, "unlist": False}]}
    assert (on.outcome, on.active, on.applied_quantity) == (Outcome.OK, True, 4)


def test_push_zero_is_plain_stock_zero(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json=ok_reply((1, 0)))
    [result] = adapter(clock).push([StockUpdate(1, "S", 0, external_id="10/1")])
    assert len(rsps.calls) == 1 and result.applied_quantity == 0


def test_batch_split_at_limit_and_per_item(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    limit = ShopeeAdapter.batch_limit

    def reply(request):  # type: ignore[no-untyped-def]
        body = json.loads(request.body)
        return 200, {}, json.dumps(ok_reply(*[(m["model_id"], m["seller_stock"][0]["stock"]) for m in body["stock_list"]]))

    rsps.add_callback(responses.POST, UPDATE, callback=reply)
    updates = [StockUpdate(i, f"S{i}", 1, external_id=f"10/{i}") for i in range(limit + 1)]
    updates.append(StockUpdate(999, "OTHER", 1, external_id="11/1"))
    results = adapter(clock).push(updates)
    sizes = [(body_of(c)["item_id"], len(body_of(c)["stock_list"])) for c in rsps.calls]
    assert sizes == [(10, limit), (10, 1), (11, 1)]
    assert all(r.outcome is Outcome.OK for r in results)


def test_read_reports_promotion_stock_separately(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.get(f"{BASE}/api/v2/product/get_model_list", json={"error": "", "message": "", "response": {"model": [
        {"model_id": 1, "model_sku": "S1", "model_status": "MODEL_NORMAL", "stock_info_v2": {
            "summary_info": {"total_reserved_stock": 3, "total_available_stock": 10},
            "seller_stock": [{"location_id": "", "stock": 10, "if_saleable": True}],
            "shopee_stock": [{"location_id": "SGZ", "stock": 7}]}}]}})
    [listing, missing] = adapter(clock).read([("S1", "10/1"), ("S2", "10/2")])
    assert listing.quantity == 10  # seller (normal) stock only; Shopee-warehouse stock not ours
    assert listing.raw["promotion_stock"] == 3
    assert listing.active is True
    assert missing.found is False
    q = query_of(rsps.calls[0])
    assert q["item_id"] == "10"
    assert q["sign"] == expected_sign("/api/v2/product/get_model_list", q["timestamp"], "access-token-aaaa", "600100")


# -- issue 17 item 8: cross-border (CNSC/KRSC) shops write the global product's stock --------------
# Shopee's reference: v2.global_product.update_stock "Update global stock. Only for China
# mainland sellers and Korean sellers"; its request: global_item_id and stock_list (1-50)
# of {global_model_id, seller_stock}; global product calls are merchant-level.

GLOBAL_UPDATE = f"{BASE}/api/v2/global_product/update_stock"


def test_a_cnsc_shop_writes_the_global_stock_signed_for_its_merchant(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    rsps.post(GLOBAL_UPDATE, json={"error": "", "message": "", "warning": "", "request_id": "r1"})
    settings = {**SETTINGS, "shop_type": "cnsc", "merchant_id": "777001"}
    shopee = ShopeeAdapter("shopee_sg", settings, clock=clock)
    results = shopee.push([StockUpdate(1, "TEE-M", 4, external_id="9000/7001"),
                           StockUpdate(2, "TEE-L", 0, external_id="9000/7002")])
    assert [(r.outcome, r.applied_quantity) for r in results] == [(Outcome.OK, 4), (Outcome.OK, 0)]
    [call] = rsps.calls
    assert body_of(call) == {"global_item_id": 9000, "stock_list": [
        {"global_model_id": 7001, "seller_stock": [{"stock": 4}]},
        {"global_model_id": 7002, "seller_stock": [{"stock": 0}]}]}
    query = query_of(call)
    assert query["merchant_id"] == "777001" and "shop_id" not in query
    base = f"{SETTINGS['partner_id']}/api/v2/global_product/update_stock{query['timestamp']}" \
           f"{SETTINGS['access_token']}777001"
    expected = hmac.new(SETTINGS["partner_key"].encode(), base.encode(), hashlib.sha256).hexdigest()
    assert query["sign"] == expected


def test_a_global_reply_without_error_field_confirms_nothing(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(GLOBAL_UPDATE, json={"request_id": "r1"})
    shopee = ShopeeAdapter("shopee_sg", {**SETTINGS, "shop_type": "krsc", "merchant_id": "1"}, clock=clock)
    [result] = shopee.push([StockUpdate(1, "TEE-M", 4, external_id="9000/7001")])
    assert result.outcome is Outcome.RETRY


def test_a_cnsc_shop_needs_its_merchant_id(clock: ManualClock) -> None:
    import pytest

    with pytest.raises(ValueError, match="merchant_id"):
        ShopeeAdapter("shopee_sg", {**SETTINGS, "shop_type": "cnsc"}, clock=clock)
