"""The HTTP layer every Odoo transport shares: one session, a timeout on every call,
transient failures turned into `TransientError`, and the tenacity retry policy.

Only transient failures are retried (connection refused/reset, timeouts, 429, 502, 503,
504, Odoo's lock/serialization faults); authentication, access and validation errors go
straight to the caller. Retried ORM calls are reads or idempotent status writes, so a
timed-out call that did commit is harmless when replayed.

Usage::

    poster = HttpPoster("http://odoo:8069", timeout_s=30, redactor=Redactor([password]))
    reply = poster.post("/jsonrpc", json=body)
    result = with_retries(lambda: transport.execute_kw(...), RetryPolicy())
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from connector.erp.errors import AuthenticationError, ErpError, Redactor, TransientError

log = logging.getLogger(__name__)

T = TypeVar("T")
# Odoo answers a wrong password, an unknown login and an expired or revoked API key alike
# (authenticate -> False), so the hint names them all.
REFUSED_HINT = (
    "wrong erp.username or password/API key, or the API key expired or was revoked; "
    "make a new key as that user (Preferences › Account Security › New API Key) and set it "
    "as the bridge's password (STOCK_BRIDGE_ERP_PASSWORD)"
)
RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter and a cap; `attempts` counts the first try."""

    attempts: int = 4
    initial_s: float = 0.5
    max_s: float = 8.0
    jitter_s: float = 0.5


def with_retries(
    fn: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "Odoo call",
) -> T:
    """Run `fn`, retrying only `TransientError`; the last one is re-raised as is."""

    def _log(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s failed (attempt %d): %s; retrying in %.2fs",
                    what, state.attempt_number, exc, delay)

    retrying = Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(policy.attempts),
        # exponential part capped at max_s, plus up to jitter_s of random jitter
        wait=wait_exponential(multiplier=policy.initial_s, max=policy.max_s)
        + wait_random(0, policy.jitter_s),
        sleep=sleep,
        before_sleep=_log,
        reraise=True,
    )
    return retrying(fn)


class Transport(Protocol):
    """One wire protocol to Odoo: jsonrpc, xmlrpc or json2."""

    name: str

    def version(self) -> dict[str, Any]: ...

    def login(self) -> int: ...

    def execute_kw(self, model: str, method: str, args: list[Any],
                   kwargs: dict[str, Any]) -> Any: ...

    def close(self) -> None: ...


class HttpPoster:
    """A requests.Session bound to one Odoo base URL, with a timeout on every request.

    Raises `TransientError` for no reply, a timeout, or a 429/502/503/504; returns every
    other response for the transport to read. Error texts are redacted.
    """

    def __init__(self, base_url: str, timeout_s: float, redactor: Redactor,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.redactor = redactor
        self.session = session or _bound_session(self.base_url)
        self.session.headers.setdefault("User-Agent", "marketplace-stock-sync/0.1")

    def __repr__(self) -> str:
        return f"HttpPoster({self.base_url!r})"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.base_url + path
        failure: str | None = None
        try:
            response = self.session.request(method, url, timeout=self.timeout_s, **kwargs)
        except requests.Timeout:
            failure = f"Odoo did not answer {path} within {self.timeout_s:g}s"
        except requests.ConnectionError as exc:
            failure = f"cannot reach Odoo at {self.base_url}: {self.redactor.redact(str(exc))}"
        if failure is not None:
            # raised outside the handler: the original exception (whose text may hold a
            # secret) is not kept as __context__
            raise TransientError(failure)
        if response.status_code in RETRY_STATUSES:
            raise TransientError(f"Odoo answered HTTP {response.status_code} on {path}")
        return response

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def excerpt(self, response: requests.Response, limit: int = 200) -> str:
        return self.redactor.redact(response.text[:limit])

    def close(self) -> None:
        self.session.close()


class ServiceRpcTransport:
    """What JSON-RPC and XML-RPC share: Odoo's `common` and `object` services.

    Subclasses only say how one service call travels (`_rpc`); login with
    `common.authenticate` (a wrong password answers False, not a fault) and `execute_kw`
    with (db, uid, secret, ...) are the same on both.
    """

    name = "service-rpc"

    def __init__(self, poster: HttpPoster, database: str, username: str, secret: str) -> None:
        self._http = poster
        self._db = database
        self._username = username
        self._secret = secret
        self._uid: int | None = None

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self._http.base_url!r}, db={self._db!r}, "
                f"user={self._username!r})")

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
                f"{REFUSED_HINT}"
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
        raise NotImplementedError


def _bound_session(base_url: str) -> requests.Session:
    """A session for one Odoo URL with the environment's proxy and CA-bundle settings read
    once here, not on every call: with `trust_env` requests looks for ~/.netrc and re-reads
    the proxy variables per request, a visible share of a busy bridge's CPU."""
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session
