"""Kaufland Marketplace Seller API v2 (units), as served here.

Paths are accepted with or without the ``/v2`` base path (the real host is
``https://sellerapi.kaufland.com`` with everything under ``/v2``):
- GET/PATCH/DELETE /v2/units/{id_unit}?storefront=de   (PATCH {"amount", "status"})
- GET /v2/units?storefront=de&id_offer=|ean=
- POST /v2/units/bulk?storefront=de  [{"id_unit", "unit_data"}] (<= 150, no duplicates) -> 207
- POST /v2/units?storefront=de                          (re-create a deleted unit)
Auth on every call: Shop-Client-Key, Shop-Timestamp, Shop-Signature =
hex HMAC-SHA256(secret_key, METHOD\\nFULL_URL\\nBODY\\nTIMESTAMP), plus a User-Agent.
A wrong signature or stale timestamp -> 401 ErrorResponse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from typing import Any

from werkzeug.wrappers import Response

from connector.sandbox.api import Call, MarketplaceApi, json_response, retry_after_header
from connector.sandbox.core import Listing

TIMESTAMP_WINDOW_S = 900
STOREFRONTS = ("de", "cz", "sk", "pl", "at", "fr", "it")
V2 = r"(?:/v2)?"
BULK_LIMIT = 150


PROBLEMS = {400: "/problems/bad-request", 401: "/problems/unauthorized", 404: "/problems/not-found",
            429: "about:blank", 500: "/problems/server-error", 503: "/problems/service-unavailable"}


def error(status: int, message: str, headers: dict[str, str] | None = None, *, problem: str | None = None,
          field: str = "") -> Response:
    """Kaufland's ErrorResponse: {type (a /problems/... id), message, errors: [{field, message}]}."""
    body = {"type": problem or PROBLEMS.get(status, "about:blank"), "message": message,
            "errors": [{"field": field, "message": message}]}
    return json_response(body, status, headers)


def signature(secret_key: str, method: str, url: str, body: str, timestamp: str) -> str:
    message = "\n".join([method.upper(), url, body, timestamp])
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()


class Kaufland(MarketplaceApi):
    name = "kaufland"
    rate = 20.0
    burst = 20
    routes = [
        ("GET", V2 + r"/units/(?P<id_unit>\d+)", "get_unit", False),
        ("PATCH", V2 + r"/units/(?P<id_unit>\d+)", "patch_unit", False),
        ("DELETE", V2 + r"/units/(?P<id_unit>\d+)", "delete_unit", False),
        ("POST", V2 + r"/units/bulk", "bulk_units", False),
        ("GET", V2 + r"/units", "list_units", False),
        ("POST", V2 + r"/units", "create_unit", False),
    ]

    def throttled(self, call: Call, retry_after: float) -> Response:
        return error(429, "Too many requests", {"Retry-After": retry_after_header(retry_after)})

    def failure(self, call: Call, status: int, message: str) -> Response:
        return error(status, message)

    def _check(self, call: Call) -> Response | None:
        key, stamp, sig = (call.header("Shop-Client-Key"), call.header("Shop-Timestamp"),
                           call.header("Shop-Signature"))
        if not (key and stamp and sig):
            return error(401, "Request authentication headers are corrupt: Shop-Client-Key, "
                              "Shop-Timestamp and Shop-Signature are required.")
        if not call.header("User-Agent"):
            return error(400, "User-Agent header is required.")
        with call.market.lock:
            found = call.market.account_where(client_key=key)
        if found is None:
            return error(401, "Unknown client key.", problem="/problems/invalid-credentials", field="Shop-Client-Key")
        try:
            skew = abs(time.time() - int(stamp))
        except ValueError:
            return error(401, "Shop-Timestamp must be Unix seconds.")
        if skew > TIMESTAMP_WINDOW_S:
            return error(401, "Shop-Timestamp is too far from the server time.",
                         problem="/problems/missing-or-invalid-request-header", field="Shop-Timestamp")
        expected = signature(found[1].get("secret_key", ""), call.request.method, call.full_url,
                             call.body.decode("utf-8", "replace"), stamp)
        if not hmac.compare_digest(expected, sig.lower()):
            return error(401, "Signature is invalid.", problem="/problems/corrupted-signature", field="Shop-Signature")
        if call.request.args.get("storefront") not in STOREFRONTS:
            return error(400, "Query parameter 'storefront' is required (de, cz, sk, pl, at, fr, it).")
        return None

    def _unit(self, listing: Listing, storefront: str) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return {
            "id_unit": int(listing.external_id or 0), "id_offer": listing.sku, "amount": listing.quantity,
            "status": listing.extra.get("unit_status", "AVAILABLE"), "listing_price": listing.extra.get("price", 1999),
            "price": listing.extra.get("price", 1999), "storefront": storefront, "condition": "NEW",
            "currency": "EUR", "fulfillment_type": "fulfilled_by_merchant", "handling_time": 1,
            "id_product": int(listing.extra.get("id_product", 1)), "date_inserted_iso": now,
            "date_lastchange_iso": now, "note": None, "minimum_price": listing.extra.get("price", 1999), "id_shipping_group": None,
            "id_warehouse": None, "shipping_rate": 0, "transport_time_min": 1, "transport_time_max": 3,
            "vat_indicator": "standard_rate",
        }

    def _live(self, call: Call) -> Listing | None:
        listing = call.market.find(external_id=call.params["id_unit"])
        return None if listing is None or listing.status == "deleted" else listing

    def get_unit(self, call: Call) -> Response:
        refused = self._check(call)
        if refused is not None:
            return refused
        with call.market.lock:
            listing = self._live(call)
            if listing is None:
                return error(404, "Unit not found")
            return json_response({"data": self._unit(listing, call.request.args["storefront"])})

    def patch_unit(self, call: Call) -> Response:
        refused = self._check(call)
        if refused is not None:
            return refused
        body = call.json()
        call.items = 1
        if not isinstance(body, dict):
            return error(400, "Request body must be a JSON object.")
        amount = body.get("amount")
        if "amount" in body and (not isinstance(amount, int) or isinstance(amount, bool) or amount < 0):
            return error(400, "amount must be an integer >= 0.", problem="/problems/validation-error", field="amount")
        if "status" in body and body["status"] not in ("AVAILABLE", "ONHOLD"):
            return error(400, "status must be AVAILABLE or ONHOLD.")
        with call.market.lock:
            listing = self._live(call)
            if listing is None:
                return error(404, "Unit not found")
            if isinstance(amount, int):
                listing.quantity = amount
            if "status" in body:
                listing.extra["unit_status"] = body["status"]
                listing.active = body["status"] == "AVAILABLE"
            return json_response({"data": self._unit(listing, call.request.args["storefront"])})

    def bulk_units(self, call: Call) -> Response:
        refused = self._check(call)
        if refused is not None:
            return refused
        body = call.json()
        if not isinstance(body, list):
            return error(400, "Body must be a list of {id_unit, unit_data}.", problem="/problems/validation-error")
        call.items = len(body)
        if len(body) > BULK_LIMIT:
            return error(400, f"At most {BULK_LIMIT} units per request.", problem="/problems/units/bulk-too-many-units")
        ids = [e.get("id_unit") for e in body if isinstance(e, dict)]
        if len(set(ids)) != len(ids):
            return error(400, "Duplicate units in request.", problem="/problems/units/bulk-duplicate-units")
        data: list[dict[str, Any]] = []
        storefront = call.request.args["storefront"]
        with call.market.lock:
            for entry in body:
                id_unit = int(entry.get("id_unit") or 0)
                fields = entry.get("unit_data") or {}
                listing = call.market.find(external_id=str(id_unit))
                amount = fields.get("amount")
                if listing is None or listing.status == "deleted":
                    data.append({"id_unit": max(1, id_unit), "status_code": 404, "message": "Unit not found",
                                 "errors": [{"field": "id_unit", "message": "Unit not found"}]})
                elif "amount" in fields and (not isinstance(amount, int) or isinstance(amount, bool) or amount < 0):
                    data.append({"id_unit": id_unit, "status_code": 400, "message": "amount must be an integer >= 0.",
                                 "errors": [{"field": "amount", "message": "amount must be an integer >= 0."}]})
                else:
                    if isinstance(amount, int):
                        listing.quantity = amount
                    if fields.get("status") in ("AVAILABLE", "ONHOLD"):
                        listing.extra["unit_status"] = fields["status"]
                        listing.active = fields["status"] == "AVAILABLE"
                    data.append({"id_unit": id_unit, "status_code": 200, "unit": self._unit(listing, storefront)})
        return json_response({"data": data}, 207)

    def delete_unit(self, call: Call) -> Response:
        refused = self._check(call)
        if refused is not None:
            return refused
        call.items = 1
        with call.market.lock:
            listing = self._live(call)
            if listing is None:
                return error(404, "Unit not found")
            listing.status, listing.active, listing.quantity = "deleted", False, 0
        return Response(status=204)

    def list_units(self, call: Call) -> Response:
        refused = self._check(call)
        if refused is not None:
            return refused
        args = call.request.args
        with call.market.lock:
            units = [
                self._unit(x, args["storefront"]) for x in call.market.listings.values()
                if x.status != "deleted"
                and (not args.get("id_offer") or x.sku == args["id_offer"])
                and (not args.get("ean") or x.extra.get("ean", x.sku) == args["ean"])
            ]
        return json_response({"data": units, "pagination": {"offset": 0, "limit": 30, "total": len(units)}})

    def create_unit(self, call: Call) -> Response:
        refused = self._check(call)
        if refused is not None:
            return refused
        body = call.json()
        call.items = 1
        if not isinstance(body, dict) or not (body.get("ean") or body.get("id_product")):
            return error(400, "ean or id_product is required.")
        if not isinstance(body.get("listing_price"), int) or body["listing_price"] < 1:
            return error(400, "listing_price must be > 0.")
        with call.market.lock:
            market = call.market
            sku = str(body.get("id_offer") or body.get("ean"))
            old = market.find(sku=sku)
            extra = dict(old.extra) if old else {}
            extra.update({"ean": body.get("ean"), "price": body["listing_price"]})
            # Kaufland gives a re-created unit a new id_unit.
            listing = market.put(Listing(sku=sku, external_id=str(market.next_id() * 1000 + 7),
                                         quantity=int(body.get("amount", 0)), extra=extra))
            return json_response({"data": self._unit(listing, call.request.args["storefront"])})
