"""Small pieces several adapters share: an OAuth token endpoint client, turning a call
that gave up (retries used up, credentials refused) into one result per update, and
reading a JSON reply that may be empty or not JSON at all.

Usage::

    token = oauth_token(session, url, form={"grant_type": "client_credentials"},
                        basic=(client_id, client_secret))
    results = settle(batch, lambda: self._send(batch))
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests

from connector.marketplaces.base import FailureCategory, Outcome, PushResult, StockUpdate
from connector.marketplaces.http import (
    ApiSession,
    AuthFailed,
    CachedToken,
    RetryLater,
)


def reply_json(response: requests.Response) -> Any:
    """The reply's JSON, or {} when the body is empty or not JSON (gateways send HTML)."""
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return {}


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
        reply = session.send(
            "POST", url, headers=headers, data=dict(form or {}), params=dict(query or {})
        )
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


def settle(
    batch: Sequence[StockUpdate], call: Callable[[], list[PushResult]]
) -> list[PushResult]:
    """Run `call`; if it gives up, every update of `batch` gets the same verdict:
    RetryLater -> retryable at its time, AuthFailed -> failed/auth."""
    try:
        return call()
    except RetryLater as exc:
        return [PushResult.retry(u, str(exc), exc.retry_at) for u in batch]
    except AuthFailed as exc:
        return [PushResult.failed(u, FailureCategory.AUTH, str(exc)) for u in batch]


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
