"""Zalando zDirect Merchant Stock API (stocks 1.1.0), as served here.

- POST /auth/token (HTTP Basic client_id:client_secret, form grant_type=client_credentials)
- POST /merchants/{merchant-id}/stocks {"items": [{sales_channel_id, ean, quantity}]} (<= 1000,
  unique (channel, ean)) -> 207 {"results": [{"item", "result": {"status", "code", "description"}}]}
  (the published spec names the list ``results``; codes 0 ok, 101 validation, 104 held until
  the EAN is onboarded). A listing is one EAN (sku = EAN); quantity per channel in extra.
Limits: 60 requests and 2000 stock updates a minute; 429 with Retry-After and X-Rate-Limit.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from werkzeug.wrappers import Response

from connector.sandbox.api import Call, MarketplaceApi, json_response, retry_after_header

TOKEN_LIFETIME_S = 3600
MAX_ITEMS = 1000
ITEMS_PER_MINUTE = 2000


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"type": "about:blank", "title": title, "status": status, "detail": detail},
                         status, headers, content_type="application/problem+json")


class Zalando(MarketplaceApi):
    name = "zalando"
    rate = 1.0  # 60 requests / minute
    burst = 60
    routes = [
        ("POST", r"/auth/token", "token", True),
        ("POST", r"/merchants/(?P<merchant>[^/]+)/stocks", "post_stocks", False),
    ]

    def __init__(self) -> None:
        self._window: dict[int, tuple[float, int]] = {}
        self._window_lock = threading.Lock()

    def throttled(self, call: Call, retry_after: float) -> Response:
        return problem(429, "Too Many Requests", "Rate limit exceeded.",
                       {"Retry-After": retry_after_header(retry_after), "X-Rate-Limit": "60"})

    def failure(self, call: Call, status: int, message: str) -> Response:
        return problem(status, "Error", message)

    def token(self, call: Call) -> Response:
        creds = call.basic()
        if call.form().get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        with call.market.lock:
            found = creds and call.market.account_where(client_id=creds[0], client_secret=creds[1])
            if not found:
                return json_response({"error": "invalid_client"}, 401)
            token = call.market.issue_token(found[0], TOKEN_LIFETIME_S)
        return json_response({"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S,
                              "scope": "products/stock/write"})

    def _items_budget(self, call: Call, count: int) -> float | None:
        """2000 stock updates a minute per market: seconds to wait, or None."""
        key = id(call.market)
        now = time.time()
        with self._window_lock:
            start, used = self._window.get(key, (now, 0))
            if now - start >= 60:
                start, used = now, 0
            if call.market.bucket is not None and used + count > ITEMS_PER_MINUTE:
                return 60 - (now - start)
            self._window[key] = (start, used + count)
        return None

    def post_stocks(self, call: Call) -> Response:
        with call.market.lock:
            account = call.market.token_account(call.bearer())
        if account is None:
            return problem(401, "Unauthorized", "Access token is missing, invalid or expired.")
        if account.get("merchant_id") and account["merchant_id"] != call.params["merchant"]:
            return problem(403, "Forbidden", "The token is not allowed to act for this merchant.")
        body = call.json()
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return problem(400, "Bad Request", "Body must be {\"items\": [...]}.")
        call.items = len(items)
        if len(items) > MAX_ITEMS:
            return problem(400, "Bad Request", f"At most {MAX_ITEMS} stock updates per request.")
        # Schema violations refuse the whole request (the spec's `default` problem reply):
        # the item types, and `ean` in `format: gtin-13` (13 digits, GS1 check digit).
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("ean"), str) \
                    or not isinstance(item.get("quantity"), int) or not isinstance(item.get("sales_channel_id"), str):
                return problem(400, "Bad Request", f"items[{index}] does not match StockUpdatePerSalesChannel.")
            if not _gtin13(item["ean"]):
                return problem(400, "Bad Request", f"items[{index}].ean is not a valid GTIN-13.")
        pairs = [(i.get("sales_channel_id"), i.get("ean")) for i in items if isinstance(i, dict)]
        if len(set(pairs)) != len(pairs):
            return problem(400, "Bad Request", "sales_channel_id and ean must be unique within a batch.")
        wait = self._items_budget(call, len(items))
        if wait is not None:
            return self.throttled(call, wait)
        results: list[dict[str, Any]] = []
        with call.market.lock:
            for item in items:
                results.append({"item": item, "result": self._apply(call, item)})
        return json_response({"results": results}, 207)

    def _apply(self, call: Call, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            return {"status": "REJECTED", "code": 101, "description": "Item must be an object."}
        quantity, ean, channel = item.get("quantity"), str(item.get("ean", "")), item.get("sales_channel_id")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            return {"status": "REJECTED", "code": 101, "description": "quantity must be an integer >= 0."}
        if not _is_uuid(channel):
            return {"status": "REJECTED", "code": 101, "description": "sales_channel_id must be a UUID."}
        if not (len(ean) == 13 and ean.isdigit()):
            return {"status": "REJECTED", "code": 101, "description": "ean must be a GTIN-13."}
        listing = call.market.find(sku=ean)
        if listing is None:
            # Zalando holds stock for EANs not onboarded yet and applies it later.
            return {"status": "ACCEPTED", "code": 104,
                    "description": "Update pending - waiting for the article to be onboarded."}
        listing.extra.setdefault("channels", {})[channel] = quantity
        home = listing.extra.get("sales_channel_id")
        if home is None or home == channel:
            listing.quantity = quantity
            listing.active = quantity > 0  # a size at 0 is taken offline in that channel
        return {"status": "ACCEPTED", "code": 0, "description": "Update successful."}


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _gtin13(ean: str) -> bool:
    """GS1 GTIN-13: 12 digits and a check digit (weights 1, 3 from the left)."""
    if len(ean) != 13 or not ean.isdigit():
        return False
    weighted = sum(int(ch) * (1 if pos % 2 == 0 else 3) for pos, ch in enumerate(ean[:12]))
    return int(ean[12]) == (10 - weighted % 10) % 10
