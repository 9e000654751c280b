"""Lazada adapter against `responses`: signed sellable-stock updates, campaign lock, retries."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

import pytest
import responses

from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from connector.marketplaces.http import ManualClock
from connector.marketplaces.lazada import LazadaAdapter
from connector.stock.model import PushAction
from tests.marketplaces.conftest import form_of, query_of
from tests.support.specs import validate_request

BASE = "https://api.lazada.sg/rest"
UPDATE = f"{BASE}/product/stock/sellable/update"
SETTINGS = {"base_url": BASE, "app_key": "100200", "app_secret": "lzd-app-secret-xyz",
            "access_token": "lzd-access-token-abc"}
OK = {"code": "0", "data": {}, "request_id": "0ba2"}


def adapter(clock: ManualClock) -> LazadaAdapter:
    return LazadaAdapter("lazada_sg", SETTINGS, clock=clock)


def params_of(call: responses.Call) -> tuple[dict[str, str], dict[str, str]]:
    return query_of(call), form_of(call)


def expected_sign(path: str, params: dict[str, str]) -> str:
    # From Lazada's doc: api path + sorted(name + value) of all params but sign, HMAC-SHA256, upper hex.
    text = path + "".join(k + params[k] for k in sorted(params) if k != "sign")
    return hmac.new(b"lzd-app-secret-xyz", text.encode(), hashlib.sha256).hexdigest().upper()


def xml(*rows: tuple[str, str, int]) -> str:
    return "<Request><Product><Skus>" + "".join(
        f"<Sku><ItemId>{i}</ItemId><SkuId>{s}</SkuId><SellableQuantity>{q}</SellableQuantity></Sku>"
        for i, s, q in rows) + "</Skus></Product></Request>"


def test_success_exact_signed_request(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json=OK)
    results = adapter(clock).push([StockUpdate(1, "TEE-M", 20, external_id="234234234/234"),
                                   StockUpdate(2, "TEE-L", 0, external_id="234234234/235")])
    call = rsps.calls[0]
    query, form = params_of(call)
    assert call.request.method == "POST"
    assert urlsplit(call.request.url).path == "/rest/product/stock/sellable/update"
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form == {"payload": xml(("234234234", "234", 20), ("234234234", "235", 0))}
    assert query["app_key"] == "100200" and query["access_token"] == "lzd-access-token-abc"
    assert query["sign_method"] == "sha256"
    assert query["timestamp"] == str(int(clock.now() * 1000))
    assert query["sign"] == expected_sign("/product/stock/sellable/update", {**query, **form})
    validate_request("lazada", "POST", call.request.url, call.request.body, dict(call.request.headers))
    assert [(r.outcome, r.applied_quantity) for r in results] == [(Outcome.OK, 20), (Outcome.OK, 0)]


def test_per_item_error_in_batch_from_detail(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json={"code": "501", "type": "ISV", "message": "update failed", "request_id": "r",
                            "detail": [{"SkuId": "235", "code": "4170", "message": "campaign lock: cannot decrease"}]})
    results = adapter(clock).push([StockUpdate(1, "TEE-M", 20, external_id="234234234/234"),
                                   StockUpdate(2, "TEE-L", 0, external_id="234234234/235")])
    assert results[0].outcome is Outcome.OK
    assert results[1].outcome is Outcome.FAILED and results[1].category is FailureCategory.LOCKED
    assert "campaign lock" in results[1].message


@pytest.mark.parametrize("code,message", [("4170", "stock locked by campaign"),
                                          ("212", "INV_NEGATIVE_SELLABLE: negative sellable")])
def test_campaign_lock_is_locked_and_not_retried(rsps: responses.RequestsMock, clock: ManualClock,
                                                 code: str, message: str) -> None:
    rsps.post(UPDATE, json={"code": code, "type": "ISV", "message": message, "request_id": "r"})
    [result] = adapter(clock).push([StockUpdate(1, "S", 0, external_id="1/2")])
    assert result.category is FailureCategory.LOCKED
    assert len(rsps.calls) == 1 and clock.sleeps == []


def test_429_retry_after_is_honoured(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, status=429, headers={"Retry-After": "3"}, body="")
    rsps.post(UPDATE, json=OK)
    [result] = adapter(clock).push([StockUpdate(1, "S", 4, external_id="1/2")])
    assert result.outcome is Outcome.OK and 3.0 in clock.sleeps
    query, form = params_of(rsps.calls[1])
    assert query["timestamp"] == str(int(clock.now() * 1000))  # re-signed with the new time
    assert query["sign"] == expected_sign("/product/stock/sellable/update", {**query, **form})


def test_api_call_limit_in_body_waits_one_second(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json={"code": "ApiCallLimit", "type": "ISP", "message": "too fast", "request_id": "r"})
    rsps.post(UPDATE, json=OK)
    [result] = adapter(clock).push([StockUpdate(1, "S", 4, external_id="1/2")])
    assert result.outcome is Outcome.OK and clock.sleeps[0] == 1.0


def test_5xx_then_success(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, status=503, body="")
    rsps.post(UPDATE, json=OK)
    [result] = adapter(clock).push([StockUpdate(1, "S", 4, external_id="1/2")])
    assert result.outcome is Outcome.OK and len(clock.sleeps) == 1


def test_illegal_access_token_is_auth_without_secrets(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json={"code": "IllegalAccessToken", "type": "ISV",
                            "message": "token lzd-access-token-abc expired", "request_id": "r"})
    [result] = adapter(clock).push([StockUpdate(1, "S", 4, external_id="1/2")])
    assert result.category is FailureCategory.AUTH
    assert "lzd-access-token-abc" not in result.message


def test_http_401_retried_once_then_success(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, status=401, body="")
    rsps.post(UPDATE, json=OK)
    # No auth provider: Lazada tokens are signed params, a 401 is reported, not retried.
    [result] = adapter(clock).push([StockUpdate(1, "S", 4, external_id="1/2")])
    assert result.category is FailureCategory.AUTH
    [again] = adapter(clock).push([StockUpdate(1, "S", 4, external_id="1/2")])
    assert again.outcome is Outcome.OK


def test_deactivate_and_reactivate(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json=OK)
    rsps.post(f"{BASE}/product/deactivate", json=OK)
    rsps.post(UPDATE, json=OK)
    rsps.post(f"{BASE}/product/update", json=OK)
    a = adapter(clock)
    [off] = a.push([StockUpdate(1, "S", 0, PushAction.DEACTIVATE, external_id="77/88")])
    [on] = a.push([StockUpdate(1, "S", 5, PushAction.REACTIVATE, external_id="77/88")])
    q, form = params_of(rsps.calls[1])
    assert form == {"apiRequestBody": "<Request><Product><ItemId>77</ItemId><Skus><SkuId>88</SkuId></Skus></Product></Request>"}
    assert q["sign"] == expected_sign("/product/deactivate", {**q, **form})
    _, form = params_of(rsps.calls[3])
    assert "<Status>active</Status>" in form["payload"]
    assert params_of(rsps.calls[2])[1] == {"payload": xml(("77", "88", 5))}
    assert (off.outcome, off.active, on.outcome, on.active) == (Outcome.OK, False, Outcome.OK, True)


def test_batch_split_at_limit(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    limit = LazadaAdapter.batch_limit
    rsps.post(UPDATE, json=OK)
    rsps.post(UPDATE, json=OK)
    results = adapter(clock).push([StockUpdate(i, f"S{i}", 1, external_id=f"1/{i}") for i in range(limit + 1)])
    assert [params_of(c)[1]["payload"].count("<Sku>") for c in rsps.calls] == [limit, 1]
    assert all(r.outcome is Outcome.OK for r in results)


def test_missing_ids_fail_without_a_call(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    [result] = adapter(clock).push([StockUpdate(1, "SELLER-SKU", 1)])
    assert result.category is FailureCategory.UNKNOWN_LISTING


def test_read_back(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.get(f"{BASE}/product/item/get", json={"code": "0", "data": {"item_id": 77, "skus": [
        {"SkuId": 88, "SellerSku": "S", "Status": "active", "quantity": 9, "Available": 7,
         "multiWarehouseInventories": [{"warehouseCode": "dropshipping", "quantity": 9, "sellableQuantity": 7,
                                        "occupyQuantity": 2, "withholdQuantity": 0, "totalQuantity": 9}]}]}})
    [listing, missing] = adapter(clock).read([("S", "77/88"), ("T", "77/99")])
    assert (listing.quantity, listing.active) == (7, True)
    assert missing.found is False
    query, _ = params_of(rsps.calls[0])
    assert query["item_id"] == "77"
    assert query["sign"] == expected_sign("/product/item/get", query)
