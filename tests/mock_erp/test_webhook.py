"""Post-commit webhook: signed body verified independently; a dead target never fails the ERP."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from connector.mock_erp.server import RunningMockErp, start_mock_erp
from connector.mock_erp.webhook import WebhookNotifier

SECRET = "test-webhook-secret"
TIMEOUT = 10


@pytest.fixture
def receiver() -> Iterator[tuple[str, "queue.Queue[tuple[bytes, dict[str, str]]]"]]:
    got: queue.Queue[tuple[bytes, dict[str, str]]] = queue.Queue()

    @Request.application
    def app(request: Request) -> Response:
        got.put((request.get_data(), dict(request.headers)))
        return Response("", status=204)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}/v1/triggers", got
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def execute(erp: RunningMockErp, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
    body = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
        "service": "object", "method": "execute_kw",
        "args": [erp.database, 2, "admin", model, method, list(args), kwargs]}}
    return requests.post(f"{erp.url}/jsonrpc", json=body, timeout=TIMEOUT).json()


def test_signed_wake_up_after_commit(receiver: Any) -> None:
    url, got = receiver
    with start_mock_erp(webhook_url=url, webhook_secret=SECRET) as erp:
        [lamp] = execute(erp, "product.product", "search", [["default_code", "=", "LAMP-DESK-01"]])["result"]
        assert execute(erp, "product.product", "action_marketplace_resync", [lamp])["result"] is True
        raw, headers = got.get(timeout=5)
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Signature-256"], expected)
        events = json.loads(raw)["events"]
        [event_id] = execute(erp, "marketplace.stock.event", "search", [], limit=1, order="id desc")["result"]
        assert events == [{"id": event_id, "product_id": lamp, "reason": "manual"}]
        assert SECRET not in repr(erp.notifier)


def test_failed_call_sends_nothing(receiver: Any) -> None:
    url, got = receiver
    with start_mock_erp(webhook_url=url, webhook_secret=SECRET) as erp:
        [yoga] = execute(erp, "product.product", "search", [["default_code", "=", "YOGA-MAT-6MM"]])["result"]
        pid = execute(erp, "stock.picking", "create", {"picking_type_id": 2, "move_ids": [
            [0, 0, {"product_id": yoga, "product_uom_qty": 1}]]})["result"]
        assert "error" in execute(erp, "stock.picking", "button_validate", [pid])
        assert erp.notifier is not None and erp.notifier.flush(5)
        assert got.empty()


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_webhook_target_down_never_fails_the_erp(caplog: pytest.LogCaptureFixture) -> None:
    with start_mock_erp(webhook_url=f"http://127.0.0.1:{_dead_port()}/v1/triggers", webhook_secret=SECRET) as erp:
        [mug] = execute(erp, "product.product", "search", [["default_code", "=", "MUG-CER-350"]])["result"]
        pid = execute(erp, "stock.picking", "create", {"picking_type_id": 2, "move_ids": [
            [0, 0, {"product_id": mug, "product_uom_qty": 2}]]})["result"]
        assert execute(erp, "stock.picking", "action_confirm", [pid])["result"] is True
        assert execute(erp, "stock.picking", "button_validate", [pid])["result"] is True
        assert erp.notifier is not None and erp.notifier.flush(10)
        assert erp.notifier.failed >= 1 and erp.notifier.sent == 0
        reasons = [e["reason"] for e in execute(erp, "marketplace.stock.event", "search_read", [],
                                                fields=["reason"], order="id")["result"]]
        assert reasons[-2:] == ["reservation", "move_done"]
    assert SECRET not in caplog.text


def test_set_webhook_at_runtime(receiver: Any) -> None:
    url, got = receiver
    with start_mock_erp() as erp:
        erp.set_webhook(url, SECRET)
        execute(erp, "marketplace.channel", "action_resync", [1])
        raw, headers = got.get(timeout=5)
        assert headers["X-Signature-256"].startswith("sha256=")
        assert {e["reason"] for e in json.loads(raw)["events"]} == {"manual"}


def test_concurrent_deliveries_stay_consistent() -> None:
    with start_mock_erp() as erp:
        [pen] = execute(erp, "product.product", "search", [["default_code", "=", "PEN-GEL-BLK"]])["result"]
        errors: list[Any] = []

        def deliver() -> None:
            for _ in range(5):
                pid = execute(erp, "stock.picking", "create", {"picking_type_id": 2, "move_ids": [
                    [0, 0, {"product_id": pen, "product_uom_qty": 1}]]})["result"]
                execute(erp, "stock.picking", "action_confirm", [pid])
                reply = execute(erp, "stock.picking", "button_validate", [pid])
                if reply.get("result") is not True:
                    errors.append(reply)

        threads = [threading.Thread(target=deliver) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors
        quants = execute(erp, "stock.quant", "search_read", [["product_id", "=", pen],
                                                              ["location_id.usage", "=", "internal"]],
                         fields=["quantity", "reserved_quantity"])["result"]
        assert sum(q["quantity"] for q in quants) == 370 - 20
        assert sum(q["reserved_quantity"] for q in quants) == 0


# -- a target that is down: logged once when it starts failing, once when it works again ----------
WEBHOOK_LOGGER = "connector.mock_erp.webhook"


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == WEBHOOK_LOGGER and r.levelno == level]


def test_target_down_warns_once_not_per_wake_up(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=WEBHOOK_LOGGER)
    notifier = WebhookNotifier(f"http://127.0.0.1:{_dead_port()}/v1/triggers", SECRET, timeout_s=2)
    try:
        for i in range(5):
            notifier([{"id": i + 1, "product_id": 4, "reason": "manual"}])
        assert notifier.flush(10)
    finally:
        notifier.close()
    [warning] = _records(caplog, logging.WARNING)
    assert "unreachable: ConnectionError" in warning and "outbox keeps every event" in warning
    assert len(_records(caplog, logging.DEBUG)) == 4  # the other four wake-ups, quietly
    assert notifier.failed == 5 and notifier.dropped_while_down == 5 and notifier.sent == 0
    assert SECRET not in caplog.text


def test_target_back_logs_once_with_the_count_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=WEBHOOK_LOGGER)
    status = {"code": 503}
    got: list[bytes] = []

    @Request.application
    def app(request: Request) -> Response:
        got.append(request.get_data())
        return Response("", status=status["code"])

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    notifier = WebhookNotifier(f"http://127.0.0.1:{server.port}/v1/triggers", SECRET, timeout_s=2)
    try:
        for i in range(3):
            notifier([{"id": i + 1, "product_id": 4, "reason": "manual"}])
        assert notifier.flush(10)
        assert _records(caplog, logging.WARNING) == [
            f"webhook target {notifier.url} answered HTTP 503; wake-ups are not delivered, "
            "the outbox keeps every event"]
        status["code"] = 204
        for i in range(3, 5):
            notifier([{"id": i + 1, "product_id": 4, "reason": "manual"}])
        assert notifier.flush(10)
        status["code"] = 503  # down again: a new outage gets its own single warning
        notifier([{"id": 6, "product_id": 4, "reason": "manual"}])
        assert notifier.flush(10)
    finally:
        notifier.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    [back] = _records(caplog, logging.INFO)
    assert "takes wake-ups again; 3 wake-up(s) were dropped meanwhile" in back
    assert len(_records(caplog, logging.WARNING)) == 2
    delivered = [e["id"] for body in got for e in json.loads(body)["events"]]
    assert delivered == [1, 2, 3, 4, 5, 6]  # wake-ups queued behind a POST may share the next one
    assert notifier.sent == 2 and notifier.failed == 4 and notifier.dropped_while_down == 1


def test_wake_ups_queued_behind_a_slow_post_go_together_in_commit_order() -> None:
    got: list[bytes] = []
    first_in = threading.Event()
    release = threading.Event()

    @Request.application
    def app(request: Request) -> Response:
        got.append(request.get_data())
        first_in.set()
        release.wait(5)  # the bridge is slow to answer the first wake-up
        return Response("", status=202)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    notifier = WebhookNotifier(f"http://127.0.0.1:{server.port}/v1/triggers", SECRET, timeout_s=5)
    try:
        notifier([{"id": 1, "product_id": 4, "reason": "adjustment"}])
        assert first_in.wait(5)
        for i in range(2, 12):
            notifier([{"id": i, "product_id": 4, "reason": "adjustment"}])
        release.set()
        assert notifier.flush(10)
    finally:
        notifier.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert len(got) == 2  # one POST for the ten that queued up meanwhile
    assert [e["id"] for body in got for e in json.loads(body)["events"]] == list(range(1, 12))
    assert notifier.sent == 11
