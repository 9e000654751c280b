"""The three transports against `responses`: happy path, failure shapes, retries, timeouts."""

from __future__ import annotations

import json
import xmlrpc.client
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from connector.erp.client import connect
from connector.erp.errors import (
    AccessError,
    AuthenticationError,
    ErpError,
    MissingModelError,
    MissingRecordError,
    TransientError,
    ValidationError,
)
from tests.erp.conftest import API_KEY, FAST_RETRY, PASSWORD, URL, Sleeps, erp_config

VERSION_18 = {"server_version": "18.0", "server_version_info": [18, 0, 0, "final", 0, ""],
              "server_serie": "18.0", "protocol_version": 1}
VERSION_19 = {"server_version": "19.0", "server_version_info": [19, 0, 0, "final", 0, ""],
              "server_serie": "19.0", "protocol_version": 1}


def odoo_error(name: str, message: str, code: int = 200) -> dict[str, Any]:
    return {"code": code, "message": "Odoo Server Error",
            "data": {"name": name, "message": message, "arguments": [message], "context": {},
                     "debug": "Traceback ..."}}


JsonReply = Callable[[str, str, list[Any]], Any]


def jsonrpc_server(rsps: responses.RequestsMock, object_reply: JsonReply,
                   version: dict[str, Any] = VERSION_18, uid: Any = 3) -> list[dict[str, Any]]:
    """Serve /jsonrpc: common.version/authenticate, object.execute_kw via `object_reply`.

    `object_reply(model, method, args)` returns a result, or ("error", {...}) for an error,
    or an (int status, body) tuple for a raw HTTP reply."""
    seen: list[dict[str, Any]] = []

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        seen.append(body)
        params = body["params"]
        if params["service"] == "common":
            result: Any = version if params["method"] == "version" else uid
            return 200, {}, json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": result})
        _db, _uid, _pw, model, method, args, _kwargs = params["args"]
        reply = object_reply(model, method, args)
        if isinstance(reply, tuple) and reply[0] == "error":
            return 200, {}, json.dumps({"jsonrpc": "2.0", "id": body["id"], "error": reply[1]})
        if isinstance(reply, tuple) and isinstance(reply[0], int):
            return reply[0], {}, reply[1]
        return 200, {}, json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": reply})

    rsps.add_callback(responses.POST, f"{URL}/jsonrpc", callback=callback,
                      content_type="application/json")
    return seen


# -- JSON-RPC -----------------------------------------------------------------------------


@responses.activate
def test_jsonrpc_logs_in_once_and_calls_execute_kw(sleeps: Sleeps) -> None:
    seen = jsonrpc_server(responses.mock, lambda m, meth, a: [{"id": 1, "name": "x"}])
    client = connect(erp_config(), retry=FAST_RETRY, sleep=sleeps)
    assert client.server_series == "18.0" and client.uid == 3 and client.protocol == "jsonrpc"
    assert client.call("res.partner", "search_read", [], ["name"], limit=1) == [
        {"id": 1, "name": "x"}]
    client.call("res.partner", "search_read", [], ["name"])
    methods = [b["params"]["method"] for b in seen]
    assert methods == ["version", "authenticate", "execute_kw", "execute_kw"]
    kw = seen[2]["params"]["args"]
    assert kw[:5] == ["demo", 3, PASSWORD, "res.partner", "search_read"]
    assert kw[5:] == [[[], ["name"]], {"limit": 1}]
    assert client.calls == 2 and client.calls_by["res.partner.search_read"] == 2
    assert sleeps == []


@responses.activate
def test_jsonrpc_retries_502_503_504_then_succeeds(sleeps: Sleeps) -> None:
    replies = iter([(502, "bad gateway"), (503, "busy"), [7]])
    jsonrpc_server(responses.mock, lambda m, meth, a: next(replies))
    client = connect(erp_config(), retry=FAST_RETRY, sleep=sleeps)
    assert client.call("res.partner", "search", []) == [7]
    assert len(sleeps) == 2 and all(0 < s <= 0.06 for s in sleeps)


@responses.activate
def test_jsonrpc_gives_up_after_the_attempts_with_transient_error(sleeps: Sleeps) -> None:
    calls: list[str] = []

    def reply(model: str, method: str, args: list[Any]) -> Any:
        calls.append(method)
        return 504, "gateway timeout"

    jsonrpc_server(responses.mock, reply)
    client = connect(erp_config(), retry=FAST_RETRY, sleep=sleeps)
    with pytest.raises(TransientError, match="504"):
        client.call("res.partner", "search", [])
    assert len(calls) == FAST_RETRY.attempts and len(sleeps) == FAST_RETRY.attempts - 1


@responses.activate
def test_jsonrpc_serialization_failure_is_retried(sleeps: Sleeps) -> None:
    replies = iter([("error", odoo_error("psycopg2.errors.SerializationFailure",
                                         "could not serialize access")), [1]])
    jsonrpc_server(responses.mock, lambda m, meth, a: next(replies))
    client = connect(erp_config(), retry=FAST_RETRY, sleep=sleeps)
    assert client.call("stock.quant", "search", []) == [1]
    assert len(sleeps) == 1


@pytest.mark.parametrize(("name", "message", "expected"), [
    ("odoo.exceptions.AccessError", "You are not allowed to access 'Quants'", AccessError),
    ("odoo.exceptions.ValidationError", "Pack size must be positive", ValidationError),
    ("odoo.exceptions.UserError", "Something is wrong", ValidationError),
    ("odoo.exceptions.MissingError", "Record does not exist or has been deleted.",
     MissingRecordError),
    ("odoo.exceptions.UserError", "Object marketplace.channel doesn't exist", MissingModelError),
    ("builtins.ValueError", "Invalid field 'is_storable' on model 'product.product'",
     MissingModelError),
    ("odoo.exceptions.AccessDenied", "Access Denied", AuthenticationError),
])
@responses.activate
def test_jsonrpc_permanent_faults_are_typed_and_not_retried(
        sleeps: Sleeps, name: str, message: str, expected: type[ErpError]) -> None:
    calls: list[str] = []

    def reply(model: str, method: str, args: list[Any]) -> Any:
        calls.append(method)
        return "error", odoo_error(name, message)

    jsonrpc_server(responses.mock, reply)
    client = connect(erp_config(), retry=FAST_RETRY, sleep=sleeps)
    with pytest.raises(expected):
        client.call("marketplace.channel", "search_read", [])
    assert calls == ["search_read"] and sleeps == []


@responses.activate
def test_missing_addon_model_says_what_to_do(sleeps: Sleeps) -> None:
    jsonrpc_server(responses.mock, lambda m, meth, a: (
        "error", odoo_error("odoo.exceptions.UserError", f"Object {m} doesn't exist")))
    client = connect(erp_config(), retry=FAST_RETRY, sleep=sleeps)
    with pytest.raises(MissingModelError, match="install or upgrade the Odoo addon "
                                                "marketplace_stock_sync, or set erp.mode"):
        client.call("marketplace.channel", "search_read", [])
    with pytest.raises(MissingModelError, match="Inventory"):
        client.call("stock.quant", "search_read", [])


@responses.activate
def test_jsonrpc_wrong_password_is_one_clear_line(sleeps: Sleeps) -> None:
    jsonrpc_server(responses.mock, lambda m, meth, a: [], uid=False)
    with pytest.raises(AuthenticationError) as info:
        connect(erp_config(), retry=FAST_RETRY, sleep=sleeps)
    text = str(info.value)
    assert "'bridge'" in text and "'demo'" in text and "\n" not in text
    assert PASSWORD not in text and sleeps == []


@responses.activate
def test_jsonrpc_timeout_is_transient_and_retried(sleeps: Sleeps) -> None:
    responses.add(responses.POST, f"{URL}/jsonrpc", body=requests.exceptions.ReadTimeout())
    with pytest.raises(TransientError, match="did not answer .* within 2s"):
        connect(erp_config(), retry=FAST_RETRY, sleep=sleeps)
    assert len(responses.calls) == FAST_RETRY.attempts


@responses.activate
def test_connection_refused_is_transient(sleeps: Sleeps) -> None:
    responses.add(responses.POST, f"{URL}/jsonrpc",
                  body=requests.exceptions.ConnectionError("Connection refused"))
    with pytest.raises(TransientError, match="cannot reach Odoo at http://odoo.test"):
        connect(erp_config(), retry=FAST_RETRY, sleep=sleeps)
    assert len(sleeps) == FAST_RETRY.attempts - 1


def test_every_request_carries_the_timeout(sleeps: Sleeps) -> None:
    class Recorder(requests.Session):
        timeouts: list[Any] = []

        def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                    *args: Any, **kwargs: Any) -> requests.Response:
            self.timeouts.append(kwargs.get("timeout"))
            return super().request(method, url, *args, **kwargs)

    with responses.RequestsMock() as rsps:
        jsonrpc_server(rsps, lambda m, meth, a: [])
        client = connect(erp_config(timeout_s=7.5), retry=FAST_RETRY, sleep=sleeps,
                         session=Recorder())
        client.call("res.partner", "search", [])
    assert Recorder.timeouts == [7.5, 7.5, 7.5]


@responses.activate
def test_unsupported_version_is_refused(sleeps: Sleeps) -> None:
    jsonrpc_server(responses.mock, lambda m, meth, a: [],
                   version={"server_version": "15.0", "server_version_info": [15, 0, 0, "final", 0]})
    with pytest.raises(ErpError, match="16.0 to 19.0"):
        connect(erp_config(), retry=FAST_RETRY, sleep=sleeps)


# -- XML-RPC ------------------------------------------------------------------------------


def xmlrpc_server(rsps: responses.RequestsMock, object_reply: JsonReply,
                  uid: Any = 3) -> list[tuple[str, tuple[Any, ...]]]:
    seen: list[tuple[str, tuple[Any, ...]]] = []

    def common(request: Any) -> tuple[int, dict[str, str], str]:
        params, method = xmlrpc.client.loads(request.body)
        seen.append((method, params))
        result = VERSION_18 if method == "version" else uid
        return 200, {}, xmlrpc.client.dumps((result,), methodresponse=True)

    def obj(request: Any) -> tuple[int, dict[str, str], str]:
        params, method = xmlrpc.client.loads(request.body)
        seen.append((method, params))
        _db, _uid, _pw, model, meth, args, _kw = params
        reply = object_reply(model, meth, args)
        if isinstance(reply, xmlrpc.client.Fault):
            return 200, {}, xmlrpc.client.dumps(reply, methodresponse=True)
        if isinstance(reply, tuple):
            return reply[0], {}, reply[1]
        return 200, {}, xmlrpc.client.dumps((reply,), methodresponse=True, allow_none=False)

    rsps.add_callback(responses.POST, f"{URL}/xmlrpc/2/common", callback=common)
    rsps.add_callback(responses.POST, f"{URL}/xmlrpc/2/object", callback=obj)
    return seen


@responses.activate
def test_xmlrpc_happy_path(sleeps: Sleeps) -> None:
    seen = xmlrpc_server(responses.mock, lambda m, meth, a: [{"id": 4, "name": False}])
    client = connect(erp_config("xmlrpc"), retry=FAST_RETRY, sleep=sleeps)
    assert client.call("res.partner", "search_read", [("id", "=", 4)], ["name"]) == [
        {"id": 4, "name": False}]
    assert [m for m, _ in seen] == ["version", "authenticate", "execute_kw"]
    assert seen[2][1][3:5] == ("res.partner", "search_read")


@pytest.mark.parametrize(("fault", "expected"), [
    (xmlrpc.client.Fault(3, "Access Denied"), AuthenticationError),
    (xmlrpc.client.Fault(4, "You are not allowed to modify 'Listing'"), AccessError),
    (xmlrpc.client.Fault(2, "Record does not exist or has been deleted.\n(Record: x)"),
     MissingRecordError),
    (xmlrpc.client.Fault(2, "Pack size must be at least 1"), ValidationError),
    (xmlrpc.client.Fault(2, "Object marketplace.listing doesn't exist"), MissingModelError),
    (xmlrpc.client.Fault(1, "Traceback (most recent call last):\n  File \"x\", line 1\n"
                            "ValueError: Invalid field 'quantity_done' on model 'stock.move'\n"),
     MissingModelError),
    (xmlrpc.client.Fault("warning -- MissingError\n\nRecord does not exist", ""),
     MissingRecordError),
])
@responses.activate
def test_xmlrpc_faults_are_typed_and_not_retried(
        sleeps: Sleeps, fault: xmlrpc.client.Fault, expected: type[ErpError]) -> None:
    calls: list[str] = []

    def reply(model: str, method: str, args: list[Any]) -> Any:
        calls.append(method)
        return fault

    xmlrpc_server(responses.mock, reply)
    client = connect(erp_config("xmlrpc"), retry=FAST_RETRY, sleep=sleeps)
    with pytest.raises(expected):
        client.call("marketplace.listing", "write", [1], {"pack_size": 0})
    assert calls == ["write"] and sleeps == []


@responses.activate
def test_xmlrpc_login_false_and_503_retry(sleeps: Sleeps) -> None:
    xmlrpc_server(responses.mock, lambda m, meth, a: [], uid=False)
    with pytest.raises(AuthenticationError, match="refused login 'bridge'"):
        connect(erp_config("xmlrpc"), retry=FAST_RETRY, sleep=sleeps)

    with responses.RequestsMock() as rsps:
        replies = iter([(503, "down"), [5]])
        xmlrpc_server(rsps, lambda m, meth, a: next(replies))
        client = connect(erp_config("xmlrpc"), retry=FAST_RETRY, sleep=sleeps)
        assert client.call("res.partner", "search", []) == [5]
    assert len(sleeps) == 1


# -- JSON-2 -------------------------------------------------------------------------------


def json2_server(rsps: responses.RequestsMock, reply: Callable[[str, str, dict[str, Any]], Any],
                 version: dict[str, Any] = VERSION_19) -> list[Any]:
    seen: list[Any] = []
    rsps.add(responses.POST, f"{URL}/web/webclient/version_info",
             json={"jsonrpc": "2.0", "id": 1, "result": version})

    def call(request: Any) -> tuple[int, dict[str, str], str]:
        _, _, _, model, method = request.path_url.split("/")
        body = json.loads(request.body)
        seen.append((model, method, body, dict(request.headers)))
        if request.headers.get("Authorization") != f"bearer {API_KEY}":
            return 401, {}, json.dumps({"name": "werkzeug.exceptions.Unauthorized",
                                        "message": "Invalid apikey", "arguments": [],
                                        "context": {}, "debug": ""})
        if model == "res.users" and method == "context_get":
            return 200, {}, json.dumps({"uid": 3, "lang": "en_US", "tz": False})
        result = reply(model, method, body)
        if isinstance(result, tuple):
            return result[0], {}, json.dumps(result[1])
        return 200, {}, json.dumps(result)

    rsps.add_callback(responses.POST, responses.matchers.re.compile(rf"{URL}/json/2/.*"),
                      callback=call)
    return seen


@responses.activate
def test_json2_names_positional_arguments_and_sends_bearer(sleeps: Sleeps) -> None:
    seen = json2_server(responses.mock, lambda m, meth, body: [{"id": 1}])
    client = connect(erp_config("json2"), retry=FAST_RETRY, sleep=sleeps)
    assert client.server_series == "19.0" and client.uid == 3
    client.call("stock.quant", "search_read", [("product_id", "in", [1, 2])], ["quantity"],
                limit=10, context={"active_test": False})
    client.call("marketplace.listing", "write", [4, 5], {"sync_state": "synced"})
    _, _, body, headers = seen[1]
    assert body == {"domain": [["product_id", "in", [1, 2]]], "fields": ["quantity"],
                    "limit": 10, "context": {"active_test": False}}
    assert headers["X-Odoo-Database"] == "demo"
    assert seen[2][1:3] == ("write", {"ids": [4, 5], "vals": {"sync_state": "synced"}})


@responses.activate
def test_json2_bad_key_says_what_to_do(sleeps: Sleeps) -> None:
    json2_server(responses.mock, lambda m, meth, body: [])
    with pytest.raises(AuthenticationError, match="API key .* Account Security") as info:
        connect(erp_config("json2", api_key="wrong-key-123456"), retry=FAST_RETRY, sleep=sleeps)
    assert "wrong-key-123456" not in str(info.value)


@pytest.mark.parametrize(("status", "body", "expected"), [
    (422, {"name": "werkzeug.exceptions.UnprocessableEntity",
           "message": "got an unexpected keyword argument 'x'"}, ValidationError),
    (404, {"name": "werkzeug.exceptions.NotFound",
           "message": "the model 'marketplace.channel' does not exist"}, MissingModelError),
    (403, {"name": "odoo.exceptions.AccessError", "message": "not allowed"}, AccessError),
    (404, {"name": "odoo.exceptions.MissingError",
           "message": "Record does not exist or has been deleted."}, MissingRecordError),
])
@responses.activate
def test_json2_errors_are_typed_and_not_retried(
        sleeps: Sleeps, status: int, body: dict[str, Any], expected: type[ErpError]) -> None:
    seen = json2_server(responses.mock, lambda m, meth, b: (status, body))
    client = connect(erp_config("json2"), retry=FAST_RETRY, sleep=sleeps)
    with pytest.raises(expected):
        client.call("marketplace.channel", "search_read", [])
    assert len(seen) == 2 and sleeps == []


@responses.activate
def test_json2_retries_503_and_lock_error(sleeps: Sleeps) -> None:
    replies = iter([(503, {"message": "busy"}), (409, {"name": "odoo.exceptions.LockError",
                                                       "message": "locked"}), [9]])
    json2_server(responses.mock, lambda m, meth, b: next(replies))
    client = connect(erp_config("json2"), retry=FAST_RETRY, sleep=sleeps)
    assert client.call("res.partner", "search", []) == [9]
    assert len(sleeps) == 2


@responses.activate
def test_json2_on_odoo_18_is_refused_with_advice(sleeps: Sleeps) -> None:
    json2_server(responses.mock, lambda m, meth, b: [], version=VERSION_18)
    with pytest.raises(ErpError, match="json2 needs Odoo 19.0 .* \"jsonrpc\" or \"xmlrpc\""):
        connect(erp_config("json2"), retry=FAST_RETRY, sleep=sleeps)


# -- real sockets: a server that never answers, a port nobody listens on -----------------


def test_real_timeout_and_refused_connection(sleeps: Sleeps) -> None:
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (kernel backlog) but never replies
    try:
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(TransientError, match="did not answer"):
            connect(erp_config(url=f"http://127.0.0.1:{port}", timeout_s=0.2),
                    retry=FAST_RETRY, sleep=sleeps)
        assert time.monotonic() - started < 5
        assert len(sleeps) == FAST_RETRY.attempts - 1
    finally:
        silent.close()

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nobody listens there now: connection refused
    with pytest.raises(TransientError, match="cannot reach Odoo"):
        connect(erp_config(url=f"http://127.0.0.1:{port}"), retry=FAST_RETRY, sleep=sleeps)


def test_the_environment_proxy_settings_are_read_once_and_still_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from connector.erp.errors import Redactor
    from connector.erp.transport import HttpPoster

    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxied = HttpPoster("http://odoo.example:8069", 5, Redactor([]))
    assert proxied.session.proxies.get("http") == "http://proxy.example:3128"
    assert proxied.session.trust_env is False  # no ~/.netrc or env lookups per call

    monkeypatch.setenv("NO_PROXY", "odoo.example")
    direct = HttpPoster("http://odoo.example:8069", 5, Redactor([]))
    assert "http" not in direct.session.proxies
