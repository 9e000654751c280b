"""A password and an API key never appear in a log record, an exception text or a repr."""

from __future__ import annotations

import json
import logging
import xmlrpc.client
from typing import Any

import pytest
import requests
import responses

from connector.erp.client import connect
from connector.erp.errors import REDACTED, ErpError, Redactor
from tests.erp.conftest import API_KEY, FAST_RETRY, PASSWORD, URL, Sleeps, erp_config
from tests.erp.test_transports import VERSION_18, VERSION_19


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(str(record.exc_info[1]))
    return "\n".join(parts)


def _scenarios_jsonrpc(rsps: responses.RequestsMock) -> None:
    version = {"jsonrpc": "2.0", "id": 1, "result": VERSION_18}
    echo = {"jsonrpc": "2.0", "id": 3, "error": {
        "code": 200, "message": "Odoo Server Error",
        "data": {"name": "odoo.exceptions.ValidationError",
                 "message": f"bad value for password {PASSWORD} and key {API_KEY}",
                 "debug": f"execute_kw('demo', 3, '{PASSWORD}', ...)"}}}
    rsps.add(responses.POST, f"{URL}/jsonrpc", json=version)
    rsps.add(responses.POST, f"{URL}/jsonrpc", json={"jsonrpc": "2.0", "id": 2, "result": 3})
    rsps.add(responses.POST, f"{URL}/jsonrpc", json=echo)
    rsps.add(responses.POST, f"{URL}/jsonrpc", status=502, body=f"proxy says {PASSWORD}")
    rsps.add(responses.POST, f"{URL}/jsonrpc",
             body=requests.exceptions.ConnectionError(f"refused, url had {PASSWORD}"))
    rsps.add(responses.POST, f"{URL}/jsonrpc", body=requests.exceptions.ReadTimeout(PASSWORD))


def test_no_secret_in_logs_errors_or_reprs(caplog: pytest.LogCaptureFixture,
                                           sleeps: Sleeps) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []

    def attempt(fn: Any) -> None:
        try:
            fn()
        except ErpError as exc:
            texts.extend([str(exc), repr(exc), str(exc.__cause__ or ""),
                          str(exc.__context__ or "")])

    # JSON-RPC and password: a fault echoing the secret, 502 with the secret in the body,
    # connection errors and timeouts whose text holds the secret
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _scenarios_jsonrpc(rsps)
        # both secrets configured: either may be echoed back
        client = connect(erp_config(api_key=API_KEY), retry=FAST_RETRY, sleep=sleeps)
        texts.extend([repr(client), str(client.__dict__)])
        attempt(lambda: client.call("res.partner", "write", [1], {"x": 1}))
        attempt(lambda: client.call("res.partner", "search", []))

    # XML-RPC: application fault with a traceback holding the password; login refused
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, f"{URL}/xmlrpc/2/common",
                 body=xmlrpc.client.dumps((VERSION_18,), methodresponse=True))
        rsps.add(responses.POST, f"{URL}/xmlrpc/2/common",
                 body=xmlrpc.client.dumps((3,), methodresponse=True))
        rsps.add(responses.POST, f"{URL}/xmlrpc/2/object", body=xmlrpc.client.dumps(
            xmlrpc.client.Fault(1, f"Traceback\nKeyError: '{PASSWORD}'"), methodresponse=True))
        client = connect(erp_config("xmlrpc"), retry=FAST_RETRY, sleep=sleeps)
        attempt(lambda: client.call("res.partner", "read", [1]))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, f"{URL}/xmlrpc/2/common",
                 body=xmlrpc.client.dumps((VERSION_18,), methodresponse=True))
        rsps.add(responses.POST, f"{URL}/xmlrpc/2/common",
                 body=xmlrpc.client.dumps((False,), methodresponse=True))
        attempt(lambda: connect(erp_config("xmlrpc"), retry=FAST_RETRY, sleep=sleeps))

    # JSON-2 and API key: a refused key, a 500 echoing it, a non-JSON error page
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, f"{URL}/web/webclient/version_info",
                 json={"jsonrpc": "2.0", "id": 1, "result": VERSION_19})
        rsps.add(responses.POST, f"{URL}/json/2/res.users/context_get", json={"uid": 3})
        rsps.add(responses.POST, f"{URL}/json/2/res.partner/search", status=500,
                 json={"name": "builtins.KeyError", "message": f"no {API_KEY}"})
        rsps.add(responses.POST, f"{URL}/json/2/res.partner/read", status=400,
                 body=f"<html>bearer {API_KEY}</html>")
        client = connect(erp_config("json2"), retry=FAST_RETRY, sleep=sleeps)
        texts.extend([repr(client), str(client.__dict__)])
        attempt(lambda: client.call("res.partner", "search", []))
        attempt(lambda: client.call("res.partner", "read", [1], ["name"]))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, f"{URL}/web/webclient/version_info",
                 json={"jsonrpc": "2.0", "id": 1, "result": VERSION_19})
        rsps.add(responses.POST, f"{URL}/json/2/res.users/context_get", status=401,
                 body=json.dumps({"name": "werkzeug.exceptions.Unauthorized",
                                  "message": f"Invalid apikey {API_KEY}"}))
        attempt(lambda: connect(erp_config("json2"), retry=FAST_RETRY, sleep=sleeps))

    texts.extend([repr(erp_config()), str(erp_config("json2").model_dump())])
    assert len([t for t in texts if t]) >= 12  # the scenarios did fail and were captured
    logged = _everything_logged(caplog)
    assert "retrying" in logged  # the retry path logged something
    for secret in (PASSWORD, API_KEY):
        assert secret not in logged
        for text in texts:
            assert secret not in text, text


def test_short_password_does_not_garble_error_text(sleeps: Sleeps) -> None:
    # a one-letter password replaced everywhere would turn "port" into "***ort"
    fault = {"jsonrpc": "2.0", "id": 3, "error": {
        "code": 200, "message": "Odoo Server Error",
        "data": {"name": "odoo.exceptions.ValidationError",
                 "message": "cannot reach postgres port=5432 via /jsonrpc"}}}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, f"{URL}/jsonrpc",
                 json={"jsonrpc": "2.0", "id": 1, "result": VERSION_18})
        rsps.add(responses.POST, f"{URL}/jsonrpc", json={"jsonrpc": "2.0", "id": 2, "result": 3})
        rsps.add(responses.POST, f"{URL}/jsonrpc", json=fault)
        client = connect(erp_config(password="p"), retry=FAST_RETRY, sleep=sleeps)
        with pytest.raises(ErpError) as caught:
            client.call("res.partner", "write", [1], {"x": 1})
    assert "port=5432 via /jsonrpc" in str(caught.value)
    assert REDACTED not in str(caught.value)


def test_redactor_minimum_length() -> None:
    redactor = Redactor(["p", "abc", "abcd", "abcdef"])
    assert redactor.redact("port abc abcd abcdef") == f"port abc {REDACTED} {REDACTED}"
