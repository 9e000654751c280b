"""Etsy Open API v3 (listing inventory and state), as served here.

- POST /v3/public/oauth/token (form grant_type=refresh_token, client_id=keystring, refresh_token)
- GET/PUT /v3/application/listings/{listing_id}/inventory: PUT is a full replace (products
  left out are dropped); an update where no offering has quantity > 0 is refused, as Etsy
  refuses it ("zero stock cannot be written"), so zero stock means deactivating the listing
- PATCH /v3/application/shops/{shop_id}/listings/{listing_id} (form or JSON: state=active|inactive)
- GET /v3/application/listings/{listing_id}
- the spec's updateListingInventory "fails if the supplied values for product sku, offering
  quantity, and/or price are incompatible with values in `*_on_property_*` fields": products
  with the same values for the properties in `quantity_on_property` (all of them when it is
  empty) must hold the same quantity, else 400
- a row's extra ``sell_after_read`` (n): the next inventory GET is answered, then n units of
  that product sell (a buyer between a client's read and its write)
Auth: ``x-api-key: keystring:shared_secret`` (keystring alone -> 403) and a Bearer token.
Listing row: sku = product SKU, external_id = "<listing_id>/<product_id>"; status = listing state.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from connector.sandbox.api import Call, MarketplaceApi, json_response, retry_after_header
from connector.sandbox.core import Listing

TOKEN_LIFETIME_S = 3600
MAX_QUANTITY = 999
APP = r"/v3/application"


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": message}, status, headers)


class Etsy(MarketplaceApi):
    name = "etsy"
    rate = 10.0
    burst = 10
    routes = [
        ("POST", r"/v3/public/oauth/token", "token", True),
        ("GET", APP + r"/listings/(?P<listing_id>\d+)/inventory", "get_inventory", False),
        ("PUT", APP + r"/listings/(?P<listing_id>\d+)/inventory", "put_inventory", False),
        ("GET", APP + r"/listings/(?P<listing_id>\d+)", "get_listing", False),
        ("PATCH", APP + r"/shops/(?P<shop_id>\d+)/listings/(?P<listing_id>\d+)", "update_listing", False),
    ]

    def throttled(self, call: Call, retry_after: float) -> Response:
        return error(429, "Too Many Requests", {"Retry-After": retry_after_header(retry_after)})

    def failure(self, call: Call, status: int, message: str) -> Response:
        return error(status, message)

    def token(self, call: Call) -> Response:
        form = call.form()
        if form.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type"}, 400)
        with call.market.lock:
            found = call.market.account_where(keystring=form.get("client_id"), refresh_token=form.get("refresh_token"))
            if found is None:
                return json_response({"error": "invalid_grant", "error_description": "refresh_token is invalid"}, 400)
            user = found[1].get("user_id", "12345678")
            token = call.market.issue_token(found[0], TOKEN_LIFETIME_S, prefix=f"{user}.")
        return json_response({"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S,
                              "refresh_token": form["refresh_token"]})

    def _auth(self, call: Call) -> tuple[dict[str, Any] | None, Response | None]:
        keystring, _, shared = call.header("x-api-key").partition(":")
        if not keystring:
            return None, error(403, "API key not found in x-api-key header.")
        if not shared:
            return None, error(403, "Shared secret is required in x-api-key header.")
        with call.market.lock:
            app = call.market.account_where(keystring=keystring, shared_secret=shared)
            account = call.market.token_account(call.bearer())
        if app is None:
            return None, error(403, "Invalid API key or shared secret.")
        if account is None:
            return None, error(401, "invalid_token")
        return account, None

    def _rows(self, call: Call, listing_id: str) -> list[Listing]:
        prefix = f"{listing_id}/"
        return [x for x in call.market.listings.values() if (x.external_id or "").startswith(prefix)]

    def _inventory(self, rows: list[Listing]) -> dict[str, Any]:
        products = []
        for row in rows:
            product_id = int((row.external_id or "0/0").split("/", 1)[1] or 0)
            values = row.extra.get("property_values")
            if not values and len(rows) > 1:
                # On Etsy the products of one listing are its variations, told apart by
                # property values; a seed row without any gets a custom property (513).
                values = [{"property_id": 513, "property_name": "Variant", "scale_id": None,
                           "value_ids": [product_id], "values": [row.sku]}]
            products.append({
                "product_id": product_id, "sku": row.sku, "is_deleted": False,
                "property_values": values or [],
                "offerings": [{"offering_id": product_id * 10 + 1, "quantity": row.quantity,
                               "is_enabled": bool(row.extra.get("is_enabled", True)), "is_deleted": False,
                               "readiness_state_id": row.extra.get("readiness_state_id"),
                               "price": {"amount": int(round(float(row.extra.get("price", 22.0)) * 100)),
                                         "divisor": 100, "currency_code": "EUR"}}],
            })
        first = rows[0].extra if rows else {}
        return {"products": products, "price_on_property": first.get("price_on_property", []),
                "quantity_on_property": first.get("quantity_on_property", []),
                "sku_on_property": first.get("sku_on_property", []),
                "readiness_state_on_property": []}

    def _listing(self, rows: list[Listing], listing_id: str) -> dict[str, Any]:
        state = rows[0].status or "active" if rows else "active"
        return {"listing_id": int(listing_id), "shop_id": int(rows[0].extra.get("shop_id", 0)) if rows else 0,
                "state": state, "quantity": sum(r.quantity for r in rows), "title": rows[0].sku if rows else ""}

    def get_inventory(self, call: Call) -> Response:
        _, refused = self._auth(call)
        if refused is not None:
            return refused
        with call.market.lock:
            rows = self._rows(call, call.params["listing_id"])
            if not rows:
                return error(404, f"Listing {call.params['listing_id']} not found.")
            reply = self._inventory(rows)
            for row in rows:
                sold = int(row.extra.pop("sell_after_read", 0) or 0)
                row.quantity = max(0, row.quantity - sold)
            return json_response(reply)

    def put_inventory(self, call: Call) -> Response:
        _, refused = self._auth(call)
        if refused is not None:
            return refused
        body = call.json()
        listing_id = call.params["listing_id"]
        products = body.get("products") if isinstance(body, dict) else None
        if not isinstance(products, list) or not products:
            return error(400, "products is required.")
        call.items = len(products)
        quantities: list[int] = []
        for product in products:
            offerings = product.get("offerings") if isinstance(product, dict) else None
            if not isinstance(offerings, list) or not offerings:
                return error(400, "Each product needs at least one offering.")
            for offering in offerings:
                missing = [k for k in ("price", "quantity", "is_enabled") if k not in offering]
                if missing:
                    return error(400, f"Offering is missing {', '.join(missing)}.")
                quantity = offering["quantity"]
                if not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
                    return error(400, f"Offering quantity must be between 0 and {MAX_QUANTITY}.")
                if offering["is_enabled"]:
                    quantities.append(quantity)
        if not any(q > 0 for q in quantities):
            return error(400, "One offering must have quantity greater than 0")
        on_property = set(body.get("quantity_on_property") or [])
        groups: dict[tuple[Any, ...], set[tuple[int, ...]]] = {}
        for product in products:
            group = tuple(sorted((v.get("property_id"), tuple(v.get("value_ids") or []))
                               for v in product.get("property_values") or []
                               if isinstance(v, dict) and v.get("property_id") in on_property))
            groups.setdefault(group, set()).add(tuple(o["quantity"] for o in product["offerings"]))
        if any(len(numbers) > 1 for numbers in groups.values()):
            return error(400, "Products with the same values for the properties in quantity_on_property "
                              "must have the same quantity; add the varying property to quantity_on_property.")
        with call.market.lock:
            rows = self._rows(call, listing_id)
            if not rows:
                return error(404, f"Listing {listing_id} not found.")
            by_sku = {r.sku: r for r in rows}
            kept: set[str] = set()
            for product in products:
                sku = str(product.get("sku") or "")
                row = by_sku.get(sku)
                if row is None:
                    row = call.market.put(Listing(sku=sku, external_id=f"{listing_id}/{call.market.next_id()}",
                                                  status=rows[0].status, extra={"shop_id": rows[0].extra.get("shop_id")}))
                offering = product["offerings"][0]
                row.quantity = offering["quantity"]
                row.extra["is_enabled"] = bool(offering["is_enabled"])
                row.extra["price"] = offering["price"]
                for key in ("price_on_property", "quantity_on_property", "sku_on_property"):
                    if key in body:
                        row.extra[key] = body[key]
                kept.add(sku)
            for row in rows:
                if row.sku not in kept:  # a full replace drops what was left out
                    call.market.remove(row.sku)
            return json_response(self._inventory(self._rows(call, listing_id)))

    def get_listing(self, call: Call) -> Response:
        _, refused = self._auth(call)
        if refused is not None:
            return refused
        with call.market.lock:
            rows = self._rows(call, call.params["listing_id"])
            if not rows:
                return error(404, f"Listing {call.params['listing_id']} not found.")
            return json_response(self._listing(rows, call.params["listing_id"]))

    def update_listing(self, call: Call) -> Response:
        account, refused = self._auth(call)
        if refused is not None:
            return refused
        assert account is not None
        if account.get("shop_id") and account["shop_id"] != call.params["shop_id"]:
            return error(403, "The shop does not belong to the authenticated user.")
        content_type = call.header("Content-Type")
        fields: dict[str, Any] = call.form() if "x-www-form-urlencoded" in content_type else (call.json() or {})
        state = fields.get("state")
        call.items = 1
        with call.market.lock:
            rows = self._rows(call, call.params["listing_id"])
            if not rows:
                return error(404, f"Listing {call.params['listing_id']} not found.")
            if state is not None:
                if state not in ("active", "inactive"):
                    return error(400, "state must be active or inactive.")
                if state == "active" and sum(r.quantity for r in rows) <= 0:
                    return error(400, "A listing with no quantity cannot be activated.")
                for row in rows:
                    row.status, row.active = state, state == "active"
            return json_response(self._listing(rows, call.params["listing_id"]))
