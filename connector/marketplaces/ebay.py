"""eBay Sell Inventory API v1: stock through `POST /sell/inventory/v1/bulk_update_price_quantity`.

Per marketplace (issue 17 item 3). One inventory item (SKU) can have one offer per eBay
marketplace; the spec's ShipToLocationAvailability.quantity is "the total quantity of the
item that is available for sale across all marketplaces", OfferPriceQuantity.
availableQuantity is "the quantity of the item that is available in the marketplace
specified within the offer, not the total quantity", and "the quantity specified on a
listing will be the minimum value between" the two. So a channel (= one marketplace)
writes its number into its own offer's `availableQuantity`, and the item total is set to
the largest `availableQuantity` among the SKU's published offers (ours with the new
number, the others as getOffers shows them right before the write): every offer then
shows its own number, and two eBay channels sharing a SKU never cut each other's listing
down to their own number. The read-then-write leaves a race between two channels'
pushes of one SKU; its worst case is a total below another offer's number (that listing
shows less, never more, until that channel's next push), never an oversell.

Batching (item 11): the method page says "Only one SKU (one product) can be updated per
call", the type BulkPriceQuantity says "one or more inventory items (up to 25)", and the
Inventory API guide's "Bulk updates" page (developer.ebay.com/api-docs/sell/static/
inventory/bulk-updates.html) settles it: "Up to 25 inventory item records (and the active
offers associated with them) may be updated with one bulkUpdatePriceQuantity call." So 25
SKUs per call; the channel setting `bulk_skus` = 1 gives the stricter reading, should eBay
ever enforce it. Every SKU has its own `statusCode` in the reply: HTTP 200/207 does not
mean each one succeeded.

Zero stock and Out-of-Stock Control (item 2). eBay's Trading guide ("Quantity"): "A
fixed-price listing ends when the last item has been sold. An exception ... the
Out-of-Stock feature. If this feature is enabled ..., fixed-price listings will remain
active but hidden from search results even if the quantity has gone down to 0"; eBay
knowledge base 1450: without it "The Quantity of an item cannot be set to zero ... the
alternate is to end the item and relist it". The preference is the seller's program
`OUT_OF_STOCK_CONTROL` (Account API ProgramTypeEnum: "active fixed-price listings will be
kept 'alive' ... even when the quantity for the listing has been depleted to 0"), read
with `GET /sell/account/v1/program/get_opted_in_programs` (scope sell.account.readonly, a
token of its own so that a seller who did not grant it keeps pushing) at the first push and
every `OOS_CHECK_TTL_S`, or fixed by the channel setting `out_of_stock_control` = on/off. On: 0 is written (the listing stays, hidden). Off (or
unreadable: the safe side): a push to 0 withdraws the offer (ends the listing, so no old
positive number stays live), a later positive push to an offer that is not published
publishes it again (relist, new listing id), and a warning says so (status, log).

Auth: user access token from the OAuth refresh-token grant (`/identity/v1/oauth2/token`,
Basic client_id:client_secret, 2 h), Bearer.

Zero stock: PUSH_ZERO writes 0 when Out-of-Stock Control is on (the listing stays, hidden). END
withdraws the offer (`POST /offer/{offerId}/withdraw`); RELIST sets the item quantity,
publishes the offer again (`POST /offer/{offerId}/publish`, new listing id) and then sets
the offer quantity.

Revision cap: eBay allows at most 250 revisions per listing per calendar day. Every
non-zero push spends from a per-SKU budget (`RevisionBudget`: a burst of `REVISION_BURST`,
then one per `REVISION_SPACING_S`, so no 24 h window exceeds 250). A push the budget cannot
pay for is not sent: it comes back RETRY with `retry_at` = when it may go. The adapter keeps
no copy of the held value: whatever the engine pushes at (or after) that time is what goes,
so a newer value replaces a held one (latest wins) and the ones in between cost nothing.
Decreases (below what eBay holds, 0, DEACTIVATE, END) always go at once and are never
held behind an increase (an oversell costs more than a revision); they are counted, so
the next increase waits for them. A held increase says in its message (and so in
`status`) the UTC time it may go. The budget survives a
restart: the bridge hands the adapter the pushes eBay accepted in the last day, from its
journal (`restore_history`).

Usage::

    adapter = EbayAdapter("ebay_de", {"base_url": "https://api.ebay.com", "client_id": "...",
                          "client_secret": "...", "refresh_token": "...",
                          "marketplace_id": "EBAY_DE"})
    adapter.push([StockUpdate(listing_id=1, sku="MUG-RED", quantity=4, external_id="9876543210")])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
from connector.marketplaces.common import GAVE_UP, ok, oauth_token, reply_json, settle
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
OOS_CHECK_TTL_S = 6 * 3600.0  # how long the seller's Out-of-Stock Control preference is trusted
PROGRAMS_PATH = "/sell/account/v1/program/get_opted_in_programs"
ACCOUNT_SCOPE = "https://api.ebay.com/oauth/api_scope/sell.account.readonly"
OOS_OFF_WARNING = (
    "eBay Out-of-Stock Control is off for this seller: a listing at 0 would end, so the bridge "
    "ends it (withdraws the offer) and relists it (new listing id) when stock returns; turn it "
    "on (My eBay > Selling preferences) to keep sold-out listings alive and hidden"
)
OOS_UNKNOWN_WARNING = (
    "eBay Out-of-Stock Control preference could not be read ({why}); treated as off (a listing "
    "at 0 is ended, relisted when stock returns); set out_of_stock_control = on/off in the "
    "channel config to skip the check"
)


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


class SellerProgram(Confirmation):
    programType: str


class OptedInPrograms(Confirmation):
    """getOptedInPrograms: "An empty array is returned if the seller is not opted in"."""

    programs: list[SellerProgram]


class SkuOffer(Confirmation):
    """One offer of getOffers(sku) (no marketplace filter: every marketplace's offer)."""

    offerId: str
    marketplaceId: str | None = None
    availableQuantity: int | None = None
    status: str | None = None


class SkuOffersResponse(Confirmation):
    offers: list[SkuOffer]


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
    default_zero_stock = ZeroStockAction.PUSH_ZERO
    required_keys = ("client_id", "client_secret", "refresh_token", "marketplace_id")
    secret_keys = ("client_secret", "refresh_token")
    optional_keys = (*MarketplaceAdapter.optional_keys, "out_of_stock_control", "bulk_skus")
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
        self._last_sent: dict[str, int] = {}  # sku -> the last quantity eBay took from us
        self.batch_limit = max(1, min(25, int(s.get("bulk_skus") or 25)))  # type: ignore[misc]
        fixed = (s.get("out_of_stock_control") or "auto").strip().lower()
        if fixed not in ("auto", "on", "off"):
            raise ValueError(f"channel {self.channel_code!r} (ebay): out_of_stock_control must be "
                             f"auto, on or off, not {fixed!r}")
        # The preference read asks for its own scope: a seller who did not grant it still pushes.
        self.account_token = oauth_token(
            self.session,
            s.get("token_url") or f"{self.base_url}/identity/v1/oauth2/token",
            form={"grant_type": "refresh_token", "refresh_token": s["refresh_token"], "scope": ACCOUNT_SCOPE},
            basic=(s["client_id"], s["client_secret"]),
            default_lifetime_s=7200.0,
        )
        # (Out-of-Stock Control on?, when read); a fixed setting never expires.
        self._oos: tuple[bool, float] | None = (
            None if fixed == "auto" else (fixed == "on", float("inf")))
        if fixed == "off":
            self._warn("out_of_stock_control", OOS_OFF_WARNING)

    # ------------------------------------------------------------------ preference

    def out_of_stock_control(self) -> bool:
        """The seller's Out-of-Stock Control preference (cached); off when unreadable."""
        now = self.clock.now()
        if self._oos is not None and (self._oos[1] == float("inf") or now - self._oos[1] < OOS_CHECK_TTL_S):
            return self._oos[0]
        try:
            on, why = self._read_oos_preference()
        except GAVE_UP as exc:
            on, why = None, f"{type(exc).__name__}: {exc}"
        if on is None:
            self._warn("out_of_stock_control", OOS_UNKNOWN_WARNING.format(why=why))
            self._oos = (False, now - OOS_CHECK_TTL_S + 300.0)  # ask again in 5 minutes
            return False
        self._oos = (on, now)
        if on:
            self._clear_warning("out_of_stock_control")
        else:
            self._warn("out_of_stock_control", OOS_OFF_WARNING)
        return on

    def _read_oos_preference(self) -> tuple[bool | None, str]:
        """Account API getOptedInPrograms: on when OUT_OF_STOCK_CONTROL is among them."""
        reply = self.session.exchange(
            "GET", f"{self.base_url}{PROGRAMS_PATH}", confirm=expect(OptedInPrograms),
            headers={"Accept": "application/json"}, auth=self.account_token,
        )
        if reply.body is None:
            return None, f"HTTP {reply.status}"
        return any(p.programType == "OUT_OF_STOCK_CONTROL" for p in reply.body.programs), ""

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

    def request_of(
        self, update: StockUpdate, *, with_offer: bool = True, total: int | None = None
    ) -> dict[str, Any]:
        """One PriceQuantity: the item total (`total`, default our own number) and, with an
        offer id, our offer's availableQuantity."""
        quantity = self.quantity_of(update)
        item_total = quantity if total is None else max(total, quantity)
        request: dict[str, Any] = {"sku": update.sku, "shipToLocationAvailability": {"quantity": item_total}}
        if with_offer and update.external_id:
            request["offers"] = [{"offerId": update.external_id, "availableQuantity": quantity}]
        return request

    def lowers(self, update: StockUpdate) -> bool:
        """Whether this push lowers what buyers can buy (0, or below what eBay holds: the
        engine's `expected_quantity`, else the last number this adapter sent)."""
        quantity = self.quantity_of(update)
        before = update.expected_quantity
        if before is None:
            before = self._last_sent.get(update.sku)
        return quantity == 0 or (before is not None and quantity < before)

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        # The daily revision budget is spent where it prevents oversells (issue 17 item 12):
        # a decrease (zero included) always goes, at once and never behind an increase;
        # only increases wait for a free revision. Decreases are counted too, so the next
        # increase waits for them.
        held = [u for u in batch if not self.lowers(u) and self.revisions.wait(u.sku) > 0]
        held_ids = {u.listing_id for u in held}
        results = self._send_batch([u for u in batch if u.listing_id not in held_ids])
        # Only revisions eBay took count against the listing's daily cap.
        sent = {u.listing_id: u for u in batch}
        for result in results:
            if result.outcome is Outcome.OK and result.listing_id in sent:
                self.revisions.spend(sent[result.listing_id].sku)
                self._last_sent[sent[result.listing_id].sku] = self.quantity_of(sent[result.listing_id])
        return results + [self._hold(u) for u in held]

    def _hold(self, update: StockUpdate) -> PushResult:
        wait = self.revisions.wait(update.sku)
        return PushResult.held(
            update,
            f"eBay allows {REVISIONS_PER_DAY} revisions per listing per day: the increase of SKU "
            f"{update.sku} to {self.quantity_of(update)} goes then (or a newer value does)",
            self.clock.now() + wait,
        )

    def _send_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        results: list[PushResult] = []
        bulk: list[StockUpdate] = []
        totals: dict[str, int] = {}
        for update in batch:
            if update.action is PushAction.END:
                results.extend(settle([update], lambda: [self._withdraw(update)]))  # noqa: B023
                continue
            if update.action is PushAction.RELIST:
                results.extend(settle([update], lambda: [self._relist(update)]))  # noqa: B023
                continue
            if any(u.sku == update.sku for u in bulk):
                results.append(PushResult.failed(
                    update, FailureCategory.VALIDATION, f"SKU {update.sku} appears twice in one batch"))
                continue
            if not update.external_id:
                bulk.append(update)  # no offer: only the item total, which caps every offer
                continue
            # settle() calls the lambda at once, so the loop variable is the right one.
            plan: list[tuple[str, int]] = []
            refused = settle([update], lambda: self._plan(update, plan))  # noqa: B023
            if refused:
                results.extend(refused)
                continue
            [(route, total)] = plan
            if route == "withdraw":
                results.extend(settle([update], lambda: [self._withdraw(  # noqa: B023
                    update, why="Out-of-Stock Control is off: the listing ended at 0")]))
            elif route == "ended":
                results.append(ok(update, 0, active=False, message="the offer is not published"))
            elif route == "relist":
                results.extend(settle([update], lambda: [self._relist(update, total)]))  # noqa: B023
            else:
                totals[update.sku] = total
                bulk.append(update)
        if bulk:
            results.extend(settle(bulk, lambda: self._bulk(bulk, totals=totals)))
        return results

    def _plan(self, update: StockUpdate, plan: list[tuple[str, int]]) -> list[PushResult]:
        """Read the SKU's offers on every marketplace; append (route, item total) to `plan`
        ("bulk", "withdraw" or "relist"), or return the refusal."""
        reply = self.call("GET", "/offer", SkuOffersResponse, sku=update.sku)
        if reply.body is None:
            message, category = self._classify(reply_json(reply.response), reply.status)
            return [PushResult.failed(update, category, message)]
        ours = next((o for o in reply.body.offers if o.offerId == update.external_id), None)
        if ours is None:
            return [PushResult.failed(
                update, FailureCategory.UNKNOWN_LISTING,
                f"offer {update.external_id} is not among SKU {update.sku}'s offers")]
        others = [o.availableQuantity or 0 for o in reply.body.offers
                  if o.offerId != update.external_id and o.status == "PUBLISHED"]
        quantity = self.quantity_of(update)
        total = max([quantity, *others])
        published = ours.status == "PUBLISHED"
        if quantity == 0 and not published:
            plan.append(("ended", total))  # not live: nothing to hide (bulk refuses unpublished offers)
        elif quantity == 0 and not self.out_of_stock_control():
            plan.append(("withdraw", total))
        elif quantity > 0 and not published and not self.out_of_stock_control():
            plan.append(("relist", total))  # ended at 0 while Out-of-Stock Control was off
        else:
            plan.append(("bulk", total))
        return []

    def _bulk(
        self, batch: list[StockUpdate], *, with_offer: bool = True, totals: Mapping[str, int] | None = None
    ) -> list[PushResult]:
        totals = totals or {}
        body = {"requests": [self.request_of(u, with_offer=with_offer, total=totals.get(u.sku))
                             for u in batch]}
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

    def _withdraw(self, update: StockUpdate, why: str = "") -> PushResult:
        if not update.external_id:
            return PushResult.failed(update, FailureCategory.UNKNOWN_LISTING,
                                     "ending an eBay listing needs its offer id (external_id)")
        reply = self.call("POST", f"/offer/{quote(update.external_id, safe='')}/withdraw", ListingIdResponse)
        if reply.body is None:
            message, category = self._classify(reply_json(reply.response), reply.status)
            return PushResult.failed(update, category, message)
        return ok(update, 0, active=False, message=why)

    def _relist(self, update: StockUpdate, total: int | None = None) -> PushResult:
        if not update.external_id:
            return PushResult.failed(update, FailureCategory.UNKNOWN_LISTING,
                                     "relisting on eBay needs the offer id (external_id)")
        if total is None:  # the engine's RELIST: read the other marketplaces' offers first
            plan: list[tuple[str, int]] = []
            refused = self._plan(update, plan)
            if refused:
                return refused[0]
            total = plan[0][1]
        totals = {update.sku: total}
        # 1) item quantity first: it caps the listing the moment it goes live again.
        [item] = self._bulk([update], with_offer=False, totals=totals)
        if item.outcome is not Outcome.OK:
            return item
        # 2) publish: a new listing from the withdrawn offer.
        reply = self.call("POST", f"/offer/{quote(update.external_id, safe='')}/publish", ListingIdResponse)
        if reply.body is None:
            message, category = self._classify(reply_json(reply.response), reply.status)
            return PushResult.failed(update, category, message)
        # 3) the offer's own available quantity (only possible on a published offer).
        [offer] = self._bulk([update], totals=totals)
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
