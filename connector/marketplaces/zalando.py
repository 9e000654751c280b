"""Zalando zDirect (Partner Fulfilment): `POST /merchants/{merchant_id}/stocks`.

Absolute stock per EAN (one size) in one sales channel (a country), up to 1000 items per
call; the reply is 207 with one `results[]` entry per item (`result.status` ACCEPTED /
REJECTED / FAILED, `result.code` 0 / 101 / 102 / 104). Auth: client-credentials token
from `{host}/auth/token` (the token endpoint allows 8 calls a minute: the token is cached).

One invalid item never fails the others (issue 17 item 9). The spec declares each item's
`ean` as `format: gtin-13` and `sales_channel_id` as `format: uuid`: an item whose EAN is
not a valid GTIN-13 (13 digits, check digit right) fails alone, VALIDATION, and is not
sent. A whole-request refusal (4xx problem, not the 207 per-item reply) of a batch of
several items is not taken as every item's verdict: the batch is split in halves and each
half sent again, down to single items, so only the item(s) Zalando refuses alone fail.

Throttling: both 60 requests and 2000 stock items a minute apply. One bucket models both:
it refills one request a second (burst 60) and a request of n items costs n * 60 / 2000
tokens (at least 1), so 1000-item batches go out two a minute.

Usage::

    adapter = ZalandoAdapter("zalando_de", {"base_url": "https://api.merchants.zalando.com",
                             "merchant_id": "...", "sales_channel_id": "01924c48-...",
                             "client_id": "...", "client_secret": "..."})
    adapter.push([StockUpdate(listing_id=1, sku="4063614512884", quantity=5)])
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from connector.marketplaces.base import (
    FailureCategory,
    MarketplaceAdapter,
    PushResult,
    RemoteListing,
    StockUpdate,
)
from connector.marketplaces.common import ok, oauth_token, reply_json, settle
from connector.marketplaces.confirm import Confirmation, expect, unconfirmed
from connector.stock.model import PushAction, ZeroStockAction

ITEMS_PER_MINUTE = 2000
REQUESTS_PER_MINUTE = 60


def is_gtin13(value: str) -> bool:
    """A GTIN-13: 13 digits whose last is the GS1 check digit of the first 12."""
    if len(value) != 13 or not value.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(value[:12]))
    return (10 - total % 10) % 10 == int(value[12])


class StockItem(Confirmation):
    sales_channel_id: str
    ean: str
    quantity: int


class StockResult(Confirmation):
    status: str  # x-extensible-enum: ACCEPTED, REJECTED, FAILED
    code: int  # 0, 101, 102, 104
    description: str | None = None


class StockOutcome(Confirmation):
    item: StockItem
    result: StockResult


class StockUpdatesResponse(Confirmation):
    """The 207 reply: one result per item, each naming the item it is about (required)."""

    results: list[StockOutcome]


class ZalandoAdapter(MarketplaceAdapter):
    """One channel = one sales channel (country); `channel_sku` is the size's EAN.
    Zero is written explicitly: it takes that size offline in that country."""

    marketplace = "zalando"
    batch_limit = 1000
    rate_per_s = REQUESTS_PER_MINUTE / 60.0
    burst = REQUESTS_PER_MINUTE
    default_zero_stock = ZeroStockAction.PUSH_ZERO
    required_keys = ("merchant_id", "sales_channel_id", "client_id", "client_secret")
    secret_keys = ("client_secret",)

    def _configure(self) -> None:
        s = self.settings
        self.merchant_id = s["merchant_id"]
        self.sales_channel_id = s["sales_channel_id"]
        try:
            uuid.UUID(self.sales_channel_id)
        except ValueError:
            raise ValueError(f"channel {self.channel_code!r} (zalando): sales_channel_id must be a UUID "
                             "(spec: format uuid)") from None
        self.token = oauth_token(
            self.session,
            s.get("token_url") or f"{self.base_url}/auth/token",
            form={"grant_type": "client_credentials"},
            basic=(s["client_id"], s["client_secret"]),
        )

    @property
    def stocks_url(self) -> str:
        return f"{self.base_url}/merchants/{quote(self.merchant_id, safe='')}/stocks"

    @staticmethod
    def quantity_of(update: StockUpdate) -> int:
        # No deactivation call for stock: 0 is how a size goes offline.
        if update.action in (PushAction.DEACTIVATE, PushAction.END):
            return 0
        return max(0, update.quantity)

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        results: list[PushResult] = []
        sendable: list[StockUpdate] = []
        seen: set[str] = set()
        for update in batch:
            # Zalando rejects the whole batch if (sales_channel_id, ean) repeats.
            if update.sku in seen:
                results.append(PushResult.failed(
                    update, FailureCategory.VALIDATION,
                    f"EAN {update.sku} is mapped to more than one listing in this channel",
                ))
                continue
            seen.add(update.sku)
            if not is_gtin13(update.sku):
                results.append(PushResult.failed(
                    update, FailureCategory.VALIDATION,
                    f"{update.sku!r} is not a GTIN-13 (13 digits with a valid check digit), which "
                    "Zalando's stocks API requires as the EAN; not sent",
                ))
                continue
            sendable.append(update)
        if sendable:
            results.extend(settle(sendable, lambda: self._send(sendable)))
        return results

    def _send(self, batch: list[StockUpdate]) -> list[PushResult]:
        body = {
            "items": [
                {"sales_channel_id": self.sales_channel_id, "ean": u.sku, "quantity": self.quantity_of(u)}
                for u in batch
            ]
        }
        cost = max(1.0, len(batch) * REQUESTS_PER_MINUTE / ITEMS_PER_MINUTE)
        reply = self.session.exchange(
            "POST", self.stocks_url, confirm=expect(StockUpdatesResponse), json=body, auth=self.token,
            cost=cost, headers={"Accept": "application/json, application/problem+json"},
        )
        if reply.body is None:
            message = self._problem(reply_json(reply.response)) or f"HTTP {reply.status}"
            if len(batch) > 1 and reply.status in (400, 422):
                # A refusal of the whole request may be one item's fault: halve and resend.
                half = len(batch) // 2
                return self._send(batch[:half]) + self._send(batch[half:])
            category = FailureCategory.AUTH if reply.status == 403 else FailureCategory.VALIDATION
            return [PushResult.failed(u, category, self.session.redact(message)) for u in batch]
        by_ean: dict[str, StockOutcome] = {}
        for entry in reply.body.results:
            if entry.item.sales_channel_id == self.sales_channel_id:
                by_ean[entry.item.ean] = entry
        return [self._one(u, by_ean.get(u.sku)) for u in batch]

    def _one(self, update: StockUpdate, entry: StockOutcome | None) -> PushResult:
        quantity = self.quantity_of(update)
        if entry is None:
            return unconfirmed(update, f"Zalando's reply does not name EAN {update.sku}", self.clock.now())
        if entry.item.quantity != quantity:
            return unconfirmed(
                update, f"Zalando's result for EAN {update.sku} is about quantity {entry.item.quantity}",
                self.clock.now(),
            )
        result = entry.result
        status, code = result.status, result.code
        description = self.session.redact(str(result.description or ""))
        if status == "ACCEPTED" or code in (0, 104):
            # 104: held until the article is onboarded, then applied by Zalando itself.
            note = "held until the article is onboarded" if code == 104 else description
            return ok(update, quantity, message=note)
        if status == "FAILED" or code == 102:
            return PushResult.retry(update, f"Zalando: {description or 'internal error'}", self.clock.now() + 60)
        if status == "REJECTED" or code == 101:
            return PushResult.failed(
                update, FailureCategory.VALIDATION, description or f"rejected (code {code})"
            )
        # An extensible enum may grow: a word we do not know confirms nothing.
        return unconfirmed(update, f"Zalando answered {status!r} (code {code}) for EAN {update.sku}",
                           self.clock.now())

    @staticmethod
    def _problem(payload: Any) -> str:
        if not isinstance(payload, dict):
            return ""
        return "; ".join(str(payload[k]) for k in ("title", "detail") if payload.get(k))

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        """Zalando documents no stock read for partner-fulfilled articles (only ZFS stock
        and product-status reports), so the quantity is unknown: quantity=None, and the
        raw mapping says why. Audits should skip Zalando quantities."""
        return [
            RemoteListing(sku, None, None, found=True, raw={"unsupported": "no PF stock read API"})
            for sku, _ in skus
        ]
