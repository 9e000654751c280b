"""The one client interface the bridge uses to talk to Odoo, and `connect`.

`connect` picks the transport from the config (jsonrpc, xmlrpc, json2), reads the server
version, logs in once and returns an `RpcClient`, which retries transient failures and
counts its ORM calls (`calls`, `calls_by`) so tests can prove a read is batched.

Usage::

    client = connect(config.erp)
    ids = client.call("product.product", "search", [("default_code", "=", "TSHIRT-M")])
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

import requests

from connector.config import ErpConfig
from connector.erp.errors import ErpError, Redactor
from connector.erp.json2 import Json2Transport
from connector.erp.jsonrpc import JsonRpcTransport
from connector.erp.series import SeriesProfile, parse_version, profile_for
from connector.erp.transport import HttpPoster, RetryPolicy, Transport, with_retries
from connector.erp.xmlrpc import XmlRpcTransport

log = logging.getLogger(__name__)


class OdooClient(Protocol):
    """`model.method(*args, **kwargs)` on the server, as the bridge user."""

    server_series: str  # "16.0" .. "19.0"

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any: ...

    def close(self) -> None: ...


class RpcClient:
    """An OdooClient over one transport: retries transient errors, counts calls."""

    def __init__(self, transport: Transport, version: dict[str, Any], uid: int,
                 retry: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._transport = transport
        self._retry = retry
        self._sleep = sleep
        self._lock = threading.Lock()
        major, minor = parse_version(version)
        self.server_version: str = str(version.get("server_version") or f"{major}.{minor}")
        self.profile: SeriesProfile = profile_for(major)
        self.server_series: str = self.profile.series
        self.uid = uid
        self.protocol = transport.name
        self.calls = 0
        self.calls_by: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"RpcClient({self._transport!r}, series={self.server_series!r})"

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.calls += 1
            self.calls_by[f"{model}.{method}"] += 1
        return with_retries(
            lambda: self._transport.execute_kw(model, method, list(args), dict(kwargs)),
            self._retry, self._sleep, what=f"{model}.{method}",
        )

    def close(self) -> None:
        self._transport.close()


def build_transport(erp: ErpConfig, session: requests.Session | None = None) -> Transport:
    """The transport `erp.protocol` names, with every secret registered for redaction."""
    secrets = [s.get_secret_value() for s in (erp.password, erp.api_key) if s is not None]
    poster = HttpPoster(erp.url, erp.timeout_s, Redactor(secrets), session)
    if erp.protocol == "json2":
        assert erp.api_key is not None  # ErpConfig guarantees it
        return Json2Transport(poster, erp.database, erp.username, erp.api_key.get_secret_value())
    if erp.protocol == "xmlrpc":
        return XmlRpcTransport(poster, erp.database, erp.username, erp.secret())
    return JsonRpcTransport(poster, erp.database, erp.username, erp.secret())


def connect(erp: ErpConfig, *, session: requests.Session | None = None,
            retry: RetryPolicy = RetryPolicy(),
            sleep: Callable[[float], None] = time.sleep) -> RpcClient:
    """Detect the server version, log in once and return a ready client.

    Raises AuthenticationError (wrong credentials), TransientError (unreachable after
    retries) or ErpError (unsupported version, json2 before 19.0).
    """
    transport = build_transport(erp, session)
    try:
        version = with_retries(transport.version, retry, sleep, what="version")
        major, _ = parse_version(version)
        profile = profile_for(major)
        if erp.protocol == "json2" and not profile.has_json2:
            raise ErpError(
                f"protocol json2 needs Odoo 19.0 or later; {erp.url} runs {profile.series}: "
                "set erp.protocol to \"jsonrpc\" or \"xmlrpc\""
            )
        uid = with_retries(transport.login, retry, sleep, what="login")
    except Exception:
        transport.close()
        raise
    client = RpcClient(transport, version, uid, retry, sleep)
    log.info("connected to Odoo %s at %s, database %s, as %s (uid %s) over %s",
             client.server_version, erp.url, erp.database, erp.username, uid, erp.protocol)
    return client
