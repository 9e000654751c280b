"""The HTTP machinery every adapter shares: one place for throttling, retries and auth.

Every reply goes through one table (`classify_status`): ok, retry after a delay (429,
5xx, timeouts, dropped connections, bodies cut short), fail this item (other 4xx), or
refresh the token once and then stop (401). A 2xx is only "ok" once it confirms: with
`exchange(..., confirm=expect(Model))` the body must parse and validate (see
connector/marketplaces/confirm.py), else it is retried like a 5xx. Backoff lives here,
with tenacity; an adapter only states its rate and, where its API signals throttling in a
200 body (Shopify's GraphQL), raises `Transient` from its `check`.

Usage::

    session = ApiSession(name="bol:bol_nl", rate_per_s=25, burst=25, secrets=[secret])
    reply = session.send("PUT", url, json=body, auth=token)   # token: TokenProvider
    status = session.exchange("PUT", url, confirm=expect(ProcessStatus), json=body).body
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 15.0
DEFAULT_ATTEMPTS = 5
MAX_BACKOFF_S = 60.0
REDACTED = "***"
T = TypeVar("T")
# No reply, or only part of one: the request may or may not have been applied. Retried.
_NO_REPLY = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,  # body cut short (IncompleteRead)
    requests.exceptions.ContentDecodingError,
)


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class Verdict(StrEnum):
    OK = "ok"
    RETRY = "retry"
    FAIL_ITEM = "fail_item"
    AUTH = "auth"


def classify_status(status: int) -> Verdict:
    """The one table: what an HTTP status means for the caller."""
    if status < 400:
        return Verdict.OK
    if status == 401:
        return Verdict.AUTH
    if status in (408, 425, 429) or status >= 500:
        return Verdict.RETRY
    return Verdict.FAIL_ITEM


class Transient(Exception):
    """A reply (or no reply) worth trying again, perhaps after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Exchange(Generic[T]):
    """A final reply and, on a 2xx, what the `confirm` hook made of it (always set then:
    a 2xx that does not confirm never comes back, it is retried). On a 4xx `body` is None
    and the caller reads `response` itself."""

    response: requests.Response
    body: T | None

    @property
    def status(self) -> int:
        return self.response.status_code


class RetryLater(Exception):
    """Retries are used up; the caller turns this into a retryable result (`retry_at`)."""

    def __init__(self, message: str, retry_at: float) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class AuthFailed(Exception):
    """401 even after a fresh token: a configuration problem for a human to fix."""


class TokenProvider(Protocol):
    def header(self) -> dict[str, str]: ...

    def invalidate(self) -> None: ...


@dataclass
class _Token:
    value: str
    expires_at: float


class CachedToken:
    """An access token fetched on demand and reused until shortly before it expires.

    `fetch` returns (access_token, lifetime_seconds); `render` turns the token into headers.
    """

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float]],
        clock: Clock,
        render: Callable[[str], dict[str, str]] = lambda t: {"Authorization": f"Bearer {t}"},
        margin_s: float = 60.0,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._render = render
        self._margin = margin_s
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self.fetch_count = 0

    def value(self) -> str:
        with self._lock:
            now = self._clock.now()
            if self._token is None or now >= self._token.expires_at - self._margin:
                value, lifetime = self._fetch()
                self.fetch_count += 1
                self._token = _Token(value, now + float(lifetime))
            return self._token.value

    def header(self) -> dict[str, str]:
        return self._render(self.value())

    def invalidate(self) -> None:
        with self._lock:
            self._token = None


class StaticAuth:
    """Credentials that never expire (API keys, Shopify's access token): fixed headers, and
    nothing to refresh, so a 401 is retried once by the session and then reported.

    Usage: `session.send("GET", url, auth=StaticAuth({"X-Shopify-Access-Token": token}))`
    """

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = dict(headers)

    def header(self) -> dict[str, str]:
        return dict(self._headers)

    def invalidate(self) -> None:
        return None


class TokenBucket:
    """Per-account throttle: `rate_per_s` tokens a second, at most `burst` saved up."""

    def __init__(self, rate_per_s: float, burst: int, clock: Clock) -> None:
        self.rate = max(rate_per_s, 1e-6)
        self.capacity = float(max(1, burst))
        self._tokens = self.capacity
        self._clock = clock
        self._stamp = clock.now()
        self._lock = threading.Lock()
        self.waited_s = 0.0  # seconds every acquire slept, in total (the bridge's metrics)

    def acquire(self, cost: float = 1.0) -> float:
        """Take `cost` tokens, sleeping as needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock.now()
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                # Tolerate float rounding: at epoch-sized clock values a tiny top-up wait
                # no longer moves the clock, and the loop would never end.
                if self._tokens >= cost - 1e-6:
                    self._tokens -= cost
                    self.waited_s += waited
                    return waited
                wait = max((cost - self._tokens) / self.rate, 1e-3)
            self._clock.sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """The server said "slow down": drain the bucket so the next call waits."""
        with self._lock:
            self._tokens = min(self._tokens, -seconds * self.rate)


def retry_after_seconds(response: requests.Response, now: float) -> float | None:
    """Retry-After (seconds or HTTP date) or the common rate-limit reset headers."""
    value = response.headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - now)
    for name in ("X-RateLimit-Reset-After", "RateLimit-Reset", "X-RateLimit-Reset"):
        raw = response.headers.get(name)
        if raw:
            try:
                seconds = float(raw)
            except ValueError:
                continue
            # Some APIs send an epoch timestamp here, others seconds to wait.
            return max(0.0, seconds - now) if seconds > 1_000_000_000 else max(0.0, seconds)
    return None


class ApiSession:
    """A requests.Session with throttling, bounded retries, one token refresh and redaction."""

    def __init__(
        self,
        name: str,
        rate_per_s: float,
        burst: int,
        clock: Clock | None = None,
        secrets: Iterable[str] = (),
        attempts: int = DEFAULT_ATTEMPTS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_backoff_s: float = MAX_BACKOFF_S,
    ) -> None:
        self.name = name
        self.clock: Clock = clock or SystemClock()
        self.bucket = TokenBucket(rate_per_s, burst, self.clock)
        self.http = requests.Session()
        self.attempts = attempts
        self.timeout_s = timeout_s
        self.max_backoff_s = max_backoff_s
        self._secrets = [s for s in secrets if s and len(s) >= 4]
        self.requests_sent = 0

    def add_secret(self, secret: str) -> None:
        if secret and len(secret) >= 4:
            self._secrets.append(secret)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def close(self) -> None:
        self.http.close()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = exc.retry_after if isinstance(exc, Transient) else None
        backoff = min(self.max_backoff_s, 0.5 * 2 ** (state.attempt_number - 1))
        backoff += random.uniform(0, backoff / 2)  # jitter: accounts must not retry in step
        return min(self.max_backoff_s, hinted) if hinted is not None else backoff

    def send(
        self,
        method: str,
        url: str,
        *,
        auth: TokenProvider | None = None,
        check: Callable[[requests.Response], None] | None = None,
        sign: Callable[[requests.PreparedRequest], None] | None = None,
        cost: float = 1.0,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one request; returns the final reply (2xx, or a 4xx for the caller to read).

        Raises RetryLater when transient failures outlast the attempts, AuthFailed on a
        401 after one token refresh. `sign` runs on every attempt (fresh timestamps).
        A 2xx is returned as it came: pushes and reads use `exchange` to have it confirmed.
        """
        return self._exchange(method, url, auth, check, sign, None, cost, kwargs).response

    def exchange(
        self,
        method: str,
        url: str,
        *,
        confirm: Callable[[requests.Response], T],
        auth: TokenProvider | None = None,
        check: Callable[[requests.Response], None] | None = None,
        sign: Callable[[requests.PreparedRequest], None] | None = None,
        cost: float = 1.0,
        **kwargs: Any,
    ) -> Exchange[T]:
        """`send`, and a 2xx must pass `confirm` (e.g. `confirm.expect(Model)`), which
        returns the parsed body or raises Transient: a reply that does not confirm is
        retried like a 5xx and ends as RetryLater, never as a success."""
        return self._exchange(method, url, auth, check, sign, confirm, cost, kwargs)

    def _exchange(
        self,
        method: str,
        url: str,
        auth: TokenProvider | None,
        check: Callable[[requests.Response], None] | None,
        sign: Callable[[requests.PreparedRequest], None] | None,
        confirm: Callable[[requests.Response], T] | None,
        cost: float,
        kwargs: dict[str, Any],
    ) -> Exchange[T]:
        refreshed = False
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            sleep=self.clock.sleep,
            retry=retry_if_exception_type(Transient),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    while True:
                        response = self._send_once(method, url, auth, sign, cost, kwargs)
                        verdict = classify_status(response.status_code)
                        if verdict is Verdict.AUTH and auth is not None and not refreshed:
                            refreshed = True
                            auth.invalidate()
                            continue
                        break
                    if verdict is Verdict.AUTH:
                        raise AuthFailed(
                            f"{self.name}: {method} {self._path(url)} answered 401 "
                            f"{self._excerpt(response)}; check the channel's credentials"
                        )
                    if verdict is Verdict.RETRY:
                        wait = retry_after_seconds(response, self.clock.now())
                        if response.status_code == 429 and wait:
                            self.bucket.pause(wait)
                        raise Transient(
                            f"HTTP {response.status_code} {self._excerpt(response)}", wait
                        )
                    if check is not None:
                        check(response)
                    if confirm is None or response.status_code >= 400:
                        return Exchange(response, None)
                    if not 200 <= response.status_code < 300:
                        raise Transient(f"HTTP {response.status_code} is not a confirming reply")
                    return Exchange(response, confirm(response))
        except Transient as exc:
            wait = exc.retry_after if exc.retry_after is not None else 30.0
            raise RetryLater(
                f"{self.name}: {method} {self._path(url)} still failing after "
                f"{self.attempts} attempts: {self.redact(str(exc))}",
                self.clock.now() + wait,
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(
        self,
        method: str,
        url: str,
        auth: TokenProvider | None,
        sign: Callable[[requests.PreparedRequest], None] | None,
        cost: float,
        kwargs: dict[str, Any],
    ) -> requests.Response:
        self.bucket.acquire(cost)
        headers = dict(kwargs.get("headers") or {})
        if auth is not None:
            headers.update(auth.header())
        extra = {k: v for k, v in kwargs.items() if k != "headers"}
        prepared = self.http.prepare_request(requests.Request(method, url, headers=headers, **extra))
        if sign is not None:
            sign(prepared)
        try:
            self.requests_sent += 1
            return self.http.send(prepared, timeout=self.timeout_s)
        except _NO_REPLY as exc:
            raise Transient(f"{type(exc).__name__}: {self.redact(str(exc))}") from None

    @staticmethod
    def _path(url: str) -> str:
        return url.split("?", 1)[0]

    def _excerpt(self, response: requests.Response, limit: int = 300) -> str:
        return self.redact(response.text[:limit])
