"""Shopee Open Platform v2 (product stock), as served here.

- POST /api/v2/product/update_stock {"item_id", "stock_list": [{"model_id", "seller_stock": [{"stock"}]}]}
  (1..50 models of one item) -> response.success_list / failure_list
- GET /api/v2/product/get_model_list?item_id=, GET /api/v2/product/get_item_base_info?item_id_list=
- POST /api/v2/product/unlist_item {"item_list": [{"item_id", "unlist"}]}
- POST /api/v2/auth/access_token/get {"refresh_token", "partner_id", "shop_id"} (refresh token rotates)
Shop calls carry partner_id, timestamp (s, valid 5 min), access_token, shop_id and
sign = hex HMAC-SHA256(partner_key, f"{partner_id}{path}{timestamp}{access_token}{shop_id}");
the token call signs f"{partner_id}{path}{timestamp}". A wrong sign -> 403 error_sign.
Cross-border (CNSC/KRSC) merchants (an account with ``merchant_id``): merchant-level calls
carry and sign ``merchant_id`` where shop calls have ``shop_id``;
POST /api/v2/global_product/update_stock {"global_item_id", "stock_list": [{"global_model_id",
"seller_stock": [{"stock"}]}]} (1..50) sets the global stock of listings whose external_id
is "<global_item_id>/<global_model_id>" (reply: error "" and no per-model lists). Such a
merchant's shop refuses the local product/update_stock (Shopee reserves stock of
cross-border items to the global product).
Promotion stock (``promotion_stock``) is reserved: a seller stock below it fails that model.
Listing: sku = model SKU, external_id = "<item_id>/<model_id>".
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from typing import Any

from werkzeug.wrappers import Response

from connector.sandbox.api import Call, MarketplaceApi, json_response, retry_after_header
from connector.sandbox.core import Listing

TIMESTAMP_WINDOW_S = 300
ACCESS_LIFETIME_S = 4 * 3600
MAX_MODELS = 50


def signature(partner_key: str, base: str) -> str:
    return hmac.new(partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()


def fail(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": error, "message": message, "request_id": uuid.uuid4().hex}, status, headers)


def ok(response: dict[str, Any], warning: str = "") -> Response:
    return json_response({"error": "", "message": "", "warning": warning, "request_id": uuid.uuid4().hex,
                          "response": response})


class Shopee(MarketplaceApi):
    name = "shopee"
    rate = 10.0
    burst = 10
    routes = [
        ("POST", r"/api/v2/auth/access_token/get", "refresh", True),
        ("POST", r"/api/v2/product/update_stock", "update_stock", False),
        ("GET", r"/api/v2/product/get_model_list", "get_model_list", False),
        ("GET", r"/api/v2/product/get_item_base_info", "get_item_base_info", False),
        ("POST", r"/api/v2/product/unlist_item", "unlist_item", False),
        ("POST", r"/api/v2/global_product/update_stock", "global_update_stock", False),
    ]

    def throttled(self, call: Call, retry_after: float) -> Response:
        return fail(429, "error_system_busy", "Too many requests, the system is busy, please try again later.",
                    {"Retry-After": retry_after_header(retry_after)})

    def failure(self, call: Call, status: int, message: str) -> Response:
        return fail(status, "error_server" if status >= 500 else "error_not_found", message)

    def _api_path(self, call: Call) -> str:
        return "/api/v2/" + call.request.path.split("/api/v2/", 1)[1]

    def _check(self, call: Call, shop_call: bool = True) -> tuple[dict[str, Any] | None, Response | None]:
        args = call.request.args
        partner_id, stamp, given = args.get("partner_id", ""), args.get("timestamp", ""), args.get("sign", "")
        if not (partner_id and stamp and given):
            return None, fail(400, "error_param", "partner_id, timestamp and sign are required.")
        with call.market.lock:
            partner = call.market.account_where(partner_id=partner_id)
        if partner is None:
            return None, fail(403, "error_auth", "Invalid partner_id.")
        try:
            skew = abs(time.time() - int(stamp))
        except ValueError:
            skew = float("inf")
        if skew > TIMESTAMP_WINDOW_S:
            return None, fail(403, "error_param", "Invalid timestamp: it must be within 5 minutes of the server time.")
        base = f"{partner_id}{self._api_path(call)}{stamp}"
        merchant_call = self._api_path(call).startswith("/api/v2/global_product/")
        if shop_call:
            owner = args.get("merchant_id", "") if merchant_call else args.get("shop_id", "")
            base += f"{args.get('access_token', '')}{owner}"
        if not hmac.compare_digest(signature(partner[1].get("partner_key", ""), base), given.lower()):
            return None, fail(403, "error_sign", "Wrong sign.")
        if not shop_call:
            return partner[1], None
        with call.market.lock:
            account = call.market.token_account(args.get("access_token"))
            if account is None and args.get("access_token") and args["access_token"] == partner[1].get("access_token"):
                account = partner[1]  # a pre-issued token from the seed
        if account is None:
            return None, fail(403, "error_auth", "Invalid access_token.")
        if merchant_call:
            if not account.get("merchant_id") or str(account["merchant_id"]) != args.get("merchant_id"):
                return None, fail(403, "error_auth", "No permission to this merchant.")
        elif account.get("shop_id") and account["shop_id"] != args.get("shop_id"):
            return None, fail(403, "error_auth", "No permission to this shop.")
        return account, None

    def global_update_stock(self, call: Call) -> Response:
        _, refused = self._check(call)
        if refused is not None:
            return refused
        body = call.json()
        if not isinstance(body, dict) or not body.get("global_item_id"):
            return fail(400, "error_param", "invalid field GlobalItemId: value must  Not Null")
        stock_list = body.get("stock_list")
        if not isinstance(stock_list, list) or not 1 <= len(stock_list) <= MAX_MODELS:
            return fail(400, "error_param", f"stock_list must hold 1 to {MAX_MODELS} models.")
        call.items = len(stock_list)
        item = str(body["global_item_id"])
        with call.market.lock:
            models = {(x.external_id or "").split("/", 1)[1]: x for x in self._models(call, item)}
            if not models:
                return fail(400, "error_item_not_found", f"global_item_id {item} not found.")
            staged = []
            for entry in stock_list:
                model_id = str(entry.get("global_model_id", 0))
                listing = models.get(model_id)
                stocks = entry.get("seller_stock") or []
                if listing is None:
                    return fail(400, "error_param", f"global_model_id {model_id} not found.")
                if len(stocks) != 1 or not isinstance(stocks[0].get("stock"), int) or stocks[0]["stock"] < 0:
                    return fail(400, "error_param", "invalid seller_stock.")
                staged.append((listing, stocks[0]["stock"]))
            for listing, stock in staged:
                listing.quantity = stock
        return json_response({"error": "", "message": "", "warning": "", "request_id": uuid.uuid4().hex})

    def refresh(self, call: Call) -> Response:
        partner, refused = self._check(call, shop_call=False)
        if refused is not None:
            return refused
        body = call.json() or {}
        with call.market.lock:
            found = call.market.account_where(partner_id=call.request.args["partner_id"],
                                              refresh_token=body.get("refresh_token"))
            if found is None:
                return fail(403, "error_auth", "Invalid refresh_token.")
            index, account = found
            # Shopee replaces the refresh token on every refresh; the old one stops working.
            account["refresh_token"] = secrets.token_hex(16)
            token = call.market.issue_token(index, ACCESS_LIFETIME_S)
        return json_response({"access_token": token, "refresh_token": account["refresh_token"],
                              "expire_in": ACCESS_LIFETIME_S, "partner_id": int(account["partner_id"]),
                              "shop_id": int(account.get("shop_id") or 0), "request_id": uuid.uuid4().hex,
                              "error": "", "message": ""})

    def _models(self, call: Call, item_id: str) -> list[Listing]:
        return [x for x in call.market.listings.values() if (x.external_id or "").startswith(f"{item_id}/")]

    def update_stock(self, call: Call) -> Response:
        account, refused = self._check(call)
        if refused is not None:
            return refused
        if account is not None and account.get("merchant_id"):
            return fail(403, "error_auth", "This is a cross-border shop: update its stock with "
                                           "v2.global_product.update_stock.")
        body = call.json()
        if not isinstance(body, dict) or not body.get("item_id"):
            return fail(400, "error_param", "invalid field ItemId: value must  Not Null")
        stock_list = body.get("stock_list")
        if not isinstance(stock_list, list) or not 1 <= len(stock_list) <= MAX_MODELS:
            return fail(400, "error_param", f"stock_list must hold 1 to {MAX_MODELS} models.")
        call.items = len(stock_list)
        item_id = str(body["item_id"])
        success, failure = [], []
        with call.market.lock:
            models = {(x.external_id or "").split("/", 1)[1]: x for x in self._models(call, item_id)}
            if not models:
                return fail(400, "error_item_not_found", f"item_id {item_id} not found.")
            for entry in stock_list:
                model_id = str(entry.get("model_id", ""))
                listing = models.get(model_id)
                stocks = entry.get("seller_stock") or []
                if listing is None:
                    failure.append({"model_id": int(model_id or 0), "failed_reason": "model_id not found"})
                    continue
                if len(stocks) != 1 or not isinstance(stocks[0].get("stock"), int) or stocks[0]["stock"] < 0:
                    failure.append({"model_id": int(model_id), "failed_reason": "invalid seller_stock"})
                    continue
                stock = stocks[0]["stock"]
                if stock < listing.promotion_stock:
                    failure.append({"model_id": int(model_id), "failed_reason":
                                    f"stock less than reserved stock: promotion stock {listing.promotion_stock} "
                                    "is reserved (error_model_update_stock_model_in_promotion)"})
                    continue
                listing.quantity = stock
                success.append({"model_id": int(model_id), "location_id": stocks[0].get("location_id", ""),
                                "stock": stock})
        return ok({"success_list": success, "failure_list": failure})

    def _stock_info(self, listing: Listing) -> dict[str, Any]:
        return {"summary_info": {"total_reserved_stock": listing.promotion_stock,
                                 "total_available_stock": listing.quantity},
                "seller_stock": [{"location_id": "", "stock": listing.quantity, "if_saleable": listing.active}],
                "shopee_stock": []}

    def get_model_list(self, call: Call) -> Response:
        _, refused = self._check(call)
        if refused is not None:
            return refused
        item_id = call.request.args.get("item_id", "")
        with call.market.lock:
            models = self._models(call, item_id)
            if not models:
                return fail(400, "error_item_not_found", f"item_id {item_id} not found.")
            rows = [{"model_id": int((x.external_id or "0/0").split("/", 1)[1]), "model_sku": x.sku,
                     "model_status": "MODEL_NORMAL" if x.active else "MODEL_UNAVAILABLE",
                     "stock_info_v2": self._stock_info(x)} for x in models]
        return ok({"tier_variation": [], "model": rows})

    def get_item_base_info(self, call: Call) -> Response:
        _, refused = self._check(call)
        if refused is not None:
            return refused
        ids = [i for i in call.request.args.get("item_id_list", "").split(",") if i]
        items = []
        with call.market.lock:
            for item_id in ids[:50]:
                models = self._models(call, item_id)
                if models:
                    first = models[0]
                    items.append({"item_id": int(item_id), "item_sku": first.sku,
                                  "item_status": "NORMAL" if first.active else "UNLIST", "has_model": len(models) > 1
                                  or (first.external_id or "").split("/", 1)[1] != "0",
                                  "stock_info_v2": self._stock_info(first)})
        return ok({"item_list": items})

    def unlist_item(self, call: Call) -> Response:
        _, refused = self._check(call)
        if refused is not None:
            return refused
        body = call.json() or {}
        entries = body.get("item_list") or []
        call.items = len(entries)
        success, failure = [], []
        with call.market.lock:
            for entry in entries:
                models = self._models(call, str(entry.get("item_id")))
                if not models:
                    failure.append({"item_id": entry.get("item_id"), "failed_reason": "error_item_not_found"})
                    continue
                for model in models:
                    model.active = not bool(entry.get("unlist"))
                success.append({"item_id": entry.get("item_id"), "unlist": bool(entry.get("unlist"))})
        return ok({"success_list": success, "failure_list": failure})
