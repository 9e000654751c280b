"""Small pieces several adapters share: an OAuth token endpoint client, turning a call
that gave up (retries used up, credentials refused, a whole-request failure) into one
result per update, reading a JSON reply that may be empty or not JSON at all, and
splitting "<parent>/<child>" external ids.

Usage::

    token = oauth_token(session, url, form={"grant_type": "client_credentials"},
                        basic=(client_id, client_secret))
    results = settle(batch, lambda: self._send(batch))
    item_id, model_id = split_id("1000/3456") or (0, None)
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests

from connector.marketplaces.base import FailureCategory, Outcome, PushResult, StockUpdate
from connector.marketplaces.confirm import TokenReply, expect
from connector.marketplaces.http import (
    ApiSession,
    AuthFailed,
    CachedToken,
    RetryLater,
    Transient,
)


_FRESH_DICT: Any = object()  # reply_json's default: a new {} on every call


def reply_json(response: requests.Response, default: Any = _FRESH_DICT) -> Any:
    """The reply's JSON, or `default` (a new {} unless given) when the body is empty or
    not JSON (gateways send HTML): `reply_json(reply)`, `reply_json(reply, None)`."""
    if response.content:
        try:
            return response.json()
        except ValueError:
            pass
    return {} if default is _FRESH_DICT else default


def _id_parts(external_id: str | None) -> list[str] | None:
    if not external_id:
        return None
    parts = external_id.strip().split("/")
    return parts if len(parts) in (1, 2) else None


def split_id(external_id: str | None) -> tuple[int, int | None] | None:
    """A numeric "<parent>/<child>" or "<id>" external id as ints (whatever `int` takes):
    `split_id("12/800") == (12, 800)`, `split_id("799") == (799, None)`, else None."""
    parts = _id_parts(external_id)
    if parts is None:
        return None
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        return None
    return numbers[0], numbers[1] if len(numbers) == 2 else None


def split_id_text(external_id: str | None) -> tuple[str, str | None] | None:
    """The same for APIs whose ids stay text (digits only, kept as written):
    `split_id_text("123/456") == ("123", "456")`, `split_id_text("123") == ("123", None)`."""
    parts = _id_parts(external_id)
    if parts is None or not all(p.isdigit() for p in parts):
        return None
    return parts[0], parts[1] if len(parts) == 2 else None


def basic_auth(user: str, password: str) -> str:
    """An HTTP Basic `Authorization` value (token endpoints want it as a plain header)."""
    raw = f"{user}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def oauth_token(
    session: ApiSession,
    url: str,
    *,
    form: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    basic: tuple[str, str] | None = None,
    render: Callable[[str], dict[str, str]] = lambda t: {"Authorization": f"Bearer {t}"},
    default_lifetime_s: float = 3600.0,
) -> CachedToken:
    """A CachedToken whose fetch POSTs to an OAuth2 token endpoint (RFC 6749 section 4/6).

    The request goes through `session` (throttle, retries); a refusal (400 invalid_grant,
    401 invalid_client) raises AuthFailed with the endpoint's error code, never a secret.
    """

    def fetch() -> tuple[str, float]:
        headers = {"Accept": "application/json"}
        if basic is not None:
            headers["Authorization"] = basic_auth(*basic)
        # A 2xx without a token or an error is retried (RetryLater), never a refusal.
        reply = session.exchange(
            "POST", url, confirm=expect(TokenReply), headers=headers, data=dict(form or {}),
            params=dict(query or {}),
        ).response
        payload = reply_json(reply)
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if reply.status_code >= 400 or not token:
            error = ""
            if isinstance(payload, dict):
                error = " ".join(
                    str(payload[k]) for k in ("error", "error_description") if payload.get(k)
                )
            raise AuthFailed(
                f"{session.name}: token request to {url.split('?', 1)[0]} refused "
                f"(HTTP {reply.status_code}) {session.redact(error)}; check the channel's "
                "credentials"
            )
        session.add_secret(str(token))
        lifetime = payload.get("expires_in") or default_lifetime_s
        return str(token), float(lifetime)

    return CachedToken(fetch, session.clock, render=render)


class BatchFailed(Exception):
    """A reply that fails a whole request (every item of it) with one category, e.g. a
    4xx on a batch endpoint: `raise BatchFailed(FailureCategory.OTHER, "HTTP 500 ...")`.
    `message` must already be redacted."""

    def __init__(self, category: FailureCategory, message: str) -> None:
        super().__init__(message)
        self.category = category
        self.message = message


# What `settle` turns into results. Transient only gets here from a check made outside the
# session's retries (a reply that did not confirm): retried later, like RetryLater.
GAVE_UP = (RetryLater, AuthFailed, BatchFailed, Transient)


def gave_up(update: StockUpdate, exc: RetryLater | AuthFailed | BatchFailed | Transient) -> PushResult:
    """The result for `update` when its request gave up with `exc`: RetryLater ->
    retryable at its time, AuthFailed -> failed/auth, BatchFailed -> failed/its category,
    Transient -> retryable when the engine's retry queue next runs."""
    if isinstance(exc, RetryLater):
        return PushResult.retry(update, str(exc), exc.retry_at)
    if isinstance(exc, Transient):
        return PushResult(update.listing_id, Outcome.RETRY, message=f"not confirmed: {exc}")
    if isinstance(exc, AuthFailed):
        return PushResult.failed(update, FailureCategory.AUTH, str(exc))
    return PushResult.failed(update, exc.category, exc.message)


def settle(
    batch: Sequence[StockUpdate], call: Callable[[], list[PushResult]]
) -> list[PushResult]:
    """Run `call`; if it gives up (`GAVE_UP`), every update of `batch` gets the same
    verdict (`gave_up`)."""
    try:
        return call()
    except GAVE_UP as exc:
        return [gave_up(u, exc) for u in batch]


def ok(
    update: StockUpdate, quantity: int, *, active: bool | None = None, message: str = ""
) -> PushResult:
    """A success that says what the marketplace holds now (may differ from the request,
    e.g. bol's 999 cap, or 0 for a deactivation)."""
    return PushResult(
        update.listing_id,
        Outcome.OK,
        applied_quantity=quantity,
        active=active,
        message=message,
    )
