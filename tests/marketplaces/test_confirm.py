"""The one confirming path (connector/marketplaces/confirm.py + ApiSession.exchange): a 2xx
that is not JSON, of another shape, or about something else is retried and ends as
RetryLater; a body cut short is transient too; a 4xx comes back for the caller to read;
a token endpoint's garbled 2xx is a retry, not an authentication failure."""

from __future__ import annotations

from typing import Literal

import pytest
import requests
import responses

from connector.marketplaces.common import oauth_token
from connector.marketplaces.confirm import Confirmation, expect, require
from connector.marketplaces.http import ApiSession, AuthFailed, RetryLater
from tests.support.clock import ManualClock

URL = "https://api.example/stock"
TOKEN = "https://auth.example/token"


class Reply(Confirmation):
    sku: str
    status: Literal["ACCEPTED", "INVALID"]


def session(clock: ManualClock, attempts: int = 3) -> ApiSession:
    return ApiSession(name="test:chan", rate_per_s=100, burst=100, clock=clock, attempts=attempts)


@pytest.mark.parametrize("body", [b"", b"<html>502</html>", b'{"sku": "A", "stat', b'{"items": []}',
                                  b'{"sku": "A", "status": "MAYBE"}', b"[1, 2]"])
def test_a_2xx_that_does_not_confirm_is_retried_then_retry_later(
    rsps: responses.RequestsMock, clock: ManualClock, body: bytes
) -> None:
    for _ in range(3):
        rsps.put(URL, body=body, status=200, content_type="application/json")
    with pytest.raises(RetryLater) as caught:
        session(clock).exchange("PUT", URL, confirm=expect(Reply), json={"q": 1})
    assert "not counted as applied" in str(caught.value) or "empty body" in str(caught.value)
    assert len(clock.sleeps) == 2  # backoff between the three attempts


def test_a_confirming_2xx_after_a_garbled_one_is_returned_parsed(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    rsps.put(URL, body=b"garbage", status=200)
    rsps.put(URL, json={"sku": "A", "status": "ACCEPTED", "extra": 1})
    reply = session(clock).exchange("PUT", URL, confirm=expect(Reply))
    assert reply.body is not None and reply.body.status == "ACCEPTED" and reply.status == 200


def test_a_reply_about_another_item_does_not_confirm(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    for _ in range(2):
        rsps.put(URL, json={"sku": "B", "status": "ACCEPTED"})
    check = expect(Reply, lambda r: require(r.sku == "A", "reply is about another SKU"))
    with pytest.raises(RetryLater, match="another SKU"):
        session(clock, attempts=2).exchange("PUT", URL, confirm=check)


def test_a_4xx_comes_back_unconfirmed_for_the_caller(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    rsps.put(URL, json={"errors": [{"code": "INVALID"}]}, status=400)
    reply = session(clock).exchange("PUT", URL, confirm=expect(Reply))
    assert reply.body is None and reply.status == 400


def test_a_body_cut_short_is_transient(rsps: responses.RequestsMock, clock: ManualClock) -> None:
    for _ in range(2):
        rsps.put(URL, body=requests.exceptions.ChunkedEncodingError("IncompleteRead(10 bytes read)"))
    with pytest.raises(RetryLater, match="ChunkedEncodingError"):
        session(clock, attempts=2).exchange("PUT", URL, confirm=expect(Reply))


def test_a_garbled_token_reply_is_a_retry_and_a_refusal_stays_a_refusal(
    rsps: responses.RequestsMock, clock: ManualClock
) -> None:
    api = session(clock, attempts=2)
    token = oauth_token(api, TOKEN, form={"grant_type": "client_credentials"})
    for _ in range(2):
        rsps.post(TOKEN, body=b"<html>oops</html>", status=200)
    with pytest.raises(RetryLater):
        token.value()
    rsps.post(TOKEN, json={"error": "invalid_client"}, status=200)
    with pytest.raises(AuthFailed, match="invalid_client"):
        token.value()
