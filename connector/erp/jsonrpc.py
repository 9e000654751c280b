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

from connector.erp.errors import AuthenticationError, ErpError, classify_fault
from connector.erp.transport import HttpPoster


class JsonRpcTransport:
    """Odoo's `/jsonrpc` endpoint; logs in with `common.authenticate`, then `execute_kw`."""

    name = "jsonrpc"

    def __init__(self, poster: HttpPoster, database: str, username: str, secret: str) -> None:
        self._http = poster
        self._db = database
        self._username = username
        self._secret = secret
        self._uid: int | None = None
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"JsonRpcTransport({self._http.base_url!r}, db={self._db!r}, user={self._username!r})"

    def version(self) -> dict[str, Any]:
        result = self._rpc("common", "version", [])
        if not isinstance(result, dict):
            raise ErpError(f"unexpected answer to common.version: {type(result).__name__}")
        return result

    def login(self) -> int:
        uid = self._rpc("common", "authenticate", [self._db, self._username, self._secret, {}])
        if not uid:
            raise AuthenticationError(
                f"Odoo refused login {self._username!r} on database {self._db!r}: "
                "check erp.username and the password or API key"
            )
        self._uid = int(uid)
        return self._uid

    def execute_kw(self, model: str, method: str, args: list[Any],
                   kwargs: dict[str, Any]) -> Any:
        if self._uid is None:
            self.login()
        return self._rpc("object", "execute_kw",
                         [self._db, self._uid, self._secret, model, method, args, kwargs])

    def close(self) -> None:
        self._http.close()

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
