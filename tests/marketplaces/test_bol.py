"""bol.com adapter against mocked Retailer/Shared API replies: exact requests, the
client-credentials token, process-status following, throttling and zero stock. Bodies are
checked against bol's published v10 specs (tests.support.specs)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import closing

import pytest
import responses

from connector.marketplaces.base import FailureCategory, Outcome, StockUpdate
from connector.marketplaces.bol import BolAdapter
from tests.support.clock import ManualClock
from connector.stock.model import PushAction
from tests.marketplaces.conftest import body_of, token_replies
from tests.support.specs import specs_dir, validate_request, validate_response

HOST = "https://api.bol.com"
TOKEN_URL = "https://login.bol.com/token"
MEDIA = "application/vnd.retailer.v10+json"
SETTINGS = {"base_url": HOST, "token_url": TOKEN_URL, "client_id": "bol-client", "client_secret": "bol-secret-xyz"}
OFFER = "6ff736b5-cdd0-4150-8c67-78269ee986f5"
STATUS_URL = f"{HOST}/shared/process-status"


def stock_url(offer: str) -> str:
    return f"{HOST}/retailer/offers/{offer}/stock"


def process(pid: str, status: str, offer: str = OFFER, error: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "processStatusId": pid, "entityId": offer, "eventType": "UPDATE_OFFER_STOCK",
        "description": f"Update stock for offer {offer}", "status": status,
        "createTimestamp": "2025-06-15T10:00:00+02:00",
        "links": [{"rel": "self", "href": f"{STATUS_URL}/{pid}", "method": "GET"}],
    }
    if error:
        body["errorMessage"] = error
    return body


@pytest.fixture
def adapter(clock: ManualClock) -> Iterator[BolAdapter]:
    with closing(BolAdapter("bol_nl", SETTINGS, clock=clock)) as a:
        yield a


def token_reply(mock: responses.RequestsMock, *tokens: str) -> None:
    token_replies(mock, f"{TOKEN_URL}?grant_type=client_credentials", tokens,
                  token_type="Bearer", expires_in=299, scope="RETAILER")


def calls(mock: responses.RequestsMock, method: str, prefix: str) -> list[responses.Call]:
    return [c for c in mock.calls if c.request.method == method and c.request.url.startswith(prefix)]


def test_push_writes_then_follows_the_process_status(adapter: BolAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "bol-access-1")
    mock.put(stock_url(OFFER), status=202, json=process("111", "PENDING"))
    mock.post(STATUS_URL, json={"processStatuses": [process("111", "PENDING")]})
    mock.post(STATUS_URL, json={"processStatuses": [process("111", "SUCCESS")]})

    [result] = adapter.push([StockUpdate(1, "8712345678906", 6, external_id=OFFER)])

    assert result.outcome is Outcome.OK and result.applied_quantity == 6
    token_call = mock.calls[0]
    assert token_call.request.url == f"{TOKEN_URL}?grant_type=client_credentials"
    expected_basic = "Basic " + base64.b64encode(b"bol-client:bol-secret-xyz").decode()
    assert token_call.request.headers["Authorization"] == expected_basic
    [put] = calls(mock, "PUT", HOST)
    assert put.request.url == stock_url(OFFER)
    assert put.request.headers["Authorization"] == "Bearer bol-access-1"
    assert put.request.headers["Accept"] == MEDIA
    assert put.request.headers["Content-Type"] == MEDIA
    assert body_of(put) == {"amount": 6, "managedByRetailer": True}
    validate_request("bol", "PUT", put.request.url, body_of(put), dict(put.request.headers))  # type: ignore[arg-type]
    validate_response("bol", "PUT", put.request.url, 202, json.dumps(process("111", "PENDING")))
    polls = calls(mock, "POST", STATUS_URL)
    assert len(polls) == 2
    assert body_of(polls[0]) == {"processStatusQueries": [{"processStatusId": "111"}]}
    validate_request("bol", "POST", STATUS_URL, body_of(polls[0]), dict(polls[0].request.headers))  # type: ignore[arg-type]


def test_amount_is_capped_at_999(adapter: BolAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.put(stock_url(OFFER), status=202, json=process("1", "SUCCESS"))
    [result] = adapter.push([StockUpdate(1, "E", 5000, external_id=OFFER)])
    assert result.applied_quantity == 999
    assert body_of(calls(mock, "PUT", HOST)[0]) == {"amount": 999, "managedByRetailer": True}


def test_max_quantity_is_the_specs_stock_maximum() -> None:
    """The computation caps at max_quantity, so it must be bol's own documented limit."""
    spec = json.loads((specs_dir() / "bol" / "retailer.json").read_text())
    amount = spec["components"]["schemas"]["UpdateOfferStockRequest"]["properties"]["amount"]
    assert BolAdapter.max_quantity == amount["maximum"] == 999


def test_failures_in_a_batch_are_per_offer(adapter: BolAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.put(stock_url("A"), status=202, json=process("1", "PENDING", "A"))
    mock.put(stock_url("B"), status=202, json=process("2", "PENDING", "B"))
    problem = {"type": "https://api.bol.com/problems", "title": "Not Found", "status": 404,
               "detail": "Offer with id C not found", "host": "x", "instance": stock_url("C"), "violations": []}
    mock.put(stock_url("C"), status=404, json=problem)
    mock.post(STATUS_URL, json={"processStatuses": [
        process("1", "SUCCESS", "A"),
        process("2", "FAILURE", "B", error="Amount exceeds the allowed maximum for this offer"),
    ]})

    a, b, c = adapter.push([StockUpdate(1, "a", 1, external_id="A"), StockUpdate(2, "b", 2, external_id="B"),
                            StockUpdate(3, "c", 3, external_id="C"), ])

    assert a.outcome is Outcome.OK
    assert b.outcome is Outcome.FAILED and b.category is FailureCategory.VALIDATION
    assert b.message == "Amount exceeds the allowed maximum for this offer"
    assert c.category is FailureCategory.UNKNOWN_LISTING and "not found" in c.message
    # both pending statuses were followed in ONE bulk query
    [poll] = calls(mock, "POST", STATUS_URL)
    assert body_of(poll) == {"processStatusQueries": [{"processStatusId": "1"}, {"processStatusId": "2"}]}


def test_still_pending_at_the_deadline_is_retryable(adapter: BolAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    token_reply(mock, "t")
    mock.put(stock_url(OFFER), status=202, json=process("9", "PENDING"))
    mock.post(STATUS_URL, json={"processStatuses": [process("9", "PENDING")]})
    start = clock.now()
    [result] = adapter.push([StockUpdate(1, "E", 2, external_id=OFFER)])
    assert result.outcome is Outcome.RETRY and "still pending" in result.message
    # accepted by bol (202 + PENDING), not yet applied: status counts it as such (issue 17 item 6)
    assert result.awaiting_confirmation and result.deferred
    assert clock.now() - start <= adapter.poll_timeout_s + 1  # bounded, on the session clock
    assert 3 <= len(calls(mock, "POST", STATUS_URL)) <= 12


def test_429_waits_the_retry_after(adapter: BolAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    token_reply(mock, "t")
    mock.put(stock_url(OFFER), status=429, headers={"Retry-After": "4", "x-ratelimit-limit": "25"},
             json={"type": "https://api.bol.com/problems", "title": "Too many requests", "status": 429,
                   "detail": "Too many requests", "violations": []})
    mock.put(stock_url(OFFER), status=202, json=process("1", "SUCCESS"))
    [result] = adapter.push([StockUpdate(1, "E", 2, external_id=OFFER)])
    assert result.outcome is Outcome.OK
    assert clock.sleeps[0] == 4.0
    assert len(calls(mock, "PUT", HOST)) == 2


def test_429_without_retry_after_uses_x_ratelimit_reset(adapter: BolAdapter, mock: responses.RequestsMock, clock: ManualClock) -> None:
    token_reply(mock, "t")
    mock.put(stock_url(OFFER), status=429, headers={"x-ratelimit-reset": "7"}, json={})
    mock.put(stock_url(OFFER), status=202, json=process("1", "SUCCESS"))
    [result] = adapter.push([StockUpdate(1, "E", 2, external_id=OFFER)])
    assert result.outcome is Outcome.OK and clock.sleeps[0] == 7.0


def test_5xx_then_success(adapter: BolAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.put(stock_url(OFFER), status=502, body="bad gateway")
    mock.put(stock_url(OFFER), status=202, json=process("1", "SUCCESS"))
    [result] = adapter.push([StockUpdate(1, "E", 2, external_id=OFFER)])
    assert result.outcome is Outcome.OK
    assert len(calls(mock, "PUT", HOST)) == 2


def test_401_refreshes_the_token_once(adapter: BolAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "old", "new")
    mock.put(stock_url(OFFER), status=401, json={})
    mock.put(stock_url(OFFER), status=202, json=process("1", "SUCCESS"))
    [result] = adapter.push([StockUpdate(1, "E", 2, external_id=OFFER)])
    assert result.outcome is Outcome.OK
    assert len(calls(mock, "POST", TOKEN_URL)) == 2
    assert [c.request.headers["Authorization"] for c in calls(mock, "PUT", HOST)] == ["Bearer old", "Bearer new"]


def test_401_twice_is_an_auth_failure_without_secrets(adapter: BolAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "old", "new")
    mock.put(stock_url(OFFER), status=401, json={"detail": "bol-secret-xyz rejected"})
    [result] = adapter.push([StockUpdate(1, "E", 2, external_id=OFFER)])
    assert result.category is FailureCategory.AUTH
    assert "bol-secret-xyz" not in result.message


def test_zero_stock_and_back(adapter: BolAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.put(stock_url(OFFER), status=202, json=process("1", "SUCCESS"))
    [zero] = adapter.push([StockUpdate(1, "E", 0, action=PushAction.SET, external_id=OFFER)])
    [back] = adapter.push([StockUpdate(1, "E", 3, action=PushAction.REACTIVATE, external_id=OFFER)])
    assert (zero.outcome, zero.applied_quantity) == (Outcome.OK, 0)
    assert (back.outcome, back.applied_quantity) == (Outcome.OK, 3)
    assert [body_of(c) for c in calls(mock, "PUT", HOST)] == [
        {"amount": 0, "managedByRetailer": True}, {"amount": 3, "managedByRetailer": True}]


def test_batch_limit_is_one_offer_per_write(adapter: BolAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.put(stock_url("A"), status=202, json=process("1", "SUCCESS", "A"))
    mock.put(stock_url("B"), status=202, json=process("2", "SUCCESS", "B"))
    updates = [StockUpdate(1, "a", 1, external_id="A"), StockUpdate(2, "b", 1, external_id="B")]
    assert len(updates) == BolAdapter.batch_limit + 1
    assert [r.outcome for r in adapter.push(updates)] == [Outcome.OK, Outcome.OK]
    assert len(calls(mock, "PUT", HOST)) == 2


def test_listing_without_offer_id_is_unknown(adapter: BolAdapter) -> None:
    [result] = adapter.push([StockUpdate(1, "E", 2)])
    assert result.category is FailureCategory.UNKNOWN_LISTING


def test_read_back(adapter: BolAdapter, mock: responses.RequestsMock) -> None:
    token_reply(mock, "t")
    mock.get(f"{HOST}/retailer/offers/{OFFER}", json={
        "offerId": OFFER, "ean": "8712345678906", "onHoldByRetailer": False,
        "stock": {"amount": 6, "correctedStock": 5, "managedByRetailer": True}})
    mock.get(f"{HOST}/retailer/offers/GONE", status=404, json={})
    a, b = adapter.read([("8712345678906", OFFER), ("x", "GONE")])
    assert (a.quantity, a.active, a.found) == (6, True, True)
    assert b.found is False


# -- issue 17 item 10: the successor of the deprecated v10 stock endpoint ---------------------------


def test_the_v10_stock_operation_is_marked_deprecated_in_the_spec() -> None:
    """Why the successor exists: bol's v10 spec marks update-offer-stock deprecated."""
    spec = json.loads((specs_dir() / "bol" / "retailer.json").read_text())
    assert spec["paths"]["/retailer/offers/{offer-id}/stock"]["put"]["deprecated"] is True


def test_offers_api_v11_patches_the_offer_and_confirms_by_reading_it(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    """Setting offers_api = v11: PATCH /retailer/offers/{id} with the v11 media type and
    {"stock": {...}} (bol reference note; no v11 spec stored), confirmed by a v11 read."""
    token_replies(rsps, TOKEN_URL, ["t"], expires_in=299)
    offer_url = f"{HOST}/retailer/offers/{OFFER}"
    rsps.patch(offer_url, status=204)
    rsps.get(offer_url, json={"offerId": OFFER, "stock": {"amount": 7, "correctedStock": 7,
                                                          "managedByRetailer": True}})
    with closing(BolAdapter("bol_nl", {**SETTINGS, "offers_api": "v11"}, clock=clock)) as adapter:
        [result] = adapter.push([StockUpdate(1, "8712345678906", 7, external_id=OFFER)])
    assert result.outcome is Outcome.OK and result.applied_quantity == 7
    patch, read = rsps.calls[1], rsps.calls[2]
    assert patch.request.method == "PATCH" and body_of(patch) == {"stock": {"amount": 7, "managedByRetailer": True}}
    for call in (patch, read):
        assert call.request.headers["Accept"] == "application/vnd.retailer.v11+json"
    assert patch.request.headers["Content-Type"] == "application/vnd.retailer.v11+json"


def test_offers_api_v11_not_yet_shown_is_accepted_not_applied(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    token_replies(rsps, TOKEN_URL, ["t"], expires_in=299)
    offer_url = f"{HOST}/retailer/offers/{OFFER}"
    rsps.patch(offer_url, status=204)
    rsps.get(offer_url, json={"offerId": OFFER, "stock": {"amount": 3, "managedByRetailer": True}})
    with closing(BolAdapter("bol_nl", {**SETTINGS, "offers_api": "v11"}, clock=clock)) as adapter:
        [result] = adapter.push([StockUpdate(1, "8712345678906", 7, external_id=OFFER)])
    assert result.awaiting_confirmation and "shows 3" in result.message


def test_offers_api_setting_is_checked(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="offers_api"):
        BolAdapter("bol_nl", {**SETTINGS, "offers_api": "v12"}, clock=clock)
