"""bol.com Retailer API v10: `PUT /retailer/offers/{offer-id}/stock`, followed to its end.

The write is one offer per call and only *schedules* the change (202 + ProcessStatus).
The adapter writes every offer of a push, then follows all their process statuses
together with the bulk query `POST /shared/process-status` (up to 1000 ids per call),
polling with growing pauses on the session clock until each is SUCCESS / FAILURE /
TIMEOUT or the deadline passes (then: retryable, since a repeated absolute write is
harmless). Auth: client-credentials token (`login.bol.com/token`, ~5 min), Bearer.
Every call carries the `application/vnd.retailer.v10+json` media type.

Successor (issue 17 item 10): the v10 spec (../shared/specs/bol/retailer.json) marks
`update-offer-stock` (and every /retailer/offers operation) `deprecated: true`; the bol
reference note names the Offers API v11 `PATCH /retailer/offers/{offer-id}`
(`application/vnd.retailer.v11+json`, body `{"stock": {"amount", "managedByRetailer"}}`,
answered without a process status) as its successor. No v11 spec is stored here, so that
shape is the note's (unverified). Channel setting `offers_api` = "v10" (default) or "v11"
makes the cut-over a config change. A v11 write counts as applied only once a read of the
offer (v11 media type) shows the amount sent; a reply with a process status is followed
like v10's; until the read shows it, the write is accepted, not applied.

Usage::

    adapter = BolAdapter("bol_nl", {"base_url": "https://api.bol.com",
                         "client_id": "...", "client_secret": "..."})
    adapter.push([StockUpdate(listing_id=1, sku="8712345678906", quantity=6,
                              external_id="6ff736b5-cdd0-4150-8c67-78269ee986f5")])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import requests
from pydantic import model_validator

from connector.marketplaces.base import (
    FailureCategory,
    MarketplaceAdapter,
    PushResult,
    RemoteListing,
    StockUpdate,
)
from connector.marketplaces.common import ok, oauth_token, reply_json, settle
from connector.marketplaces.confirm import Confirmation, confirm_body, expect, parse_json, unconfirmed
from connector.marketplaces.http import AuthFailed, RetryLater, Transient
from connector.stock.model import PushAction, ZeroStockAction

TOKEN_URL = "https://login.bol.com/token"
MEDIA = "application/vnd.retailer.v10+json"
MEDIA_V11 = "application/vnd.retailer.v11+json"
MAX_AMOUNT = 999  # UpdateOfferStockRequest.amount maximum
POLL_LIMIT = 1000  # BulkProcessStatusRequest.processStatusQueries maxItems
FINAL = ("SUCCESS", "FAILURE", "TIMEOUT")
_NOT_FOUND = re.compile(r"not (be )?found|does not exist|unknown offer", re.IGNORECASE)


class ProcessStatus(Confirmation):
    """The spec's ProcessStatus (required: status, description, eventType, links,
    createTimestamp); the adapter relies on `status`, and on `processStatusId` to follow
    one that is not final yet."""

    processStatusId: str | None = None
    status: Literal["PENDING", "SUCCESS", "FAILURE", "TIMEOUT"]
    errorMessage: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _followable(self) -> ProcessStatus:
        if self.status == "PENDING" and not self.processStatusId:
            raise ValueError("a PENDING process status needs its processStatusId to be followed")
        return self


class ProcessStatusResponse(Confirmation):
    """POST /shared/process-status: `processStatuses` is required."""

    processStatuses: list[ProcessStatus]


class OfferStock(Confirmation):
    amount: int | None = None
    correctedStock: int | None = None


class OfferReply(Confirmation):
    """GET /retailer/offers/{offer-id}: the parts the read relies on (both required)."""

    offerId: str
    stock: OfferStock
    onHoldByRetailer: bool = False


def _v11_reply(response: requests.Response) -> ProcessStatus | None:
    """The 2xx of an Offers API v11 PATCH: a process status to follow when it carries one,
    else None (no body, or none of a process status): the offer read that follows confirms."""
    if not response.content or not response.content.strip():
        return None
    payload = parse_json(response)
    if isinstance(payload, dict) and payload.get("processStatusId"):
        return confirm_body(response, ProcessStatus)
    return None


@dataclass
class _Pending:
    update: StockUpdate
    amount: int
    process_id: str


class BolAdapter(MarketplaceAdapter):
    """Absolute stock per offer (`external_id` = offer id), 0..999, managedByRetailer true
    by default: our number already nets out the orders the ERP knows about, so bol must
    only subtract orders placed after this update (false would subtract them twice)."""

    marketplace = "bol"
    batch_limit = 1  # one offer per stock call
    max_quantity = MAX_AMOUNT  # spec: UpdateOfferStockRequest.amount maximum 999
    rate_per_s = 25.0  # unverified: bol publishes budgets per endpoint in x-ratelimit-* headers
    burst = 25
    default_zero_stock = ZeroStockAction.PUSH_ZERO
    required_keys = ("client_id", "client_secret")
    secret_keys = ("client_secret",)
    optional_keys = (*MarketplaceAdapter.optional_keys, "offers_api")

    def _configure(self) -> None:
        s = self.settings
        self.managed_by_retailer = s.get("managed_by_retailer", "true").lower() != "false"
        self.poll_timeout_s = float(s.get("poll_timeout_s", "60"))
        self.poll_interval_s = float(s.get("poll_interval_s", "1"))  # first pause; doubles to 8 s
        self.offers_api = (s.get("offers_api") or "v10").strip().lower()
        if self.offers_api not in ("v10", "v11"):
            raise ValueError(f"channel {self.channel_code!r} (bol): offers_api must be v10 or v11, "
                             f"not {s.get('offers_api')!r}")
        self.token = oauth_token(
            self.session,
            s.get("token_url") or TOKEN_URL,
            query={"grant_type": "client_credentials"},
            basic=(s["client_id"], s["client_secret"]),
            default_lifetime_s=299.0,
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"Accept": MEDIA, "Content-Type": MEDIA}

    def push(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """Write each offer, then follow up to POLL_LIMIT process statuses per bulk query."""
        by_id: dict[int, PushResult] = {}
        for start in range(0, len(updates), POLL_LIMIT):
            for result in self._push_batch(list(updates[start : start + POLL_LIMIT])):
                by_id[result.listing_id] = result
        return [
            by_id.get(u.listing_id)
            or PushResult.failed(u, FailureCategory.OTHER, "adapter returned no result")
            for u in updates
        ]

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        done: list[PushResult] = []
        pending: list[_Pending] = []
        for update in batch:
            outcome = self._write(update)
            if isinstance(outcome, _Pending):
                pending.append(outcome)
            else:
                done.append(outcome)
        if pending:
            done.extend(settle([p.update for p in pending], lambda: self._follow(pending)))
        return done

    # ------------------------------------------------------------------ write

    def stock_url(self, offer_id: str) -> str:
        return f"{self.base_url}/retailer/offers/{quote(offer_id, safe='')}/stock"

    def stock_body(self, update: StockUpdate) -> dict[str, Any]:
        # bol has no deactivate for stock: amount 0 makes the offer "not for sale".
        zero = update.action in (PushAction.DEACTIVATE, PushAction.END)
        amount = 0 if zero else min(MAX_AMOUNT, max(0, update.quantity))
        return {"amount": amount, "managedByRetailer": self.managed_by_retailer}

    def _write(self, update: StockUpdate) -> PushResult | _Pending:
        if not update.external_id:
            return PushResult.failed(
                update, FailureCategory.UNKNOWN_LISTING, "no bol offer id (external_id) on the listing"
            )
        if self.offers_api == "v11":
            return self._write_v11(update, update.external_id)
        body = self.stock_body(update)
        try:
            reply = self.session.exchange(
                "PUT", self.stock_url(update.external_id), confirm=expect(ProcessStatus), json=body,
                headers=self.headers, auth=self.token,
            )
        except RetryLater as exc:
            return PushResult.retry(update, str(exc), exc.retry_at)
        except AuthFailed as exc:
            return PushResult.failed(update, FailureCategory.AUTH, str(exc))
        status = reply.body
        if status is None:
            return self._problem(update, reply.status, reply_json(reply.response))
        if status.status in FINAL:
            return self._final(update, body["amount"], status)
        assert status.processStatusId  # ProcessStatus requires it while PENDING
        return _Pending(update, body["amount"], status.processStatusId)

    def offer_url(self, offer_id: str) -> str:
        return f"{self.base_url}/retailer/offers/{quote(offer_id, safe='')}"

    def _write_v11(self, update: StockUpdate, offer_id: str) -> PushResult | _Pending:
        """Offers API v11: PATCH the offer's stock, then read it back to confirm."""
        stock = self.stock_body(update)
        headers = {"Accept": MEDIA_V11, "Content-Type": MEDIA_V11}
        try:
            reply = self.session.exchange(
                "PATCH", self.offer_url(offer_id), confirm=_v11_reply, json={"stock": stock},
                headers=headers, auth=self.token,
            )
            if reply.status >= 300:
                return self._problem(update, reply.status, reply_json(reply.response))
            status = reply.body
            if status is not None:
                if status.status in FINAL:
                    return self._final(update, stock["amount"], status)
                return _Pending(update, stock["amount"], str(status.processStatusId))
            read = self.session.exchange(
                "GET", self.offer_url(offer_id), confirm=expect(OfferReply),
                headers={"Accept": MEDIA_V11}, auth=self.token,
            )
        except RetryLater as exc:
            return PushResult.retry(update, str(exc), exc.retry_at)
        except AuthFailed as exc:
            return PushResult.failed(update, FailureCategory.AUTH, str(exc))
        except Transient as exc:
            return PushResult.retry(update, f"not confirmed: {exc}", self.clock.now() + 60)
        offer = read.body
        if offer is not None and offer.stock.amount == stock["amount"]:
            return ok(update, stock["amount"])
        shown = offer.stock.amount if offer is not None else f"HTTP {read.status}"
        return PushResult.accepted(
            update, f"bol answered the v11 PATCH with HTTP {reply.status}; the offer shows {shown}",
            self.clock.now() + 60,
        )

    def _problem(self, update: StockUpdate, status: int, payload: Any) -> PushResult:
        detail = ""
        if isinstance(payload, dict):
            parts = [str(payload.get("title") or ""), str(payload.get("detail") or "")]
            parts += [f"{v.get('name')}: {v.get('reason')}" for v in payload.get("violations") or []]
            detail = "; ".join(p for p in parts if p)
        message = self.session.redact(detail or f"HTTP {status}")
        if status == 404:
            return PushResult.failed(update, FailureCategory.UNKNOWN_LISTING, message)
        if status == 403:
            return PushResult.failed(update, FailureCategory.AUTH, message)
        return PushResult.failed(update, FailureCategory.VALIDATION, message)

    # ------------------------------------------------------------------ follow

    def _follow(self, pending: list[_Pending]) -> list[PushResult]:
        results: list[PushResult] = []
        waiting = {p.process_id: p for p in pending}
        deadline = self.clock.now() + self.poll_timeout_s
        pause = self.poll_interval_s
        while waiting:
            if self.clock.now() + pause > deadline:
                break
            self.clock.sleep(pause)
            pause = min(pause * 2, max(8.0, self.poll_interval_s))
            ids = list(waiting)
            for start in range(0, len(ids), POLL_LIMIT):
                chunk = ids[start : start + POLL_LIMIT]
                reply = self.session.exchange(
                    "POST",
                    f"{self.base_url}/shared/process-status",
                    confirm=expect(ProcessStatusResponse),
                    json={"processStatusQueries": [{"processStatusId": i} for i in chunk]},
                    headers=self.headers,
                    auth=self.token,
                )
                if reply.body is None:
                    # A refused status query says nothing about the writes: follow them later.
                    for process_id in chunk:
                        lost = waiting.pop(process_id)
                        results.append(unconfirmed(
                            lost.update, f"bol answered HTTP {reply.status} to the process status query",
                            self.clock.now(),
                        ))
                    continue
                seen = set()
                for status in reply.body.processStatuses:
                    process_id = str(status.processStatusId or "")
                    item = waiting.get(process_id)
                    seen.add(process_id)
                    if item is not None and status.status in FINAL:
                        results.append(self._final(item.update, item.amount, status))
                        del waiting[process_id]
                for process_id in set(chunk) - seen:
                    # bol keeps statuses only for a while: one that vanished cannot be
                    # followed, so write again later (absolute value, harmless).
                    item = waiting.pop(process_id)
                    results.append(PushResult.retry(
                        item.update, f"bol process status {process_id} no longer available",
                        self.clock.now() + 60,
                    ))
        for item in waiting.values():
            # bol took the write (202 + a PENDING process status) but has not applied it:
            # accepted, not yet applied (issue 17), written again at the hold's end (an
            # absolute amount; bol answers it with a fresh process status to follow).
            results.append(PushResult.accepted(
                item.update,
                f"bol process {item.process_id} still pending after {self.poll_timeout_s:.0f}s",
                self.clock.now() + 60,
            ))
        return results

    def _final(self, update: StockUpdate, amount: int, status: ProcessStatus) -> PushResult:
        state = status.status
        if state == "SUCCESS":
            return ok(update, amount)
        message = self.session.redact(str(status.errorMessage or status.description or state))
        if state == "TIMEOUT":
            return PushResult.retry(update, f"bol timed out: {message}", self.clock.now() + 60)
        category = (
            FailureCategory.UNKNOWN_LISTING if _NOT_FOUND.search(message) else FailureCategory.VALIDATION
        )
        return PushResult.failed(update, category, message)

    # ------------------------------------------------------------------ read

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        """GET /retailer/offers/{offer-id}: stock.amount (what we sent), active = not on hold
        and correctedStock > 0."""
        out: list[RemoteListing] = []
        for sku, offer_id in skus:
            if not offer_id:
                out.append(RemoteListing(sku, None, None, found=False))
                continue
            reply = self.session.exchange(
                "GET", f"{self.base_url}/retailer/offers/{quote(offer_id, safe='')}",
                confirm=expect(OfferReply), headers={"Accept": MEDIA_V11 if self.offers_api == "v11" else MEDIA},
                auth=self.token,
            )
            offer = reply.body
            if offer is None:
                # 404: no such offer; another refusal says nothing about it.
                out.append(RemoteListing(sku, None, None, found=reply.status != 404,
                                         raw=reply_json(reply.response)))
                continue
            corrected = offer.stock.correctedStock
            active = not offer.onHoldByRetailer and (corrected is None or corrected > 0)
            out.append(RemoteListing(sku, offer.stock.amount, active, found=True,
                                     raw=offer.model_dump(mode="json")))
        return out
