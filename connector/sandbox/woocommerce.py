"""WooCommerce REST API wc/v3 (product and variation stock), as served here.

Paths with or without ``/wp-json``:
- PUT/GET /wc/v3/products/{id}, PUT/GET /wc/v3/products/{parent}/variations/{id}
- POST /wc/v3/products/batch, POST /wc/v3/products/{parent}/variations/batch
  ({"update": [{id, manage_stock, stock_quantity}]}, <= 100 objects, else 413;
  HTTP 200 with a per-item ``error`` for failures)
- GET /wc/v3/products?sku=
Auth: HTTP Basic consumer_key:consumer_secret, or ?consumer_key=&consumer_secret=.
stock_quantity applies only when manage_stock is (or becomes) true; status draft = inactive.
Listing: sku, external_id "<id>" or "<parent>/<variation>".
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from connector.sandbox.api import Call, MarketplaceApi, json_response, retry_after_header
from connector.sandbox.core import Listing

BATCH_LIMIT = 100
WC = r"(?:/wp-json)?/wc/v3"


def wc_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"code": code, "message": message, "data": {"status": status}}, status, headers)


class WooCommerce(MarketplaceApi):
    name = "woocommerce"
    rate = None  # no limit in core WooCommerce
    routes = [
        ("POST", WC + r"/products/batch", "batch", False),
        ("POST", WC + r"/products/(?P<parent>\d+)/variations/batch", "batch", False),
        ("PUT", WC + r"/products/(?P<parent>\d+)/variations/(?P<id>\d+)", "put_one", False),
        ("GET", WC + r"/products/(?P<parent>\d+)/variations/(?P<id>\d+)", "get_one", False),
        ("PUT", WC + r"/products/(?P<id>\d+)", "put_one", False),
        ("GET", WC + r"/products/(?P<id>\d+)", "get_one", False),
        ("GET", WC + r"/products", "list_products", False),
    ]

    def throttled(self, call: Call, retry_after: float) -> Response:
        return wc_error(429, "rest_too_many_requests", "Too many requests.",
                        {"Retry-After": retry_after_header(retry_after)})

    def failure(self, call: Call, status: int, message: str) -> Response:
        return wc_error(status, "rest_no_route" if status == 404 else "internal_server_error", message)

    def _auth(self, call: Call) -> Response | None:
        creds = call.basic() or (call.request.args.get("consumer_key", ""), call.request.args.get("consumer_secret", ""))
        if not creds[0]:
            return wc_error(401, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
        with call.market.lock:
            key = call.market.account_where(consumer_key=creds[0])
            found = call.market.account_where(consumer_key=creds[0], consumer_secret=creds[1])
        if key is None:
            return wc_error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if found is None:
            return wc_error(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        return None

    @staticmethod
    def _key(parent: str | None, item_id: Any) -> str:
        return f"{parent}/{item_id}" if parent else str(item_id)

    def _product(self, listing: Listing) -> dict[str, Any]:
        parent, _, own = (listing.external_id or "").rpartition("/")
        managed = bool(listing.extra.get("manage_stock", True))
        status = "outofstock" if managed and listing.quantity <= 0 else "instock"
        return {"id": int(own or 0), "parent_id": int(parent or 0), "sku": listing.sku,
                "type": "variation" if parent else "simple",
                "status": "publish" if listing.active else "draft",
                "manage_stock": managed, "stock_quantity": listing.quantity if managed else None,
                "stock_status": status, "backorders": "no", "backorders_allowed": False}

    def _update(self, call: Call, parent: str | None, fields: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        listing = call.market.find(external_id=self._key(parent, fields.get("id")))
        if listing is None:
            return 400, {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 400}}
        quantity = fields.get("stock_quantity")
        if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool)):
            return 400, {"code": "rest_invalid_param", "message": "Invalid parameter(s): stock_quantity",
                         "data": {"status": 400, "params": {"stock_quantity": "stock_quantity is not of type integer."}}}
        if "manage_stock" in fields:
            listing.extra["manage_stock"] = bool(fields["manage_stock"])
        if quantity is not None and listing.extra.get("manage_stock", True):
            listing.quantity = quantity
        if fields.get("status") in ("publish", "draft", "private", "pending"):
            listing.active = fields["status"] == "publish"
        return 200, self._product(listing)

    def put_one(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        body = call.json()
        if not isinstance(body, dict):
            return wc_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        call.items = 1
        with call.market.lock:
            status, result = self._update(call, call.params.get("parent"), {**body, "id": call.params["id"]})
        return json_response(result, status)

    def batch(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        body = call.json()
        if not isinstance(body, dict):
            return wc_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        total = sum(len(body.get(k) or []) for k in ("create", "update", "delete"))
        call.items = len(body.get("update") or [])
        if total > BATCH_LIMIT:
            return wc_error(413, "woocommerce_rest_request_entity_too_large",
                            f"Unable to accept more than {BATCH_LIMIT} items for this request.")
        results = []
        with call.market.lock:
            for fields in body.get("update") or []:
                status, result = self._update(call, call.params.get("parent"), fields)
                results.append(result if status == 200 else {"id": fields.get("id", 0), "error": result})
        return json_response({"update": results})

    def get_one(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        with call.market.lock:
            listing = call.market.find(external_id=self._key(call.params.get("parent"), call.params["id"]))
            if listing is None:
                return wc_error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            return json_response(self._product(listing))

    def list_products(self, call: Call) -> Response:
        refused = self._auth(call)
        if refused is not None:
            return refused
        sku = call.request.args.get("sku")
        with call.market.lock:
            found = [self._product(x) for x in call.market.listings.values() if sku is None or x.sku == sku]
        return json_response(found)
