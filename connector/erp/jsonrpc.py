"""JSON-RPC transport: `POST /jsonrpc` with the `common` and `object` services (Odoo 16-19).

Errors arrive with HTTP 200 and an `error` member whose `data.name` is the Python
exception class; `classify_fault` turns it into our types.

Usage::

    transport = JsonRpcTransport(poster, database="demo", username="bridge", secret="...")
    transport.login(); transport.execute_kw("res.partner", "search", [[]], {"limit": 1})
"""

from __future__ import annotations

import itertools
from typing import Any

from connector.erp.errors import ErpError, classify_fault
from connector.erp.transport import HttpPoster, ServiceRpcTransport


class JsonRpcTransport(ServiceRpcTransport):
    """Odoo's `/jsonrpc` endpoint; logs in with `common.authenticate`, then `execute_kw`."""

    name = "jsonrpc"

    def __init__(self, poster: HttpPoster, database: str, username: str, secret: str) -> None:
        super().__init__(poster, database, username, secret)
        self._ids = itertools.count(1)

    def _rpc(self, service: str, method: str, args: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "method": "call", "id": next(self._ids),
                "params": {"service": service, "method": method, "args": args}}
        response = self._http.post("/jsonrpc", json=body)
        return read_jsonrpc_reply(self._http, response, f"{service}.{method}")


def read_jsonrpc_reply(http: HttpPoster, response: Any, what: str) -> Any:
    """The `result` of a JSON-RPC reply, or the typed error its `error` member describes."""
    if response.status_code == 404:
        raise ErpError(f"no JSON-RPC endpoint at {http.base_url} ({what}): is this an Odoo URL?")
    try:
        payload = response.json()
    except ValueError:
        raise classify_fault("", f"HTTP {response.status_code} from {what}: "
                                 f"{http.excerpt(response)}", response.status_code) from None
    if not isinstance(payload, dict):
        raise ErpError(f"unexpected JSON-RPC reply to {what}")
    error = payload.get("error")
    if error is None:
        if response.status_code >= 400:
            raise classify_fault("", f"HTTP {response.status_code} from {what}", response.status_code)
        return payload.get("result")
    data = error.get("data") or {}
    name = str(data.get("name") or "")
    message = http.redactor.redact(str(data.get("message") or error.get("message") or ""))
    if error.get("code") == 100 and not name:
        name = "odoo.http.SessionExpiredException"
    raise classify_fault(name, message)
