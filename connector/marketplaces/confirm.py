"""What counts as a confirming reply: the one place that decides it for every adapter.

A push counts as applied only when the marketplace's reply positively says so. An adapter
states what such a reply looks like as a pydantic model (`Confirmation` subclasses: the
fields it relies on are required, unknown fields are kept) and passes it to the session:
``session.exchange("PUT", url, confirm=expect(ProcessStatus), json=body).body``. On a 2xx
the body is parsed and validated here (and checked by `expect`'s `check`, e.g. that the
reply is about the item sent); a body that is not JSON, has another shape or is about
something else raises `Unconfirmed`, a `Transient`, so the session retries it like a 5xx
and, once the attempts are used up, the listing comes back RETRY (pushes are absolute
values: sending again is harmless). Never OK, never a permanent error. A timeout, a
dropped connection or a body cut short never reaches this module: the session turns
those into `Transient` itself. Reads go the same way: a read that does not confirm raises
RetryLater instead of reporting a listing as missing or wrong.

Per-item APIs (bol process statuses, eBay/Kaufland/Zalando/WooCommerce/Shopee results)
confirm the envelope here and give each item the reply does not name (or does not
confirm) `unconfirmed(update, why, now)`: RETRY.

Usage::

    class PatchReply(Confirmation):
        sku: str
        status: Literal["ACCEPTED", "INVALID", "VALID"]

    reply = session.exchange("PATCH", url, confirm=expect(PatchReply), json=patch)
    reply.body        # a PatchReply on a 2xx; None on a 4xx, which the adapter reads itself
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from connector.marketplaces.base import PushResult, StockUpdate
from connector.marketplaces.http import Transient

UNCONFIRMED_RETRY_S = 60.0  # a reply that confirmed nothing: try the absolute value again soon


class Unconfirmed(Transient):
    """A 2xx reply that does not positively confirm the request: not JSON, not the shape
    the adapter stated, or about something else. Retried like a 5xx; never OK, never
    permanent."""


class Confirmation(BaseModel):
    """Base of the reply models adapters state; unknown fields are kept (marketplaces add
    fields freely), the ones the adapter relies on are declared and required."""

    model_config = ConfigDict(extra="allow", frozen=True)


M = TypeVar("M", bound=BaseModel)


class TokenReply(Confirmation):
    """An OAuth2 token endpoint's 2xx (RFC 6749 5.1/5.2): the token, or an `error` code.
    A body with neither is not an answer (retried); a refusal stays a refusal."""

    access_token: str | None = None
    error: str | None = None

    @model_validator(mode="after")
    def _says_something(self) -> TokenReply:
        if not self.access_token and not self.error:
            raise ValueError("neither access_token nor error")
        return self


def parse_json(response: requests.Response) -> Any:
    """The body as JSON, or Unconfirmed (empty, not UTF-8, not JSON)."""
    raw = response.content
    if not raw or not raw.strip():
        raise Unconfirmed(f"HTTP {response.status_code} with an empty body")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Unconfirmed(
            f"HTTP {response.status_code} with a body that is not JSON ({type(exc).__name__}); "
            "not counted as applied"
        ) from None


def confirm_body(response: requests.Response, model: type[M]) -> M:
    """The validated body of a 2xx reply, or Unconfirmed naming what was missing."""
    data = parse_json(response)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Unconfirmed(
            f"HTTP {response.status_code} with an unexpected reply shape for {model.__name__}: "
            f"{_brief(exc)}; not counted as applied"
        ) from None


def _brief(exc: ValidationError, limit: int = 3) -> str:
    """A short, secret-free description: where the shape broke, never the values."""
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error.get("loc", ())) or "body"
        parts.append(f"{where}: {error.get('type', 'invalid')}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def require(condition: bool, why: str) -> None:
    """For checks a model cannot state alone (a reply about another item, a state that is
    not the one asked for): `require(reply.sku == sku, "reply names another SKU")`. Meant
    for `expect`'s `check`, so that the session retries the request."""
    if not condition:
        raise Unconfirmed(why)


def expect(
    model: type[M], check: Callable[[M], None] | None = None
) -> Callable[[requests.Response], M]:
    """The `confirm` hook for `ApiSession.exchange`: a 2xx must hold a valid `model`, and
    pass `check` (which calls `require`) when given, e.g. that the reply is about the item
    that was sent: `expect(PatchReply, lambda r: require(r.sku == sku, "another SKU"))`.
    Both run inside the session's retries, so a reply that fails them is sent again."""

    def confirm(response: requests.Response) -> M:
        body = confirm_body(response, model)
        if check is not None:
            check(body)
        return body

    confirm.__name__ = f"expect_{model.__name__}"
    return confirm


def unconfirmed(update: StockUpdate, why: str, now: float) -> PushResult:
    """The result of an item a reply did not name or did not confirm: retried soon, never
    OK (we cannot know it was applied) and never failed (nothing said it was refused)."""
    return PushResult.retry(update, f"not confirmed: {why}", now + UNCONFIRMED_RETRY_S)
