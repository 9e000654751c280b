"""eBay Sell Inventory API v1 and OAuth refresh, as served here.

- POST /identity/v1/oauth2/token (Basic client_id:client_secret; form grant_type=refresh_token)
- POST /sell/inventory/v1/bulk_update_price_quantity (<= 25 requests; per-item statusCode;
  HTTP 207 when any item failed)
- GET /sell/inventory/v1/inventory_item/{sku}, GET /offer?sku=, GET /offer/{offerId}
- POST /sell/inventory/v1/offer/{offerId}/withdraw (ends the listing), /publish (relists,
  new listingId)
Listing: sku = inventory SKU, external_id = offerId. Out-of-stock control is on: at 0 the
listing stays, ``listingStatus`` OUT_OF_STOCK. Throttle: 429 errorId 2001, no Retry-After.
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
        with call.market.lock:
            for request in requests_:
                for reply in self._apply(call, request):
                    failed = failed or reply["statusCode"] != 200
                    responses.append(reply)
        return json_response({"responses": responses}, 207 if failed else 200)

    def _apply(self, call: Call, request: dict[str, Any]) -> list[dict[str, Any]]:
        sku = str(request.get("sku", ""))
        offers = request.get("offers") or []
        ship = (request.get("shipToLocationAvailability") or {}).get("quantity")
        listing = call.market.find(sku=sku) if sku else None
        if listing is None and offers:
            listing = call.market.find(external_id=str(offers[0].get("offerId")))
            sku = listing.sku if listing else sku
        if listing is None:
            return [{"statusCode": 404, "sku": sku, "errors": [_error(25702, f"SKU {sku} is not available in the system")],
                     "warnings": []}]
        for value in [ship, *(o.get("availableQuantity") for o in offers)]:
            if value is not None and (not isinstance(value, int) or value < 0):
                return [{"statusCode": 400, "sku": sku, "errors": [_error(25018, "Invalid quantity. Quantity must be >= 0.")],
                         "warnings": []}]
        replies: list[dict[str, Any]] = []
        if isinstance(ship, int):
            listing.extra["ship_quantity"] = ship
        for offer in offers:
            if str(offer.get("offerId")) != listing.external_id:
                replies.append({"statusCode": 400, "sku": sku, "offerId": str(offer.get("offerId")),
                                "errors": [_error(25713, "This Offer is not available.")], "warnings": []})
                continue
            if isinstance(offer.get("availableQuantity"), int):
                listing.extra["offer_quantity"] = offer["availableQuantity"]
            replies.append({"statusCode": 200, "sku": sku, "offerId": listing.external_id, "errors": [], "warnings": []})
        # The buyer sees min(item quantity, offer quantity).
        listing.quantity = min(int(listing.extra.get("ship_quantity", listing.quantity)),
                               int(listing.extra.get("offer_quantity", listing.quantity)))
        if not offers:
            replies.append({"statusCode": 200, "sku": sku, "errors": [], "warnings": []})
        return replies

    def _offer(self, listing: Listing) -> dict[str, Any]:
        ended = listing.status == "ENDED"
        return {
            "offerId": listing.external_id, "sku": listing.sku, "marketplaceId": listing.extra.get("marketplace_id", "EBAY_DE"),
            "format": "FIXED_PRICE", "availableQuantity": int(listing.extra.get("offer_quantity", listing.quantity)),
            "status": "UNPUBLISHED" if ended else "PUBLISHED",
            "listing": {"listingId": str(listing.extra.get("listing_id", "110000000001")),
                        "listingStatus": "ENDED" if ended else ("ACTIVE" if listing.quantity > 0 else "OUT_OF_STOCK")},
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
        refused = self._auth(call)
        if refused is not None:
            return refused
        sku = call.request.args.get("sku", "")
        with call.market.lock:
            listing = call.market.find(sku=sku)
            if listing is None:
                return errors(404, _error(25713, "This Offer is not available."))
            offer = self._offer(listing)
        return json_response({"offers": [offer], "total": 1, "size": 1, "limit": 25, "href": call.full_url})

    def get_offer(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        with call.market.lock:
            listing = call.market.find(external_id=call.params["offer_id"])
            if listing is None:
                return errors(404, _error(25713, "This Offer is not available."))
            return json_response(self._offer(listing))

    def withdraw(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        call.items = 1
        with call.market.lock:
            listing = call.market.find(external_id=call.params["offer_id"])
            if listing is None:
                return errors(404, _error(25713, "This Offer is not available."))
            listing.status, listing.active = "ENDED", False
            return json_response({"listingId": str(listing.extra.get("listing_id", "110000000001")), "warnings": []})

    def publish(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        call.items = 1
        with call.market.lock:
            listing = call.market.find(external_id=call.params["offer_id"])
            if listing is None:
                return errors(404, _error(25713, "This Offer is not available."))
            if listing.status == "ENDED":
                # A relisted item gets a new eBay listing id.
                listing.extra["listing_id"] = str(110000000000 + call.market.next_id())
            listing.status, listing.active = "PUBLISHED", True
            return json_response({"listingId": str(listing.extra.get("listing_id", "110000000001")), "warnings": []})
