"""WooCommerce adapter against `responses`: exact requests, per-item errors, retries, auth."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, urlsplit

import responses
from responses import matchers

from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.marketplaces.woocommerce import WooCommerceAdapter, parse_external_id
from connector.stock.model import PushAction
from tests.marketplaces.conftest import body_of
from tests.sandbox.woo_oauth import header_params, signature
from tests.support.specs import validate_request

BASE = "https://shop.example"
BATCH = f"{BASE}/wp-json/wc/v3/products/batch"
SETTINGS = {"base_url": BASE, "consumer_key": "ck_live_key_1234", "consumer_secret": "cs_live_secret_5678"}
BASIC = "Basic " + base64.b64encode(b"ck_live_key_1234:cs_live_secret_5678").decode()


def adapter(clock: ManualClock, **overrides: str) -> WooCommerceAdapter:
    return WooCommerceAdapter("woo_shop", {**SETTINGS, **overrides}, clock=clock)


def test_external_id_forms() -> None:
    assert parse_external_id("799") == (None, 799)
    assert parse_external_id("12/800") == (12, 800)
    assert parse_external_id("abc") is None
    assert parse_external_id(None) is None


def test_success_sends_exact_batch_with_basic_auth(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(
        BATCH,
        json={"update": [
            {"id": 799, "stock_quantity": 12, "stock_status": "instock", "manage_stock": True, "status": "publish"},
            {"id": 800, "stock_quantity": 0, "stock_status": "outofstock", "manage_stock": True, "status": "publish"},
        ]},
    )
    results = adapter(clock).push([
        StockUpdate(listing_id=1, sku="A", quantity=12, external_id="799"),
        StockUpdate(listing_id=2, sku="B", quantity=0, external_id="800"),
    ])
    call = rsps.calls[0]
    assert call.request.method == "POST"
    assert call.request.url == BATCH
    assert call.request.headers["Authorization"] == BASIC
    assert call.request.headers["Content-Type"] == "application/json"
    assert body_of(call) == {"update": [
        {"id": 799, "manage_stock": True, "stock_quantity": 12},
        {"id": 800, "manage_stock": True, "stock_quantity": 0},
    ]}
    validate_request("woocommerce", "POST", call.request.url, call.request.body, dict(call.request.headers))
    assert [r.outcome for r in results] == [Outcome.OK, Outcome.OK]
    assert [r.applied_quantity for r in results] == [12, 0]
    assert results[0].active is True


HTTP_BASE = "http://127.0.0.1:9/woocommerce"


def _signed_params(call: responses.Call) -> dict[str, str]:
    """The OAuth parameters of a sent request, checked against a signature recomputed here."""
    request = call.request
    oauth = header_params(request.headers["Authorization"])
    split = urlsplit(request.url)
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    bare = f"{split.scheme}://{split.netloc}{split.path}"
    unsigned = {k: v for k, v in oauth.items() if k != "oauth_signature"}
    assert oauth["oauth_signature_method"] == "HMAC-SHA256"
    assert oauth["oauth_signature"] == signature(
        request.method, bare, {**query, **unsigned}, "cs_live_secret_5678", "HMAC-SHA256")
    return oauth


def test_plain_http_signs_oauth1_and_sends_no_keys(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    batch = f"{HTTP_BASE}/wp-json/wc/v3/products/batch"
    rsps.post(batch, match=[matchers.query_param_matcher({})],
              json={"update": [{"id": 5, "stock_quantity": 3, "manage_stock": True}]})
    results = adapter(clock, base_url=HTTP_BASE).push([StockUpdate(1, "A", 3, external_id="5")])
    assert results[0].outcome is Outcome.OK
    call = rsps.calls[0]
    oauth = _signed_params(call)
    assert oauth["oauth_consumer_key"] == "ck_live_key_1234"
    assert oauth["oauth_timestamp"] == str(int(clock.now()))
    assert len(oauth["oauth_nonce"]) >= 16
    assert "cs_live_secret_5678" not in call.request.url + str(call.request.headers)
    assert "consumer_key" not in call.request.url


def test_plain_http_read_signs_its_query_and_retries_with_a_fresh_nonce(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    url = f"{HTTP_BASE}/wp-json/wc/v3/products"
    rsps.get(url, status=503, body="busy")
    rsps.get(url, match=[matchers.query_param_matcher({"include": "799", "per_page": "100"})],
             json=[{"id": 799, "sku": "A", "stock_quantity": 4, "status": "publish"}])
    [listing] = adapter(clock, base_url=HTTP_BASE).read([("A", "799")])
    assert listing.quantity == 4
    first, second = (_signed_params(c) for c in rsps.calls)
    assert first["oauth_nonce"] != second["oauth_nonce"]


def test_variations_go_to_their_parent_batch(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(f"{BASE}/wp-json/wc/v3/products/12/variations/batch",
              json={"update": [{"id": 800, "stock_quantity": 4, "manage_stock": True}]})
    rsps.post(BATCH, json={"update": [{"id": 799, "stock_quantity": 1, "manage_stock": True}]})
    results = adapter(clock).push([
        StockUpdate(1, "VAR", 4, external_id="12/800"),
        StockUpdate(2, "SIMPLE", 1, external_id="799"),
    ])
    assert [r.outcome for r in results] == [Outcome.OK, Outcome.OK]
    assert body_of(rsps.calls[0]) == {"update": [{"id": 800, "manage_stock": True, "stock_quantity": 4}]}


def test_per_item_error_in_batch(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(BATCH, json={"update": [
        {"id": 799, "stock_quantity": 12, "manage_stock": True},
        {"id": 0, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.",
                            "data": {"status": 400}}},
    ]})
    results = adapter(clock).push([StockUpdate(1, "A", 12, external_id="799"),
                                   StockUpdate(2, "B", 3, external_id="800")])
    assert results[0].outcome is Outcome.OK
    assert results[1].outcome is Outcome.FAILED
    assert results[1].category is FailureCategory.UNKNOWN_LISTING
    assert results[1].message == "Invalid ID."


def test_stock_not_managed_store_wide_is_a_failure(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(BATCH, json={"update": [{"id": 799, "stock_quantity": None, "manage_stock": False}]})
    [result] = adapter(clock).push([StockUpdate(1, "A", 12, external_id="799")])
    assert result.outcome is Outcome.FAILED and result.category is FailureCategory.VALIDATION


def test_missing_external_id_is_unknown_listing(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    [result] = adapter(clock).push([StockUpdate(1, "A", 12)])
    assert result.category is FailureCategory.UNKNOWN_LISTING
    assert len(rsps.calls) == 0


def test_429_retry_after_is_honoured(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(BATCH, status=429, headers={"Retry-After": "7"}, json={"code": "too_many"})
    rsps.post(BATCH, json={"update": [{"id": 799, "stock_quantity": 2, "manage_stock": True}]})
    [result] = adapter(clock).push([StockUpdate(1, "A", 2, external_id="799")])
    assert result.outcome is Outcome.OK
    assert 7.0 in clock.sleeps
    assert sum(clock.sleeps) >= 7.0


def test_5xx_then_success(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(BATCH, status=503, body="busy")
    rsps.post(BATCH, json={"update": [{"id": 799, "stock_quantity": 2, "manage_stock": True}]})
    [result] = adapter(clock).push([StockUpdate(1, "A", 2, external_id="799")])
    assert result.outcome is Outcome.OK
    assert len(rsps.calls) == 2 and len(clock.sleeps) == 1


def test_5xx_forever_becomes_retry_result(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(BATCH, status=502, body="bad gateway")
    [result] = adapter(clock).push([StockUpdate(1, "A", 2, external_id="799")])
    assert result.outcome is Outcome.RETRY
    assert result.retry_at is not None and result.retry_at > clock.now() - 1
    assert len(rsps.calls) == 5


def test_401_once_then_success_and_401_twice_is_auth(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(BATCH, status=401, json={"code": "woocommerce_rest_cannot_edit", "message": "no"})
    rsps.post(BATCH, json={"update": [{"id": 799, "stock_quantity": 2, "manage_stock": True}]})
    [ok] = adapter(clock).push([StockUpdate(1, "A", 2, external_id="799")])
    assert ok.outcome is Outcome.OK

    rsps.post(BATCH, status=401, json={"message": "Consumer secret cs_live_secret_5678 is invalid."})
    rsps.post(BATCH, status=401, json={"message": "Consumer secret cs_live_secret_5678 is invalid."})
    [failed] = adapter(clock).push([StockUpdate(1, "A", 2, external_id="799")])
    assert failed.category is FailureCategory.AUTH
    assert "cs_live_secret_5678" not in failed.message


def test_zero_deactivate_and_reactivate(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(BATCH, json={"update": [{"id": 799, "stock_quantity": 0, "manage_stock": True, "status": "private"}]})
    rsps.post(BATCH, json={"update": [{"id": 799, "stock_quantity": 5, "manage_stock": True, "status": "publish"}]})
    a = adapter(clock)
    [off] = a.push([StockUpdate(1, "A", 0, PushAction.DEACTIVATE, external_id="799")])
    [on] = a.push([StockUpdate(1, "A", 5, PushAction.REACTIVATE, external_id="799")])
    assert body_of(rsps.calls[0]) == {"update": [{"id": 799, "manage_stock": True, "stock_quantity": 0, "status": "private"}]}
    assert body_of(rsps.calls[1]) == {"update": [{"id": 799, "manage_stock": True, "stock_quantity": 5, "status": "publish"}]}
    assert (off.outcome, off.active, on.outcome, on.active) == (Outcome.OK, False, Outcome.OK, True)


def test_batch_split_at_limit(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    limit = WooCommerceAdapter.batch_limit
    updates = [StockUpdate(i, f"S{i}", 1, external_id=str(1000 + i)) for i in range(limit + 1)]

    def reply(request):  # type: ignore[no-untyped-def]
        items = json.loads(request.body)["update"]
        return 200, {}, json.dumps({"update": [{"id": it["id"], "stock_quantity": 1, "manage_stock": True} for it in items]})

    rsps.add_callback(responses.POST, BATCH, callback=reply)
    results = adapter(clock).push(updates)
    assert len(rsps.calls) == 2
    assert [len(body_of(c)["update"]) for c in rsps.calls] == [limit, 1]
    assert all(r.outcome is Outcome.OK for r in results)


def test_read_back(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.get(f"{BASE}/wp-json/wc/v3/products",
             match=[matchers.query_param_matcher({"include": "799,801", "per_page": "100"})],
             json=[{"id": 799, "sku": "A", "stock_quantity": 4, "status": "publish", "manage_stock": True,
                    "stock_status": "instock"}])
    listings = adapter(clock).read([("A", "799"), ("B", "801")])
    assert (listings[0].quantity, listings[0].active, listings[0].found) == (4, True, True)
    assert listings[1].found is False


# -- issue 17 item 7: hosts that strip the Authorization header ----------------------------------
# WooCommerce REST API docs, "Authentication over HTTPS": "Occasionally some servers may not
# parse the Authorization header correctly (if you see a "Consumer key is missing" error when
# authenticating over SSL, you have a server issue). In this case, you may provide the
# consumer key/secret as query string parameters instead."


def test_query_string_auth_sends_the_keys_as_parameters_over_https(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.post(BATCH, json={"update": [{"id": 799, "manage_stock": True, "stock_quantity": 3, "status": "publish"}]})
    [result] = adapter(clock, query_string_auth="true").push([StockUpdate(1, "MUG", 3, external_id="799")])
    assert result.outcome is Outcome.OK
    call = rsps.calls[0]
    assert dict(parse_qsl(urlsplit(call.request.url).query)) == {
        "consumer_key": "ck_live_key_1234", "consumer_secret": "cs_live_secret_5678"}
    assert "Authorization" not in call.request.headers


def test_query_string_auth_is_refused_over_plain_http(clock: ManualClock) -> None:
    import pytest

    with pytest.raises(ValueError, match="https"):
        adapter(clock, base_url="http://shop.example", query_string_auth="true")


def test_a_401_over_https_names_query_string_auth_without_the_secret(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    refused = {"code": "woocommerce_rest_cannot_edit", "message": "Sorry, you are not allowed to edit this resource.",
               "data": {"status": 401}}
    rsps.post(BATCH, status=401, json=refused)
    rsps.post(BATCH, status=401, json=refused)
    [result] = adapter(clock).push([StockUpdate(1, "MUG", 3, external_id="799")])
    assert result.outcome is Outcome.FAILED and result.category is FailureCategory.AUTH
    assert "query_string_auth" in result.message and "strip the Authorization header" in result.message
    assert "cs_live_secret_5678" not in result.message
