"""Kaufland adapter against mocked Seller API v2 replies: exact requests with the
signature recomputed here from Kaufland's docs, the bulk unit update's 207 per-unit
results, throttling, zero stock (on hold, also for END/RELIST) and the 150-unit limit.
Bodies are checked against the published swagger (tests.support.specs)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest
import responses

from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.marketplaces.kaufland import KauflandAdapter
from connector.stock.model import PushAction
from tests.marketplaces.conftest import text_of
from tests.support.specs import validate_request, validate_response

HOST = "https://sellerapi.kaufland.com"
SECRET = "kaufland-secret-abcdef"
SETTINGS = {"base_url": HOST, "client_key": "client-key-123", "secret_key": SECRET, "storefront": "de"}
BULK = f"{HOST}/v2/units/bulk?storefront=de"


def unit(id_unit: int, amount: int, status: str = "AVAILABLE") -> dict[str, Any]:
    return {
        "id_unit": id_unit, "status": status, "currency": "EUR", "condition": "NEW", "note": None,
        "id_warehouse": None, "id_shipping_group": None, "id_offer": "SKU-1", "listing_price": 1999,
        "minimum_price": 1999, "price": 1999, "id_product": 1, "amount": amount,
        "date_inserted_iso": "2025-01-01T00:00:00.000Z", "date_lastchange_iso": "2025-01-01T00:00:00.000Z",
        "handling_time": 1, "shipping_rate": 0, "storefront": "de", "transport_time_min": 1,
        "transport_time_max": 2, "fulfillment_type": "fulfilled_by_merchant", "vat_indicator": "standard_rate",
    }


def updated(*units: tuple[int, int]) -> dict[str, Any]:
    return {"data": [{"id_unit": i, "status_code": 200, "unit": unit(i, a)} for i, a in units]}


def expected_signature(method: str, url: str, body: str, timestamp: str) -> str:
    """Written from Kaufland's docs: HMAC-SHA256 over METHOD, URI, BODY, TIMESTAMP joined by \\n."""
    plain = method + "\n" + url + "\n" + body + "\n" + timestamp
    return hmac.new(SECRET.encode("utf-8"), plain.encode("utf-8"), hashlib.sha256).hexdigest()


@pytest.fixture
def adapter(clock: ManualClock) -> Iterator[KauflandAdapter]:
    with closing(KauflandAdapter("kaufland_de", SETTINGS, clock=clock)) as a:
        yield a


def assert_signed(call: responses.Call) -> None:
    headers = call.request.headers
    assert headers["Shop-Client-Key"] == "client-key-123"
    ts = headers["Shop-Timestamp"]
    assert headers["Shop-Signature"] == expected_signature(
        call.request.method, call.request.url, text_of(call), ts)


def test_push_sends_the_exact_signed_bulk_request(adapter: KauflandAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    reply = updated((338765432, 7))
    mock.post(BULK, status=207, json=reply)

    [result] = adapter.push([StockUpdate(1, "4006381333931", 7, external_id="338765432")])

    assert (result.outcome, result.applied_quantity, result.active) == (Outcome.OK, 7, True)
    [call] = mock.calls
    assert call.request.method == "POST" and call.request.url == BULK
    assert text_of(call) == '[{"id_unit":338765432,"unit_data":{"amount":7}}]'
    assert call.request.headers["Content-Type"] == "application/json"
    assert call.request.headers["Accept"] == "application/json"
    assert call.request.headers["User-Agent"]
    assert call.request.headers["Shop-Timestamp"] == str(int(clock.now()))
    assert_signed(call)
    validate_request("kaufland", "POST", BULK, text_of(call), dict(call.request.headers))
    validate_response("kaufland", "POST", BULK, 207, json.dumps(reply))


def test_every_retry_is_signed_afresh(adapter: KauflandAdapter, mock: responses.RequestsMock) -> None:
    mock.post(BULK, status=503, headers={"Retry-After": "2"}, json={"message": "unavailable", "errors": []})
    mock.post(BULK, status=207, json=updated((5, 1)))
    [result] = adapter.push([StockUpdate(1, "e", 1, external_id="5")])
    assert result.outcome is Outcome.OK
    first, second = mock.calls
    assert_signed(first)
    assert_signed(second)
    assert int(second.request.headers["Shop-Timestamp"]) > int(first.request.headers["Shop-Timestamp"])


def test_per_unit_errors_in_a_bulk(adapter: KauflandAdapter, mock: responses.RequestsMock) -> None:
    mock.post(BULK, status=207, json={"data": [
        {"id_unit": 1, "status_code": 200, "unit": unit(1, 3)},
        {"id_unit": 2, "status_code": 400, "message": "Parameters [listingPrice] are missing or have wrong value.",
         "errors": [{"field": "listing_price", "message": "listing_price must be greater than 0"}]},
        {"id_unit": 3, "status_code": 404, "message": "Unit not found", "errors": []},
        {"id_unit": 4, "status_code": 500, "key": "internal", "message": "Internal error"},
    ]})
    a, b, c, d = adapter.push([StockUpdate(i, f"e{i}", 3, external_id=str(i)) for i in range(1, 5)])
    assert a.outcome is Outcome.OK
    assert b.category is FailureCategory.VALIDATION
    assert b.message == ("Parameters [listingPrice] are missing or have wrong value.; "
                         "listing_price: listing_price must be greater than 0")
    assert c.category is FailureCategory.UNKNOWN_LISTING
    assert d.outcome is Outcome.RETRY


def test_wrong_signature_fails_clearly_without_secrets(adapter: KauflandAdapter, mock: responses.RequestsMock) -> None:
    mock.post(BULK, status=401, json={"type": "/problems/corrupted-signature",
                                      "message": "Signature is corrupt", "errors": []})
    [result] = adapter.push([StockUpdate(1, "e", 1, external_id="5")])
    assert result.category is FailureCategory.AUTH and "401" in result.message
    assert SECRET not in result.message
    assert len(mock.calls) == 1  # no token to refresh: one try, no loop


def test_429_waits_the_retry_after(adapter: KauflandAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    mock.post(BULK, status=429, headers={"Retry-After": "5"}, json={"message": "Too many requests", "errors": []})
    mock.post(BULK, status=207, json=updated((5, 1)))
    [result] = adapter.push([StockUpdate(1, "e", 1, external_id="5")])
    assert result.outcome is Outcome.OK
    assert clock.sleeps[0] == 5.0
    assert len(mock.calls) == 2


def test_5xx_then_success(adapter: KauflandAdapter, mock: responses.RequestsMock) -> None:
    mock.post(BULK, status=500, json={"message": "boom", "errors": []})
    mock.post(BULK, status=207, json=updated((5, 1)))
    [result] = adapter.push([StockUpdate(1, "e", 1, external_id="5")])
    assert result.outcome is Outcome.OK and len(mock.calls) == 2


def test_deactivate_puts_on_hold_and_reactivate_makes_available(adapter: KauflandAdapter, mock: responses.RequestsMock) -> None:
    mock.post(BULK, status=207, json={"data": [{"id_unit": 5, "status_code": 200, "unit": unit(5, 0, "ONHOLD")}]})
    mock.post(BULK, status=207, json=updated((5, 4)))
    [off] = adapter.push([StockUpdate(1, "e", 0, action=PushAction.DEACTIVATE, external_id="5")])
    [on] = adapter.push([StockUpdate(1, "e", 4, action=PushAction.REACTIVATE, external_id="5")])
    assert (off.outcome, off.applied_quantity, off.active) == (Outcome.OK, 0, False)
    assert (on.outcome, on.applied_quantity, on.active) == (Outcome.OK, 4, True)
    bodies = [json.loads(text_of(c)) for c in mock.calls]
    assert bodies == [[{"id_unit": 5, "unit_data": {"amount": 0, "status": "ONHOLD"}}],
                      [{"id_unit": 5, "unit_data": {"amount": 4, "status": "AVAILABLE"}}]]
    for call in mock.calls:
        validate_request("kaufland", "POST", BULK, text_of(call), dict(call.request.headers))


def test_end_and_relist_keep_the_unit_on_hold_and_back(adapter: KauflandAdapter, mock: responses.RequestsMock) -> None:
    """END/RELIST never delete/create a unit: a new unit would get a new id_unit the
    listing's external_id does not know, and every later push would 404."""
    mock.post(BULK, status=207, json={"data": [{"id_unit": 5, "status_code": 200, "unit": unit(5, 0, "ONHOLD")}]})
    mock.post(BULK, status=207, json=updated((5, 3)))
    [end] = adapter.push([StockUpdate(1, "4006381333931", 0, action=PushAction.END, external_id="5")])
    [relist] = adapter.push([StockUpdate(1, "4006381333931", 3, action=PushAction.RELIST, external_id="5")])
    assert (end.outcome, end.applied_quantity, end.active) == (Outcome.OK, 0, False)
    assert (relist.outcome, relist.applied_quantity, relist.active) == (Outcome.OK, 3, True)
    assert [(c.request.method, c.request.url) for c in mock.calls] == [("POST", BULK), ("POST", BULK)]
    bodies = [json.loads(text_of(c)) for c in mock.calls]
    assert bodies == [[{"id_unit": 5, "unit_data": {"amount": 0, "status": "ONHOLD"}}],
                      [{"id_unit": 5, "unit_data": {"amount": 3, "status": "AVAILABLE"}}]]
    for call in mock.calls:
        assert_signed(call)
        validate_request("kaufland", "POST", BULK, text_of(call), dict(call.request.headers))


def test_batch_split_at_150(adapter: KauflandAdapter, mock: responses.RequestsMock) -> None:
    updates = [StockUpdate(i, f"e{i}", 1, external_id=str(i)) for i in range(1, KauflandAdapter.batch_limit + 2)]
    mock.post(BULK, status=207, json=updated(*[(i, 1) for i in range(1, 151)]))
    mock.post(BULK, status=207, json=updated((151, 1)))
    assert all(r.outcome is Outcome.OK for r in adapter.push(updates))
    assert [len(json.loads(text_of(c))) for c in mock.calls] == [150, 1]


def test_missing_unit_id_is_an_unknown_listing(adapter: KauflandAdapter) -> None:
    [result] = adapter.push([StockUpdate(1, "e", 1)])
    assert result.category is FailureCategory.UNKNOWN_LISTING


def test_read_back(adapter: KauflandAdapter, mock: responses.RequestsMock) -> None:
    mock.get(f"{HOST}/v2/units/5?storefront=de", json={"data": unit(5, 9)})
    mock.get(f"{HOST}/v2/units/6?storefront=de", status=404, json={"message": "Unit not found", "errors": []})
    mock.get(f"{HOST}/v2/units?storefront=de&ean=4006381333931", json={"data": [unit(8, 2, "ONHOLD")]})
    a, b, c = adapter.read([("x", "5"), ("y", "6"), ("4006381333931", None)])
    assert (a.quantity, a.active, a.found) == (9, True, True)
    assert b.found is False
    assert (c.quantity, c.active) == (2, False)
    for call in mock.calls:
        assert_signed(call)


def test_falls_back_to_one_patch_per_unit_without_the_bulk_route(adapter: KauflandAdapter, mock: responses.RequestsMock) -> None:
    mock.post(BULK, status=404, json={"message": "Not found", "errors": []})
    mock.patch(f"{HOST}/v2/units/5?storefront=de", json={"data": unit(5, 2)})
    mock.patch(f"{HOST}/v2/units/6?storefront=de", status=404, json={"message": "Unit not found", "errors": []})
    a, b = adapter.push([StockUpdate(1, "e", 2, external_id="5"), StockUpdate(2, "f", 2, external_id="6")])
    assert (a.outcome, a.applied_quantity) == (Outcome.OK, 2)
    assert b.category is FailureCategory.UNKNOWN_LISTING
    patch = mock.calls[1]
    assert patch.request.method == "PATCH" and text_of(patch) == '{"amount":2}'
    assert_signed(patch)
    validate_request("kaufland", "PATCH", patch.request.url, text_of(patch), dict(patch.request.headers))
    adapter.push([StockUpdate(1, "e", 3, external_id="5")])
    assert [c.request.method for c in mock.calls] == ["POST", "PATCH", "PATCH", "PATCH"]  # bulk not retried
