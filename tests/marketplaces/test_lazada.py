"""Lazada adapter against `responses`: signed sellable-stock updates, campaign lock, retries."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from tests.support.clock import ManualClock
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
    rsps.post(UPDATE, json=OK)
    results = adapter(clock).push([StockUpdate(1, "TEE-M", 20, external_id="234234234/234"),
                                   StockUpdate(2, "TEE-L", 0, external_id="234234234/235")])
    # The SKU detail does not name is sent again on its own: OK only once Lazada says "0" for it.
    assert params_of(rsps.calls[1])[1] == {"payload": xml(("234234234", "234", 20))}
    assert results[0].outcome is Outcome.OK and results[0].applied_quantity == 20
    assert results[1].outcome is Outcome.FAILED and results[1].category is FailureCategory.LOCKED
    assert "campaign lock" in results[1].message


def test_unnamed_sku_is_never_ok_on_a_failed_call(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    failed = {"code": "501", "type": "ISP", "message": "update failed", "request_id": "r",
              "detail": [{"SkuId": "235", "code": "5", "message": "SellableQuantity invalid"}]}
    rsps.post(UPDATE, json=failed)
    rsps.post(UPDATE, json={**failed, "detail": []})  # the re-send fails as a whole again
    first, second = adapter(clock).push([StockUpdate(1, "A", 3, external_id="9/234"),
                                         StockUpdate(2, "B", 4, external_id="9/235")])
    assert (first.outcome, second.outcome) == (Outcome.FAILED, Outcome.FAILED)
    assert first.message.startswith("501") and second.category is FailureCategory.VALIDATION
    assert len(rsps.calls) == 2


def test_detail_without_a_sku_handle_names_nobody(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    # "field" is the parameter at fault, not a SKU: it must not turn the other rows into successes.
    rsps.post(UPDATE, json={"code": "501", "type": "ISV", "message": "update failed", "request_id": "r",
                            "detail": [{"field": "SellableQuantity", "code": "5", "message": "bad value"}]})
    results = adapter(clock).push([StockUpdate(1, "A", 3, external_id="9/1"),
                                   StockUpdate(2, "B", 4, external_id="9/2")])
    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.FAILED]
    assert "not applied" in results[0].message and len(rsps.calls) == 1


def test_seller_sku_that_looks_like_a_sku_id_takes_no_other_verdict(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    rsps.post(UPDATE, json={"code": "501", "type": "ISV", "message": "update failed", "request_id": "r",
                            "detail": [{"SellerSku": "2", "code": "208", "message": "SKU not found"}]})
    rsps.post(UPDATE, json=OK)
    named, other = adapter(clock).push([StockUpdate(1, "2", 3, external_id="9/1"),
                                        StockUpdate(2, "B", 4, external_id="9/2")])
    assert named.category is FailureCategory.UNKNOWN_LISTING
    assert other.outcome is Outcome.OK


def test_transient_code_for_one_sku_retries_it(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json={"code": "501", "type": "ISP", "message": "update failed", "request_id": "r",
                            "detail": [{"SkuId": "1", "code": "6", "message": "internal error"}]})
    rsps.post(UPDATE, json=OK)
    busy, fine = adapter(clock).push([StockUpdate(1, "A", 3, external_id="9/1"),
                                      StockUpdate(2, "B", 4, external_id="9/2")])
    assert busy.outcome is Outcome.RETRY and busy.retry_at is not None and busy.retry_at > clock.now()
    assert fine.outcome is Outcome.OK


def test_batch_level_lock_without_detail_is_found_one_sku_per_call(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        payload = parse_qs(str(request.body))["payload"][0]
        if payload.count("<Sku>") > 1 or "<SkuId>2</SkuId>" in payload:
            return 200, {}, json.dumps({"code": "4170", "type": "ISV", "request_id": "r",
                                        "message": "Campaign locked stock: quantity cannot be lower than the "
                                                   "campaign lock (6)"})
        return 200, {}, json.dumps(OK)

    rsps.add_callback(responses.POST, UPDATE, callback=reply)
    results = adapter(clock).push([StockUpdate(i, f"S{i}", 2, external_id=f"9/{i}") for i in (1, 2, 3)])
    assert [r.outcome for r in results] == [Outcome.OK, Outcome.FAILED, Outcome.OK]
    assert results[1].category is FailureCategory.LOCKED
    assert "at least 6" in results[1].message and "2 refused" in results[1].message
    sent = [params_of(c)[1]["payload"] for c in rsps.calls]
    assert sent[1:] == [xml(("9", str(i), 2)) for i in (1, 2, 3)]  # the batch, then one probe per SKU


@pytest.mark.parametrize("code,message", [("501", "Seller account blocked for this action"),
                                          ("501", "clock skew too large"),
                                          ("E0017", "Product is unlocked for editing")])
def test_lock_is_not_a_substring_match(rsps: responses.RequestsMock, clock: ManualClock,
                                       code: str, message: str) -> None:
    rsps.post(UPDATE, json={"code": code, "type": "ISV", "message": message, "request_id": "r"})
    [result] = adapter(clock).push([StockUpdate(1, "S", 0, external_id="1/2")])
    assert result.outcome is Outcome.FAILED and result.category is not FailureCategory.LOCKED


def test_lock_phrase_without_a_lock_code_is_locked(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json={"code": "501", "type": "ISV", "message": "negative sellable after campaign lock",
                            "request_id": "r"})
    [result] = adapter(clock).push([StockUpdate(1, "S", 0, external_id="1/2")])
    assert result.category is FailureCategory.LOCKED and "did not say" in result.message


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


AUTH = "https://auth.lazada.com/rest/auth/token/refresh"
ILLEGAL = {"code": "IllegalAccessToken", "type": "ISV", "request_id": "r",
           "message": "The specified access token is invalid or expired"}


def refreshing(clock: ManualClock, **more: str) -> tuple[LazadaAdapter, list[tuple[str, str]]]:
    a = LazadaAdapter("lazada_sg", {**SETTINGS, "refresh_token": "lzd-refresh-token-def", **more}, clock=clock)
    rotated: list[tuple[str, str]] = []
    a.on_token_rotated = lambda key, value: rotated.append((key, value))
    return a, rotated


def test_illegal_access_token_refreshes_signed_and_rotates(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json=ILLEGAL)
    rsps.post(AUTH, json={"code": "0", "access_token": "lzd-access-new-1", "refresh_token": "lzd-refresh-new-1",
                          "expires_in": 604800, "refresh_expires_in": 2592000, "request_id": "r"})
    rsps.post(UPDATE, json=OK)
    a, rotated = refreshing(clock)
    [result] = a.push([StockUpdate(1, "S", 4, external_id="1/2")])
    assert result.outcome is Outcome.OK
    query, form = params_of(rsps.calls[1])
    assert form == {"refresh_token": "lzd-refresh-token-def"}
    assert "access_token" not in query and query["app_key"] == "100200"
    assert query["sign"] == expected_sign("/auth/token/refresh", {**query, **form})
    query, form = params_of(rsps.calls[2])
    assert query["access_token"] == "lzd-access-new-1"
    assert query["sign"] == expected_sign("/product/stock/sellable/update", {**query, **form})
    assert rotated == [("refresh_token", "lzd-refresh-new-1"), ("access_token", "lzd-access-new-1")]
    assert a.session.redact("x lzd-access-new-1 lzd-refresh-new-1") == "x *** ***"


def test_refreshed_token_is_renewed_before_it_expires(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json=ILLEGAL)
    rsps.post(AUTH, json={"code": "0", "access_token": "lzd-access-new-1", "refresh_token": "lzd-refresh-token-def",
                          "expires_in": 7200})
    rsps.post(UPDATE, json=OK)
    rsps.post(AUTH, json={"code": "0", "access_token": "lzd-access-new-2", "refresh_token": "lzd-refresh-token-def",
                          "expires_in": 7200})
    rsps.post(UPDATE, json=OK)
    a, rotated = refreshing(clock)
    a.push([StockUpdate(1, "S", 4, external_id="1/2")])
    clock.advance(3700)  # inside the last hour of the 2 h token
    [result] = a.push([StockUpdate(1, "S", 5, external_id="1/2")])
    assert result.outcome is Outcome.OK
    assert [urlsplit(c.request.url).path for c in rsps.calls][3:] == ["/rest/auth/token/refresh",
                                                                     "/rest/product/stock/sellable/update"]
    assert params_of(rsps.calls[4])[0]["access_token"] == "lzd-access-new-2"
    assert [k for k, _ in rotated] == ["access_token", "access_token"]  # same refresh token: not re-stored


def test_refused_refresh_is_auth_without_secrets(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json=ILLEGAL)
    rsps.post(f"{BASE}/auth/token/refresh", json={"code": "IllegalRefreshToken", "type": "ISV", "request_id": "r",
                                                  "message": "refresh token lzd-refresh-token-def expired"})
    a, rotated = refreshing(clock, token_url=BASE)
    [result] = a.push([StockUpdate(1, "S", 4, external_id="1/2")])
    assert result.outcome is Outcome.FAILED and result.category is FailureCategory.AUTH
    assert "IllegalRefreshToken" in result.message and "lzd-refresh-token-def" not in result.message
    assert rotated == []


def test_still_illegal_after_refresh_is_auth(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(UPDATE, json=ILLEGAL)
    rsps.post(AUTH, json={"code": "0", "access_token": "lzd-access-new-1", "expires_in": 604800})
    rsps.post(UPDATE, json=ILLEGAL)
    a, _ = refreshing(clock)
    [result] = a.push([StockUpdate(1, "S", 4, external_id="1/2")])
    assert result.category is FailureCategory.AUTH
    assert len(rsps.calls) == 3  # one refresh, not a loop


def test_against_the_sandbox_refresh_and_lock_floor() -> None:
    """The sandbox is written from Lazada's docs, not from this adapter: a stale access token
    is refreshed there (signed check included), and its campaign lock's floor is quoted."""
    import time

    from connector.sandbox.client import SandboxAdmin
    from connector.sandbox.server import start_sandbox

    account = {"app_key": "100001", "app_secret": "lazada-secret-1234", "access_token": "lzd-access-1234",
               "refresh_token": "lzd-refresh-1234"}
    with start_sandbox(seed={"accounts": {"lazada": [account]}, "listings": {"lazada": [
            {"sku": "MUG-RED", "external_id": "234234234/234", "quantity": 5}]}}) as sandbox:
        admin = SandboxAdmin(sandbox.url)
        settings = {**sandbox.channel_urls("lazada"), **account, "access_token": "lzd-stale-0000"}
        a = LazadaAdapter("lazada_sb", settings, clock=ManualClock(start=time.time()))
        rotated: list[str] = []
        a.on_token_rotated = lambda key, _value: rotated.append(key)
        try:
            [result] = a.push([StockUpdate(1, "MUG-RED", 7, external_id="234234234/234")])
            assert result.outcome is Outcome.OK, result
            assert rotated == ["access_token"]  # the sandbox hands the same refresh token back
            admin.set_faults("lazada", lock={"sku": "MUG-RED", "floor": 6})
            [locked] = a.push([StockUpdate(1, "MUG-RED", 2, external_id="234234234/234")])
            assert locked.category is FailureCategory.LOCKED and "at least 6" in locked.message
            assert admin.listing("lazada", "MUG-RED")["quantity"] == 7  # type: ignore[index]
        finally:
            a.close()
            admin.close()


def test_without_refresh_token_the_configured_token_outlives_seven_days(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    rsps.post(UPDATE, json=OK)
    rsps.post(UPDATE, json=OK)
    a = adapter(clock)
    a.push([StockUpdate(1, "S", 4, external_id="1/2")])
    clock.advance(8 * 24 * 3600)  # a live app's token lasts 30 days; only Lazada knows its age
    [result] = a.push([StockUpdate(1, "S", 5, external_id="1/2")])
    assert result.outcome is Outcome.OK
    assert params_of(rsps.calls[1])[0]["access_token"] == "lzd-access-token-abc"


# -- issue 17 item 5: multi-warehouse sellers ------------------------------------------------------
# Reference note: multi-warehouse sellers wrap values in <MultiWarehouseInventories>
# <MultiWarehouseInventory><WarehouseCode/>...; single-warehouse sellers must not. Inner
# element <Quantity> (an integrator's live probe; Lazada ignores unknown children with code 0).

ITEM_GET = f"{BASE}/product/item/get"


def item_reply(**warehouses: int) -> dict[str, object]:
    return {"code": "0", "request_id": "r", "data": {"item_id": 234234234, "skus": [{
        "SkuId": 234, "SellerSku": "TEE-M", "Status": "active",
        "multiWarehouseInventories": [{"warehouseCode": code, "quantity": qty, "sellableQuantity": qty}
                                      for code, qty in warehouses.items()]}]}}


def test_a_warehouse_channel_writes_its_warehouse_and_confirms_by_reading_it(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    rsps.post(UPDATE, json={"code": "0", "data": {}, "request_id": "r"})
    rsps.get(ITEM_GET, json=item_reply(dropshipping=7, **{"SG-WH-2": 40}))
    shop = LazadaAdapter("lazada_sg", {**SETTINGS, "warehouse_code": "dropshipping"}, clock=clock)
    [result] = shop.push([StockUpdate(1, "TEE-M", 7, external_id="234234234/234")])
    assert result.outcome is Outcome.OK and result.applied_quantity == 7
    _, form = params_of(rsps.calls[0])
    assert form["payload"] == (
        "<Request><Product><Skus><Sku><ItemId>234234234</ItemId><SkuId>234</SkuId>"
        "<MultiWarehouseInventories><MultiWarehouseInventory><WarehouseCode>dropshipping</WarehouseCode>"
        "<Quantity>7</Quantity></MultiWarehouseInventory></MultiWarehouseInventories></Sku></Skus></Product></Request>")
    # the read is the channel's warehouse, not the sum of all (7, not 47)
    assert shop.read([("TEE-M", "234234234/234")])[0].quantity == 7


def test_a_code_0_the_warehouse_does_not_show_is_accepted_not_applied(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    rsps.post(UPDATE, json={"code": "0", "data": {}, "request_id": "r"})
    rsps.get(ITEM_GET, json=item_reply(dropshipping=3))
    shop = LazadaAdapter("lazada_sg", {**SETTINGS, "warehouse_code": "dropshipping"}, clock=clock)
    [result] = shop.push([StockUpdate(1, "TEE-M", 7, external_id="234234234/234")])
    assert result.awaiting_confirmation and "shows 3" in result.message


def test_several_warehouses_without_a_warehouse_code_read_as_unknown_with_a_warning(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    rsps.get(ITEM_GET, json=item_reply(dropshipping=3, **{"SG-WH-2": 40}))
    shop = adapter(clock)
    [remote] = shop.read([("TEE-M", "234234234/234")])
    assert remote.quantity is None
    assert "warehouse_code" in shop.warnings()
