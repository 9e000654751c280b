"""eBay Sell Inventory API v1 and OAuth refresh, as served here.

- POST /identity/v1/oauth2/token (Basic client_id:client_secret; form grant_type=refresh_token)
- POST /sell/inventory/v1/bulk_update_price_quantity (<= 25 requests; per-item statusCode;
  HTTP 207 when any item failed)
- GET /sell/inventory/v1/inventory_item/{sku}, GET /offer?sku=, GET /offer/{offerId}
- POST /sell/inventory/v1/offer/{offerId}/withdraw (ends the listing), /publish (relists,
  new listingId)
- GET /sell/account/v1/program/get_opted_in_programs: {"programs": [{"programType"}]}, with
  OUT_OF_STOCK_CONTROL while the account's Out-of-Stock Control is on (Account API
  ProgramTypeEnum); "An empty array is returned if the seller is not opted in"
Listing: sku = inventory SKU, external_id = offerId of its first offer (extra
``marketplace_id``, default EBAY_DE). Further offers of the same SKU on other marketplaces:
extra ``offers`` = [{"offerId", "marketplaceId", "availableQuantity", "status"}].

Quantities, from the Inventory API reference: the item's ship-to-home quantity is "the
total quantity of the item that is available for sale across all marketplaces", an
offer's availableQuantity "the quantity ... available in the marketplace specified within
the offer", and a listing shows "the minimum value between" the two. The admin view's
``quantity``/``active`` are the first offer's; every offer's shown quantity is in extra
``offer_table``.

Out-of-Stock Control (account key ``out_of_stock_control``, default on): on, a listing at
0 stays, ``listingStatus`` OUT_OF_STOCK. Off, a fixed-price listing cannot be kept at 0
(eBay knowledge base 1450: "The Quantity of an item cannot be set to zero ... end the item
and relist it"): a request that would leave a published offer at 0 is refused for that
SKU (errorId 25019), nothing of it applied. Throttle: 429 errorId 2001, no Retry-After.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Response

from connector.sandbox.api import Call, MarketplaceApi, json_response
from connector.sandbox.core import Listing

TOKEN_LIFETIME_S = 7200
MAX_REQUESTS = 25
BASE = r"/sell/inventory/v1"


def _error(error_id: int, message: str, domain: str = "API_INVENTORY", category: str = "REQUEST",
           **more: Any) -> dict[str, Any]:
    return {"errorId": error_id, "domain": domain, "category": category, "message": message, **more}


def errors(status: int, *items: dict[str, Any]) -> Response:
    return json_response({"errors": list(items)}, status)


class Ebay(MarketplaceApi):
    name = "ebay"
    rate = 10.0
    burst = 20
    routes = [
        ("POST", r"/identity/v1/oauth2/token", "token", True),
        ("POST", BASE + r"/bulk_update_price_quantity", "bulk_update", False),
        ("GET", BASE + r"/inventory_item/(?P<sku>[^/]+)", "get_item", False),
        ("GET", BASE + r"/offer", "get_offers", False),
        ("GET", BASE + r"/offer/(?P<offer_id>[^/]+)", "get_offer", False),
        ("POST", BASE + r"/offer/(?P<offer_id>[^/]+)/withdraw", "withdraw", False),
        ("POST", BASE + r"/offer/(?P<offer_id>[^/]+)/publish", "publish", False),
        ("GET", r"/sell/account/v1/program/get_opted_in_programs", "opted_in_programs", False),
    ]

    def throttled(self, call: Call, retry_after: float) -> Response:
        return errors(429, _error(2001, "Too many requests. The request limit has been reached for the resource.",
                                  domain="ACCESS"))

    def failure(self, call: Call, status: int, message: str) -> Response:
        return errors(status, _error(25001 if status >= 500 else 2004, message,
                                     category="APPLICATION" if status >= 500 else "REQUEST"))

    def token(self, call: Call) -> Response:
        creds, form = call.basic(), call.form()
        with call.market.lock:
            client = creds and call.market.account_where(client_id=creds[0], client_secret=creds[1])
            if not client or creds is None:
                return json_response({"error": "invalid_client", "error_description": "client authentication failed"}, 401)
            if form.get("grant_type") != "refresh_token":
                return json_response({"error": "unsupported_grant_type",
                                      "error_description": "grant type in request is not supported"}, 400)
            found = call.market.account_where(client_id=creds[0], refresh_token=form.get("refresh_token"))
            if found is None:
                return json_response({"error": "invalid_grant", "error_description":
                                      "the provided authorization refresh token is invalid or was issued to another client"}, 400)
            token = call.market.issue_token(found[0], TOKEN_LIFETIME_S, prefix="v^1.1#i^1#")
        return json_response({"access_token": token, "expires_in": TOKEN_LIFETIME_S, "token_type": "User Access Token"})

    def _account(self, call: Call) -> dict[str, Any] | None:
        token = call.bearer() or None
        with call.market.lock:
            return call.market.token_account(token)

    def opted_in_programs(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        programs = [{"programType": "SELLING_POLICY_MANAGEMENT"}]
        if self._oos_on(call):
            programs.append({"programType": "OUT_OF_STOCK_CONTROL"})
        return json_response({"programs": programs})

    def _oos_on(self, call: Call) -> bool:
        account = self._account(call) or {}
        return str(account.get("out_of_stock_control", True)).lower() not in ("false", "0", "off")

    def _auth(self, call: Call) -> Response | None:
        with call.market.lock:
            account = call.market.token_account(call.bearer())
        if account is None:
            return errors(401, _error(1001, "Invalid access token", domain="OAuth",
                                      longMessage="Invalid access token. Check the value of the Authorization HTTP request header."))
        return None

    def bulk_update(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        body = call.json()
        requests_ = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests_, list) or not requests_:
            return errors(400, _error(25709, "Invalid value for requests. The request must hold 1 to 25 items."))
        call.items = len(requests_)
        if len(requests_) > MAX_REQUESTS:
            return errors(400, _error(25709, f"Invalid value for requests. At most {MAX_REQUESTS} items per call."))
        responses, failed = [], False
        oos_on = self._oos_on(call)
        with call.market.lock:
            for request in requests_:
                for reply in self._apply(call, request, oos_on):
                    failed = failed or reply["statusCode"] != 200
                    responses.append(reply)
        return json_response({"responses": responses}, 207 if failed else 200)

    def _apply(self, call: Call, request: dict[str, Any], oos_on: bool) -> list[dict[str, Any]]:
        sku = str(request.get("sku", ""))
        offers = request.get("offers") or []
        ship = (request.get("shipToLocationAvailability") or {}).get("quantity")
        listing = call.market.find(sku=sku) if sku else None
        if listing is None and offers:
            found = _find_offer(call, str(offers[0].get("offerId")))
            listing, sku = (found[0], found[0].sku) if found else (None, sku)
        if listing is None:
            return [{"statusCode": 404, "sku": sku, "errors": [_error(25702, f"SKU {sku} is not available in the system")],
                     "warnings": []}]
        for value in [ship, *(o.get("availableQuantity") for o in offers)]:
            if value is not None and (not isinstance(value, int) or value < 0):
                return [{"statusCode": 400, "sku": sku, "errors": [_error(25018, "Invalid quantity. Quantity must be >= 0.")],
                         "warnings": []}]
        table = _table(listing)
        new_ship = ship if isinstance(ship, int) else int(listing.extra.get("ship_quantity", listing.quantity))
        wanted = {oid: dict(entry) for oid, entry in table.items()}
        replies: list[dict[str, Any]] = []
        for offer in offers:
            oid = str(offer.get("offerId"))
            if oid not in wanted:
                replies.append({"statusCode": 400, "sku": sku, "offerId": oid,
                                "errors": [_error(25713, "This Offer is not available.")], "warnings": []})
                continue
            if isinstance(offer.get("availableQuantity"), int):
                wanted[oid]["availableQuantity"] = offer["availableQuantity"]
            replies.append({"statusCode": 200, "sku": sku, "offerId": oid, "errors": [], "warnings": []})
        if not oos_on and any(e["status"] == "PUBLISHED" and min(new_ship, e["availableQuantity"]) == 0
                              for e in wanted.values()):
            return [{"statusCode": 400, "sku": sku, "errors": [_error(
                25019, "The quantity of a fixed-price listing cannot be 0 while Out-of-Stock control is off; "
                "end the listing instead.")], "warnings": []}]
        listing.extra["ship_quantity"] = new_ship
        table.update(wanted)
        _show(listing)
        if not offers:
            replies.append({"statusCode": 200, "sku": sku, "errors": [], "warnings": []})
        return replies

    def _offer(self, listing: Listing, oid: str) -> dict[str, Any]:
        entry = _table(listing)[oid]
        published = entry["status"] == "PUBLISHED"
        return {
            "offerId": oid, "sku": listing.sku, "marketplaceId": entry["marketplaceId"],
            "format": "FIXED_PRICE", "availableQuantity": int(entry["availableQuantity"]),
            "status": entry["status"],
            "listing": {"listingId": entry["listingId"],
                        "listingStatus": "ENDED" if not published else ("ACTIVE" if entry["shown"] > 0 else "OUT_OF_STOCK")},
        }

    def get_item(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        sku = unquote(call.params["sku"])
        with call.market.lock:
            listing = call.market.find(sku=sku)
            if listing is None:
                return errors(404, _error(25702, f"SKU {sku} is not available in the system"))
            qty = int(listing.extra.get("ship_quantity", listing.quantity))
        return json_response({"sku": sku, "locale": "en_US", "condition": "NEW",
                              "availability": {"shipToLocationAvailability": {"quantity": qty}}})

    def get_offers(self, call: Call) -> Response:
        """getOffers: every offer of the SKU, or only the one on `marketplace_id` when given."""
        refused = self._auth(call)
        if refused is not None:
            return refused
        sku = call.request.args.get("sku", "")
        market_filter = call.request.args.get("marketplace_id")
        with call.market.lock:
            listing = call.market.find(sku=sku)
            offers = [] if listing is None else [
                self._offer(listing, oid) for oid, entry in _table(listing).items()
                if market_filter in (None, entry["marketplaceId"])]
            if not offers:
                return errors(404, _error(25713, "This Offer is not available."))
        return json_response({"offers": offers, "total": len(offers), "size": len(offers), "limit": 25,
                              "href": call.full_url})

    def get_offer(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        with call.market.lock:
            found = _find_offer(call, call.params["offer_id"])
            if found is None:
                return errors(404, _error(25713, "This Offer is not available."))
            return json_response(self._offer(*found))

    def withdraw(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        call.items = 1
        with call.market.lock:
            found = _find_offer(call, call.params["offer_id"])
            if found is None:
                return errors(404, _error(25713, "This Offer is not available."))
            listing, oid = found
            entry = _table(listing)[oid]
            entry["status"] = "UNPUBLISHED"
            _show(listing)
            return json_response({"listingId": entry["listingId"], "warnings": []})

    def publish(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        call.items = 1
        with call.market.lock:
            found = _find_offer(call, call.params["offer_id"])
            if found is None:
                return errors(404, _error(25713, "This Offer is not available."))
            listing, oid = found
            entry = _table(listing)[oid]
            if entry["status"] != "PUBLISHED":
                # A relisted item gets a new eBay listing id.
                entry["listingId"] = str(110000000000 + call.market.next_id())
            entry["status"] = "PUBLISHED"
            _show(listing)
            return json_response({"listingId": entry["listingId"], "warnings": []})


def _table(listing: Listing) -> dict[str, dict[str, Any]]:
    """offerId -> {marketplaceId, availableQuantity, status, listingId, shown}, built on first use
    from the listing's first offer (external_id) and extra ``offers``."""
    table: dict[str, dict[str, Any]] | None = listing.extra.get("offer_table")
    if table is None:
        table = {}
        if listing.external_id:
            table[listing.external_id] = {
                "marketplaceId": listing.extra.get("marketplace_id", "EBAY_DE"),
                "availableQuantity": int(listing.extra.get("offer_quantity", listing.quantity)),
                "status": "UNPUBLISHED" if listing.status == "ENDED" else "PUBLISHED",
                "listingId": str(listing.extra.get("listing_id", "110000000001")),
            }
        for index, raw in enumerate(listing.extra.get("offers") or [], start=2):
            table[str(raw["offerId"])] = {
                "marketplaceId": raw.get("marketplaceId", "EBAY_US"),
                "availableQuantity": int(raw.get("availableQuantity", listing.quantity)),
                "status": raw.get("status", "PUBLISHED"),
                "listingId": str(raw.get("listingId", 110000000000 + index)),
            }
        listing.extra.setdefault("ship_quantity", listing.quantity)
        listing.extra["offer_table"] = table
        _show(listing)
    return table


def _show(listing: Listing) -> None:
    """What buyers see: min(item total, offer quantity) per published offer; the admin
    view's quantity/active/status follow the first offer."""
    table = listing.extra["offer_table"]
    ship = int(listing.extra.get("ship_quantity", listing.quantity))
    for entry in table.values():
        entry["shown"] = min(ship, int(entry["availableQuantity"]))
    first = table.get(listing.external_id or "")
    if first is not None:
        listing.extra["offer_quantity"] = first["availableQuantity"]
        listing.quantity = first["shown"]
        listing.status = "" if first["status"] == "PUBLISHED" else "ENDED"
        listing.active = first["status"] == "PUBLISHED"


def _find_offer(call: Call, offer_id: str) -> tuple[Listing, str] | None:
    listing = call.market.find(external_id=offer_id)
    if listing is not None:
        return listing, offer_id
    for candidate in call.market.listings.values():
        if offer_id in _table(candidate):
            return candidate, offer_id
    return None
