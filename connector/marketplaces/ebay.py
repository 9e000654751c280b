"""eBay Sell Inventory API v1: stock through `POST /sell/inventory/v1/bulk_update_price_quantity`.

Each request sets the inventory item's total ship-to-home quantity and the published
offer's `availableQuantity` together (the listing shows the smaller of the two, so both
must move). Up to 25 requests per call (BulkPriceQuantity; the method page also says "one
SKU per call", the type says 25: the type is what the API validates). Every SKU has its
own `statusCode` in the reply: HTTP 200/207 does not mean each one succeeded.

Auth: user access token from the OAuth refresh-token grant (`/identity/v1/oauth2/token`,
Basic client_id:client_secret, 2 h), Bearer.

Zero stock: PUSH_ZERO writes 0 (Out-of-Stock Control keeps the listing, hidden). END
withdraws the offer (`POST /offer/{offerId}/withdraw`); RELIST sets the item quantity,
publishes the offer again (`POST /offer/{offerId}/publish`, new listing id) and then sets
the offer quantity.

Revision cap: eBay allows at most 250 revisions per listing per calendar day. Every
non-zero push spends from a per-SKU budget (`RevisionBudget`: a burst of `REVISION_BURST`,
then one per `REVISION_SPACING_S`, so no 24 h window exceeds 250). A push the budget cannot
pay for is not sent: it comes back RETRY with `retry_at` = when it may go. The adapter keeps
no copy of the held value: whatever the engine pushes at (or after) that time is what goes,
so a newer value replaces a held one (latest wins) and the ones in between cost nothing.
Pushes to 0 (SET 0, DEACTIVATE, END) always go at once (an oversell costs more than a
revision) and are counted, so the next non-zero push waits for them. The budget survives a
restart: the bridge hands the adapter the pushes eBay accepted in the last day, from its
journal (`restore_history`).

Usage::

    adapter = EbayAdapter("ebay_de", {"base_url": "https://api.ebay.com", "client_id": "...",
                          "client_secret": "...", "refresh_token": "...",
                          "marketplace_id": "EBAY_DE"})
    adapter.push([StockUpdate(listing_id=1, sku="MUG-RED", quantity=4, external_id="9876543210")])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from connector.marketplaces.base import (
    FailureCategory,
    MarketplaceAdapter,
    Outcome,
    PastPush,
    PushResult,
    RemoteListing,
    StockUpdate,
)
from connector.marketplaces.common import ok, oauth_token, reply_json, settle
from connector.marketplaces.confirm import Confirmation, expect, unconfirmed
from connector.marketplaces.http import Clock, Exchange
from connector.stock.model import PushAction, ZeroStockAction

API = "/sell/inventory/v1"
SCOPE = "https://api.ebay.com/oauth/api_scope/sell.inventory"
# errorIds from the spec's x-response-codes: SKU / offer / resource not found.
NOT_FOUND_IDS = frozenset({25702, 25710, 25713})
REVISIONS_PER_DAY = 250  # eBay's per-listing revision cap (calendar day)
REVISION_BURST = 10  # revisions a quiet listing may take back to back
# The refill leaves room for the burst: at most BURST + (250 - BURST) = 250 in any 24 h.
REVISION_SPACING_S = 86_400.0 / (REVISIONS_PER_DAY - REVISION_BURST)  # 360 s


C = TypeVar("C", bound=Confirmation)


class PriceQuantityResponse(Confirmation):
    """One entry of bulkUpdatePriceQuantity's `responses` (one per offer and/or item):
    the SKU it is about and its own status are what confirm it."""

    sku: str
    statusCode: int
    offerId: str | None = None
    errors: list[dict[str, Any]] = []


class BulkPriceQuantityResponse(Confirmation):
    responses: list[PriceQuantityResponse]


class ListingIdResponse(Confirmation):
    """withdrawOffer / publishOffer (WithdrawResponse, PublishResponse): the listing id
    is what says the listing was ended or created."""

    listingId: str


class Offer(Confirmation):
    offerId: str | None = None
    availableQuantity: int | None = None
    status: str | None = None
    listing: dict[str, Any] = {}


class OffersResponse(Confirmation):
    """getOffers (Offers): `offers` must be there (a SKU without offers is a 404 25713)."""

    offers: list[Offer]


class RevisionBudget:
    """A non-blocking token bucket per listing key, for eBay's revision cap:
    `wait = budget.wait("MUG")` (0.0 = may go now), then `budget.spend("MUG")` once eBay
    took the revision. Spending below zero is allowed (pushes to 0 always go): the debt
    is paid back by waiting longer."""

    def __init__(
        self, clock: Clock, burst: int = REVISION_BURST, spacing_s: float = REVISION_SPACING_S
    ) -> None:
        self.clock = clock
        self.burst = float(burst)
        self.spacing_s = spacing_s
        self._levels: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def _level(self, key: str) -> float:
        now = self.clock.now()
        tokens, at = self._levels.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - at) / self.spacing_s)

    def wait(self, key: str) -> float:
        """Seconds until `key` may take one more revision."""
        level = self._level(key)
        return 0.0 if level >= 1.0 else (1.0 - level) * self.spacing_s

    def spend(self, key: str) -> None:
        self._levels[key] = (self._level(key) - 1.0, self.clock.now())

    def replay(self, key: str, times: Iterable[float]) -> None:
        """Spend one revision at each past time (wall clock), as if the bucket had seen them."""
        tokens, at = self._levels.get(key, (self.burst, float("-inf")))
        for t in sorted(times):
            tokens = min(self.burst, tokens + (t - at) / self.spacing_s) - 1.0
            at = t
        if at != float("-inf"):
            self._levels[key] = (tokens, at)


class EbayAdapter(MarketplaceAdapter):
    """Inventory-API-managed listings: `channel_sku` = inventory SKU, `external_id` = offer id
    (without it only the item quantity is set, which caps every offer of the SKU)."""

    marketplace = "ebay"
    batch_limit = 25
    rate_per_s = 5.0  # eBay meters daily call quotas, not a rate; this only smooths bursts
    burst = 10
    has_compare_and_set = False
    default_zero_stock = ZeroStockAction.PUSH_ZERO
    required_keys = ("client_id", "client_secret", "refresh_token", "marketplace_id")
    secret_keys = ("client_secret", "refresh_token")
    history_window_s = 86_400.0  # the revisions of the last day count against the cap

    def _configure(self) -> None:
        s = self.settings
        self.api = f"{self.base_url}{API}"
        self.token = oauth_token(
            self.session,
            s.get("token_url") or f"{self.base_url}/identity/v1/oauth2/token",
            form={"grant_type": "refresh_token", "refresh_token": s["refresh_token"], "scope": SCOPE},
            basic=(s["client_id"], s["client_secret"]),
            default_lifetime_s=7200.0,
        )
        self.revisions = RevisionBudget(self.clock)

    def restore_history(self, pushes: Sequence[PastPush]) -> None:
        """Every revision eBay took in the last day still counts after a restart."""
        by_sku: dict[str, list[float]] = {}
        for push in pushes:
            by_sku.setdefault(push.sku, []).append(push.at)
        for sku, times in by_sku.items():
            self.revisions.replay(sku, times)

    def call(
        self, method: str, path: str, confirm: type[C], body: Any = None, **params: str
    ) -> Exchange[C]:
        """One call whose 2xx must be a valid `confirm` reply."""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self.session.exchange(
            method, f"{self.api}{path}", confirm=expect(confirm), json=body, params=params or None,
            headers=headers, auth=self.token,
        )

    # ------------------------------------------------------------------ push

    @staticmethod
    def quantity_of(update: StockUpdate) -> int:
        if update.action in (PushAction.DEACTIVATE, PushAction.END):
            return 0
        return max(0, update.quantity)

    def request_of(self, update: StockUpdate, *, with_offer: bool = True) -> dict[str, Any]:
        quantity = self.quantity_of(update)
        request: dict[str, Any] = {"sku": update.sku, "shipToLocationAvailability": {"quantity": quantity}}
        if with_offer and update.external_id:
            request["offers"] = [{"offerId": update.external_id, "availableQuantity": quantity}]
        return request

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        # Zero always goes: hiding a sold-out listing is worth a revision.
        held = [u for u in batch if self.quantity_of(u) > 0 and self.revisions.wait(u.sku) > 0]
        held_ids = {u.listing_id for u in held}
        results = self._send_batch([u for u in batch if u.listing_id not in held_ids])
        # Only revisions eBay took count against the listing's daily cap.
        sent = {u.listing_id: u for u in batch}
        for result in results:
            if result.outcome is Outcome.OK and result.listing_id in sent:
                self.revisions.spend(sent[result.listing_id].sku)
        return results + [self._hold(u) for u in held]

    def _hold(self, update: StockUpdate) -> PushResult:
        wait = self.revisions.wait(update.sku)
        return PushResult.retry(
            update,
            f"eBay allows {REVISIONS_PER_DAY} revisions per listing per day: SKU {update.sku} "
            f"may be revised again in {wait:.0f} s (the latest value goes then)",
            self.clock.now() + wait,
            deferred=True,
        )

    def _send_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        results: list[PushResult] = []
        bulk: list[StockUpdate] = []
        for update in batch:
            if update.action is PushAction.END:
                results.extend(settle([update], lambda: [self._withdraw(update)]))  # noqa: B023
            elif update.action is PushAction.RELIST:
                results.extend(settle([update], lambda: [self._relist(update)]))  # noqa: B023
            elif any(u.sku == update.sku for u in bulk):
                results.append(PushResult.failed(
                    update, FailureCategory.VALIDATION, f"SKU {update.sku} appears twice in one batch"))
            else:
                bulk.append(update)
        if bulk:
            results.extend(settle(bulk, lambda: self._bulk(bulk)))
        return results

    def _bulk(self, batch: list[StockUpdate], *, with_offer: bool = True) -> list[PushResult]:
        body = {"requests": [self.request_of(u, with_offer=with_offer) for u in batch]}
        reply = self.call("POST", "/bulk_update_price_quantity", BulkPriceQuantityResponse, body)
        if reply.body is None:
            message, category = self._classify(reply_json(reply.response), reply.status)
            return [PushResult.failed(u, category, message) for u in batch]
        by_sku: dict[str, list[PriceQuantityResponse]] = {}
        for entry in reply.body.responses:
            by_sku.setdefault(entry.sku, []).append(entry)
        return [self._one(u, by_sku.get(u.sku, []), with_offer) for u in batch]

    def _one(self, update: StockUpdate, entries: list[PriceQuantityResponse], with_offer: bool) -> PushResult:
        if not entries:
            return unconfirmed(update, f"eBay's reply does not name SKU {update.sku}", self.clock.now())
        if with_offer and update.external_id and not any(e.offerId == update.external_id for e in entries):
            # The item's entry alone does not say the offer's available quantity moved.
            return unconfirmed(update, f"eBay's reply does not name offer {update.external_id}", self.clock.now())
        # One entry per offer (and/or the item): all of them must have succeeded.
        for entry in entries:
            status = entry.statusCode
            if status == 200:
                continue
            message, category = self._classify(entry.model_dump(), status)
            if status >= 500 or status == 429:
                return PushResult.retry(update, message, self.clock.now() + 60)
            return PushResult.failed(update, category, message)
        quantity = self.quantity_of(update)
        return ok(update, quantity)

    def _classify(self, payload: Any, status: int) -> tuple[str, FailureCategory]:
        errors = payload.get("errors") if isinstance(payload, dict) else None
        errors = [e for e in errors or [] if isinstance(e, dict)]
        message = "; ".join(
            f"{e.get('errorId', '')}: {e.get('longMessage') or e.get('message') or ''}" for e in errors
        ) or f"HTTP {status}"
        ids = {e.get("errorId") for e in errors}
        if status == 404 or ids & NOT_FOUND_IDS:
            category = FailureCategory.UNKNOWN_LISTING
        elif status == 403:
            category = FailureCategory.AUTH
        else:
            category = FailureCategory.VALIDATION
        return self.session.redact(message), category

    def _withdraw(self, update: StockUpdate) -> PushResult:
        if not update.external_id:
            return PushResult.failed(update, FailureCategory.UNKNOWN_LISTING,
                                     "ending an eBay listing needs its offer id (external_id)")
        reply = self.call("POST", f"/offer/{quote(update.external_id, safe='')}/withdraw", ListingIdResponse)
        if reply.body is None:
            message, category = self._classify(reply_json(reply.response), reply.status)
            return PushResult.failed(update, category, message)
        return ok(update, 0, active=False)

    def _relist(self, update: StockUpdate) -> PushResult:
        if not update.external_id:
            return PushResult.failed(update, FailureCategory.UNKNOWN_LISTING,
                                     "relisting on eBay needs the offer id (external_id)")
        # 1) item quantity first: it caps the listing the moment it goes live again.
        [item] = self._bulk([update], with_offer=False)
        if item.outcome is not Outcome.OK:
            return item
        # 2) publish: a new listing from the withdrawn offer.
        reply = self.call("POST", f"/offer/{quote(update.external_id, safe='')}/publish", ListingIdResponse)
        if reply.body is None:
            message, category = self._classify(reply_json(reply.response), reply.status)
            return PushResult.failed(update, category, message)
        # 3) the offer's own available quantity (only possible on a published offer).
        [offer] = self._bulk([update])
        if offer.outcome is not Outcome.OK:
            return offer
        return ok(update, self.quantity_of(update), active=True,
                  message=f"relisted as listing {reply.body.listingId}")

    # ------------------------------------------------------------------ read

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        """getOffers by SKU: the offer's availableQuantity and whether it is live."""
        out: list[RemoteListing] = []
        for sku, offer_id in skus:
            reply = self.call("GET", "/offer", OffersResponse, sku=sku,
                              marketplace_id=self.settings["marketplace_id"])
            offers = reply.body.offers if reply.body is not None else []
            if offer_id:
                offers = [o for o in offers if o.offerId == offer_id] or offers
            if not offers:
                out.append(RemoteListing(sku, None, None, found=False, raw=reply_json(reply.response)))
                continue
            offer = offers[0]
            active = offer.status == "PUBLISHED" and offer.listing.get("listingStatus") not in (
                "ENDED", "OUT_OF_STOCK", "INACTIVE")
            out.append(RemoteListing(sku, offer.availableQuantity, active, found=True,
                                     raw=offer.model_dump(mode="json")))
        return out
