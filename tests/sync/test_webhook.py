"""The trigger listener over real HTTP on 127.0.0.1:0: signatures, sizes, payload shapes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import requests

from connector.sync.webhook import Trigger, WebhookListener, sign

SECRET = "s3cret-webhook-key"
TOKEN = "automation-wake-token-1"


@pytest.fixture
def listener() -> Iterator[tuple[WebhookListener, list[Trigger]]]:
    got: list[Trigger] = []
    server = WebhookListener("127.0.0.1", 0, SECRET, got.append, max_body_bytes=2048, automation_token=TOKEN)
    server.start()
    yield server, got
    server.stop()


def post(url: str, body: bytes, signature: str | None = None, **kw: object) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Signature-256"] = signature
    return requests.post(f"{url}/v1/triggers", data=body, headers=headers, timeout=5, **kw)  # type: ignore[arg-type]


def test_signed_events_wake_with_their_products(listener: tuple[WebhookListener, list[Trigger]]) -> None:
    server, got = listener
    body = json.dumps({"events": [{"id": 7, "product_id": 3, "reason": "move_done"}, {"id": 8, "product_id": 4}]}).encode()
    reply = post(server.url, body, sign(body, SECRET))
    assert reply.status_code == 202
    assert got == [Trigger(frozenset({3, 4}), (7, 8), ((7, 3, "move_done"), (8, 4, "")))]


def test_empty_event_list_is_a_plain_wake_up(listener: tuple[WebhookListener, list[Trigger]]) -> None:
    server, got = listener
    body = b'{"events": []}'
    assert post(server.url, body, sign(body, SECRET)).status_code == 202
    assert got == [Trigger()]


@pytest.mark.parametrize("signature", [None, "", "sha256=" + "0" * 64, "sha1=abc", "garbage"])
def test_missing_or_wrong_signature_is_401_and_nothing_happens(
    listener: tuple[WebhookListener, list[Trigger]], signature: str | None
) -> None:
    server, got = listener
    body = b'{"events": [{"id": 1, "product_id": 2}]}'
    reply = post(server.url, body, signature)
    assert reply.status_code == 401
    assert got == []
    assert SECRET not in reply.text


def test_signature_of_another_body_is_rejected(listener: tuple[WebhookListener, list[Trigger]]) -> None:
    server, got = listener
    reply = post(server.url, b'{"events": [{"product_id": 99}]}', sign(b'{"events": []}', SECRET))
    assert reply.status_code == 401 and got == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"events": 5}', b'{"events": [{"product_id": "x"}]}', b'{"hello": 1}',
     b'{"_model": "stock.quant"}', b"\xff\xfe"],
)
def test_malformed_body_is_400(listener: tuple[WebhookListener, list[Trigger]], body: bytes) -> None:
    server, got = listener
    assert post(server.url, body, sign(body, SECRET)).status_code == 400
    assert got == []


def test_body_over_the_limit_is_413(listener: tuple[WebhookListener, list[Trigger]]) -> None:
    server, got = listener
    body = json.dumps({"events": [{"id": i, "product_id": i} for i in range(500)]}).encode()
    assert len(body) > 2048
    assert post(server.url, body, sign(body, SECRET)).status_code == 413
    assert got == []


def test_odoo_automation_payload_with_token_or_signature(listener: tuple[WebhookListener, list[Trigger]]) -> None:
    server, got = listener
    body = json.dumps({"_action": "Wake bridge(#3)", "_id": 42, "_model": "stock.quant",
                       "product_id": [7, "Mug"]}).encode()
    assert post(server.url, body, params={"token": TOKEN}).status_code == 202
    assert post(server.url, body, sign(body, SECRET)).status_code == 202
    assert post(server.url, body, params={"token": "wrong"}).status_code == 401
    # the signing secret is no longer accepted in a URL
    assert post(server.url, body, params={"token": SECRET}).status_code == 401
    # the automation token cannot sign
    assert post(server.url, body, sign(body, TOKEN)).status_code == 401
    assert got == [Trigger(frozenset({7}), model="stock.quant", record_id=42)] * 2


def test_without_an_automation_token_the_query_form_is_refused() -> None:
    got: list[Trigger] = []
    server = WebhookListener("127.0.0.1", 0, SECRET, got.append)
    server.start()
    try:
        body = b'{"_model": "stock.quant", "_id": 1}'
        assert post(server.url, body, params={"token": ""}).status_code == 401
        assert post(server.url, body, params={"token": SECRET}).status_code == 401
        assert got == []
    finally:
        server.stop()


def test_health_and_unknown_paths(listener: tuple[WebhookListener, list[Trigger]]) -> None:
    server, _ = listener
    health = requests.get(f"{server.url}/v1/health", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert requests.get(f"{server.url}/nope", timeout=5).status_code == 404
    assert requests.get(f"{server.url}/v1/triggers", timeout=5).status_code == 405


def test_without_a_secret_every_trigger_is_refused() -> None:
    got: list[Trigger] = []
    server = WebhookListener("127.0.0.1", 0, None, got.append)
    server.start()
    try:
        body = b'{"events": []}'
        assert post(server.url, body, sign(body, "")).status_code == 401
        assert got == []
    finally:
        server.stop()


def test_the_access_log_never_carries_the_token_query(listener: tuple[WebhookListener, list[Trigger]],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    server, got = listener
    body = json.dumps({"_id": 42, "_model": "product.product"}).encode()
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="werkzeug"):
        assert post(server.url, body, params={"token": TOKEN}).status_code == 202
        assert post(server.url, body, params={"token": "wrong-" + TOKEN}).status_code == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]  # the server side
    assert any("/v1/triggers?<redacted>" in line for line in lines)  # the request is still logged
    assert not [line for line in lines if TOKEN in line]
