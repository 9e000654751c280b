"""Amazon Selling Partner API: stock through Listings Items 2021-08-01 `patchListingsItem`.

Why PATCH per SKU and not the JSON_LISTINGS_FEED: the bridge pushes event-driven changes
and its whole point is a short oversell window. A PATCH is validated at once (INVALID +
issues in the reply) and applied within minutes; a feed adds createFeedDocument + upload +
createFeed (0.0083 rps, 5 feeds per 5 min per region) + polling before anything starts.
The cost is one request per SKU at 5 rps (the stored model's usage plan: rate 5, burst 5).

FBA: a SKU Amazon fulfils (fulfillmentChannelCode AMAZON_EU, AMAZON_NA, ...) has its
stock managed by Amazon, and a merge with DEFAULT would ADD a merchant-fulfilled offer
next to it. So before the first push of a SKU the adapter reads getListingsItem
(includedData=fulfillmentAvailability) and remembers the answer per SKU for
`FULFILLMENT_CHECK_TTL_S` (a seller may convert a SKU; `read` refreshes it for free); a
SKU whose offers are all Amazon-fulfilled fails VALIDATION and no PATCH is sent.

Accepted is not applied: a PATCH answered ACCEPTED has only passed Amazon's synchronous
checks. Amazon's "Manage Listings Issues" guide
(developer-docs.amazon.com/sp-api/docs/manage-listings-issues): "If the submission passes
the initial synchronous validations, the submission is accepted and is sent downstream ...
However, Accepted does not mean the process is complete ... any of these processes can
generate issues that return asynchronously"; the spec's ListingsItemSubmissionResponse
enum: ACCEPTED = "accepted for processing". So ACCEPTED comes back as
`PushResult.accepted` (a deferred hold, state pending, "accepted, not yet applied"), and
when the engine's retry queue brings the same update back after `confirm_after_s`, the
adapter reads getListingsItem (includedData=fulfillmentAvailability,issues) instead of
patching again: our quantity shown -> OK (applied); not shown and an ERROR issue ->
FAILED/validation (a late rejection, the listing's error); neither -> wait again, doubling,
until `confirm_budget_s` after acceptance, then the PATCH is sent again (counted as a
retry, so a write Amazon never applies ends as an error, not a loop).

Auth: Login with Amazon refresh-token grant -> access token in `x-amz-access-token`,
cached until shortly before `expires_in` (3600 s). No SigV4 (not required since 2023).

Usage::

    adapter = AmazonAdapter("amazon_de", {"base_url": "https://sellingpartnerapi-eu.amazon.com",
                            "seller_id": "A3EXAMPLE", "marketplace_id": "A1PA6795UKMFR9",
                            "client_id": "...", "client_secret": "...", "refresh_token": "..."})
    adapter.push([StockUpdate(listing_id=1, sku="MUG-RED", quantity=4)])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import requests

from connector.marketplaces.base import (
    FailureCategory,
    MarketplaceAdapter,
    PushResult,
    RemoteListing,
    StockUpdate,
)
from connector.marketplaces.common import ok, oauth_token, reply_json, settle
from connector.marketplaces.confirm import Confirmation, expect, require
from connector.marketplaces.http import AuthFailed, Exchange
from connector.stock.model import PushAction, ZeroStockAction

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
API_PATH = "/listings/2021-08-01/items"
ATTRIBUTE = "/attributes/fulfillment_availability"
_NOT_FOUND = re.compile(r"not[ _]?found|does not exist|unknown sku", re.IGNORECASE)
FULFILLMENT_CHECK_TTL_S = 24 * 3600.0  # how long a SKU's fulfilment channel is trusted
FBA_MESSAGE = "FBA listing: Amazon manages its stock"
# First read-back after ACCEPTED, then doubling; no figure is published for how long
# processing takes (the reference says "minutes"), so both are channel settings.
CONFIRM_AFTER_S = 120.0
CONFIRM_BUDGET_S = 30 * 60.0
T = TypeVar("T")


class Issue(Confirmation):
    code: str
    message: str
    severity: str


class SubmissionReply(Confirmation):
    """patchListingsItem's ListingsItemSubmissionResponse (required: sku, status, submissionId)."""

    sku: str
    status: Literal["ACCEPTED", "INVALID", "VALID"]
    submissionId: str
    issues: list[Issue] = []


class Availability(Confirmation):
    fulfillmentChannelCode: str
    quantity: int | None = None


class Summary(Confirmation):
    marketplaceId: str | None = None
    status: list[str] = []


class ItemIssue(Confirmation):
    """An Item's issue (spec Issue: code, message, severity required)."""

    code: str
    message: str
    severity: str
    marketplaceIds: list[str] = []


class ItemReply(Confirmation):
    """getListingsItem's Item (required: sku); the parts the adapter reads."""

    sku: str
    fulfillmentAvailability: list[Availability] = []
    summaries: list[Summary] = []
    issues: list[ItemIssue] = []


@dataclass
class _Accepted:
    """A PATCH Amazon accepted and we have not yet seen applied."""

    quantity: int
    submission_id: str
    accepted_at: float
    wait_s: float  # the pause before the next read-back (doubles)


class AmazonAdapter(MarketplaceAdapter):
    """One PATCH of `fulfillment_availability` per SKU (op `merge`, so the handling time
    and restock date already on the listing are kept; `replace` would drop them)."""

    marketplace = "amazon"
    batch_limit = 1
    rate_per_s = 5.0
    burst = 5
    default_zero_stock = ZeroStockAction.PUSH_ZERO
    required_keys = ("seller_id", "marketplace_id", "client_id", "client_secret", "refresh_token")
    secret_keys = ("client_secret", "refresh_token")
    optional_keys = (*MarketplaceAdapter.optional_keys, "confirm_after_s", "confirm_budget_s")

    def _configure(self) -> None:
        s = self.settings
        self.seller_id = s["seller_id"]
        self.marketplace_id = s["marketplace_id"]
        # "PRODUCT" is accepted for offer-only patches; a real product type also works.
        self.product_type = s.get("product_type") or "PRODUCT"
        self.channel_code_ff = s.get("fulfillment_channel_code") or "DEFAULT"
        self.issue_locale = s.get("issue_locale") or "en_US"
        self.token = oauth_token(
            self.session,
            s.get("token_url") or LWA_TOKEN_URL,
            form={
                "grant_type": "refresh_token",
                "refresh_token": s["refresh_token"],
                "client_id": s["client_id"],
                "client_secret": s["client_secret"],
            },
            render=lambda t: {"x-amz-access-token": t},
        )
        # sku -> (fulfillment channel codes Amazon reported, when): the FBA check's cache.
        self._channels: dict[str, tuple[tuple[str, ...], float]] = {}
        self.confirm_after_s = float(s.get("confirm_after_s") or CONFIRM_AFTER_S)
        self.confirm_budget_s = float(s.get("confirm_budget_s") or CONFIRM_BUDGET_S)
        # sku -> the accepted PATCH awaiting its read-back. In memory only: after a restart
        # the retry queue's update is simply PATCHed again (an absolute value, harmless).
        self._accepted: dict[str, _Accepted] = {}

    def pending_confirmations(self) -> int:
        """How many accepted PATCHes are not yet seen applied."""
        return len(self._accepted)

    # ------------------------------------------------------------------ push

    def item_url(self, sku: str) -> str:
        # SKUs may hold "/" or "#": Amazon wants them percent-encoded in the path.
        return f"{self.base_url}{API_PATH}/{quote(self.seller_id, safe='')}/{quote(sku, safe='')}"

    def patch_body(self, quantity: int) -> dict[str, Any]:
        return {
            "productType": self.product_type,
            "patches": [
                {
                    "op": "merge",
                    "path": ATTRIBUTE,
                    "value": [
                        {"fulfillment_channel_code": self.channel_code_ff, "quantity": quantity}
                    ],
                }
            ],
        }

    def send(
        self, method: str, url: str, confirm: Callable[[requests.Response], T], **kwargs: Any
    ) -> Exchange[T]:
        """session.exchange with the LWA token; SP-API answers an expired or revoked access
        token with 403 "Unauthorized" (not 401), so that also gets one fresh token."""
        headers = {"Accept": "application/json"}
        reply = self.session.exchange(
            method, url, confirm=confirm, headers=headers, auth=self.token, **kwargs
        )
        if reply.status == 403 and "Unauthorized" in self._errors(reply_json(reply.response)):
            self.token.invalidate()
            reply = self.session.exchange(
                method, url, confirm=confirm, headers=headers, auth=self.token, **kwargs
            )
            if reply.status == 403:
                raise AuthFailed(
                    f"{self.session.name}: {method} {url.split('?', 1)[0]} answered 403 "
                    f"{self.session.redact(self._errors(reply_json(reply.response)))} with a fresh token; "
                    "check the app's roles and the seller authorization"
                )
        return reply

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        results: list[PushResult] = []
        for update in batch:
            # settle() calls the lambda at once, so the loop variable is the right one.
            results.extend(settle([update], lambda: [self._patch(update)]))  # noqa: B023
        return results

    def _remember_channels(self, sku: str, item: ItemReply) -> tuple[str, ...]:
        codes = tuple(e.fulfillmentChannelCode for e in item.fulfillmentAvailability)
        self._channels[sku] = (codes, self.clock.now())
        return codes

    def _get_item(self, sku: str, included: str) -> Exchange[ItemReply]:
        """getListingsItem; a 2xx must be an Item about this very SKU."""
        reply = self.send(
            "GET",
            self.item_url(sku),
            expect(ItemReply, lambda item: require(
                item.sku == sku, f"getListingsItem for {sku!r} answered about another SKU")),
            params={
                "marketplaceIds": self.marketplace_id,
                "includedData": included,
                "issueLocale": self.issue_locale,
            },
        )
        return reply

    def _fulfilment_refusal(self, update: StockUpdate) -> PushResult | None:
        """None when we may set this SKU's quantity, else the failed result (FBA SKU, or a
        SKU Amazon does not know). Reads getListingsItem once per SKU per TTL."""
        cached = self._channels.get(update.sku)
        if cached is not None and self.clock.now() - cached[1] < FULFILLMENT_CHECK_TTL_S:
            codes = cached[0]
        else:
            reply = self._get_item(update.sku, "fulfillmentAvailability")
            if reply.body is None:
                # Not cached: the SKU may be created, or the refusal lifted, later.
                payload = reply_json(reply.response)
                message = self.session.redact(self._errors(payload) or f"HTTP {reply.status}")
                category = (
                    FailureCategory.UNKNOWN_LISTING
                    if reply.status == 404
                    else FailureCategory.AUTH if reply.status == 403 else FailureCategory.VALIDATION
                )
                return PushResult.failed(update, category, message)
            codes = self._remember_channels(update.sku, reply.body)
        # No offer yet, or one of ours next to an FBA one: ours may be set.
        if not codes or self.channel_code_ff in codes:
            return None
        return PushResult.failed(
            update,
            FailureCategory.VALIDATION,
            f"{FBA_MESSAGE} (fulfillment channel {', '.join(codes)}); nothing sent",
        )

    def _patch(self, update: StockUpdate) -> PushResult:
        # Amazon has no deactivate/end for stock: zero suppresses the offer, stock returns it.
        zero = update.action in (PushAction.DEACTIVATE, PushAction.END)
        quantity = 0 if zero else max(0, update.quantity)
        pending = self._accepted.get(update.sku)
        if pending is not None and pending.quantity == quantity:
            # Kept while reading: a read that fails is retried and confirms next time.
            confirmed = self._confirm(update, pending)
            if confirmed is not None:
                if not confirmed.awaiting_confirmation:
                    self._accepted.pop(update.sku, None)
                return confirmed
        self._accepted.pop(update.sku, None)  # another value, or sent again: a new submission
        refusal = self._fulfilment_refusal(update)
        if refusal is not None:
            return refusal
        reply = self.send(
            "PATCH",
            self.item_url(update.sku),
            expect(SubmissionReply, lambda reply: require(
                reply.sku == update.sku, f"the PATCH of {update.sku!r} was answered about another SKU")),
            params={"marketplaceIds": self.marketplace_id, "issueLocale": self.issue_locale},
            json=self.patch_body(quantity),
        )
        submission = reply.body
        if submission is None:
            message = self._errors(reply_json(reply.response)) or f"HTTP {reply.status}"
            if reply.status == 404 or _NOT_FOUND.search(message):
                category = FailureCategory.UNKNOWN_LISTING
            elif reply.status == 403:
                category = FailureCategory.AUTH
            else:
                category = FailureCategory.VALIDATION
            return PushResult.failed(update, category, self.session.redact(message))
        status = submission.status
        issues = [i for i in submission.issues if i.severity == "ERROR"]
        if status == "INVALID" or issues:
            message = "; ".join(f"{i.code}: {i.message}" for i in issues) or f"submission {status}"
            category = (
                FailureCategory.UNKNOWN_LISTING
                if _NOT_FOUND.search(message)
                else FailureCategory.VALIDATION
            )
            return PushResult.failed(update, category, self.session.redact(message))
        if status == "VALID":  # only for mode=VALIDATION_PREVIEW, which we never send
            return PushResult.failed(update, FailureCategory.OTHER,
                                     f"submission {submission.submissionId} was only validated")
        # ACCEPTED = queued for processing, not applied: confirm it later by reading back.
        now = self.clock.now()
        self._accepted[update.sku] = _Accepted(quantity, submission.submissionId, now, self.confirm_after_s)
        return PushResult.accepted(
            update, f"Amazon submission {submission.submissionId} queued", now + self.confirm_after_s
        )

    def _confirm(self, update: StockUpdate, pending: _Accepted) -> PushResult | None:
        """Read back an accepted PATCH: applied (OK), rejected late (FAILED), still waiting
        (accepted again), budget spent (RETRY); None to send the PATCH again (a refused read)."""
        reply = self._get_item(update.sku, "fulfillmentAvailability,issues")
        item = reply.body
        if item is None:
            if reply.status == 404:
                return PushResult.failed(
                    update, FailureCategory.UNKNOWN_LISTING,
                    f"Amazon accepted submission {pending.submission_id}, but the SKU is not "
                    "found on read-back",
                )
            return None
        self._remember_channels(update.sku, item)
        shown = next((a.quantity for a in item.fulfillmentAvailability
                      if a.fulfillmentChannelCode == self.channel_code_ff), None)
        if shown == pending.quantity:
            return ok(update, pending.quantity,
                      message=f"submission {pending.submission_id} applied")
        errors = [i for i in item.issues if i.severity == "ERROR"
                  and (not i.marketplaceIds or self.marketplace_id in i.marketplaceIds)]
        if errors:
            text = "; ".join(f"{i.code}: {i.message}" for i in errors)
            return PushResult.failed(
                update, FailureCategory.VALIDATION,
                self.session.redact(
                    f"Amazon accepted submission {pending.submission_id} but did not apply it: {text}"),
            )
        now = self.clock.now()
        if now - pending.accepted_at >= self.confirm_budget_s:
            # Never applied, never refused: a plain retry (counted toward giving up, so a
            # write Amazon never applies ends as the listing's error, not a loop); the
            # next attempt PATCHes again.
            self._accepted.pop(update.sku, None)
            return PushResult.retry(
                update,
                f"Amazon accepted submission {pending.submission_id} "
                f"{round((now - pending.accepted_at) / 60)} min ago but shows {shown}; sending again",
                now,
            )
        pending.wait_s = min(pending.wait_s * 2, self.confirm_budget_s)
        return PushResult.accepted(
            update,
            f"Amazon submission {pending.submission_id} not applied yet (shows {shown})",
            min(now + pending.wait_s, pending.accepted_at + self.confirm_budget_s),
        )

    @staticmethod
    def _errors(payload: Any) -> str:
        if not isinstance(payload, dict):
            return ""
        return "; ".join(
            f"{e.get('code', '')}: {e.get('message', '')}".strip()
            for e in payload.get("errors") or []
            if isinstance(e, dict)
        )

    # ------------------------------------------------------------------ read

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        """getListingsItem with summaries + fulfillmentAvailability, one GET per SKU."""
        out: list[RemoteListing] = []
        for sku, _external in skus:
            reply = self._get_item(sku, "summaries,fulfillmentAvailability")
            item = reply.body
            if item is None:
                # 404: not on Amazon. Another refusal says nothing about the listing.
                out.append(RemoteListing(sku, None, None, found=reply.status != 404,
                                         raw=reply_json(reply.response)))
                continue
            self._remember_channels(sku, item)
            quantity: int | None = None
            for entry in item.fulfillmentAvailability:
                if entry.fulfillmentChannelCode == self.channel_code_ff:
                    quantity = entry.quantity
            active: bool | None = None
            for summary in item.summaries:
                if summary.marketplaceId in (None, self.marketplace_id):
                    active = "BUYABLE" in summary.status
            out.append(RemoteListing(sku, quantity, active, found=True, raw=item.model_dump(mode="json")))
        return out
