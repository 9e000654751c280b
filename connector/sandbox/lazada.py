"""Lazada Open Platform (product stock), as served here.

Paths with or without the ``/rest`` base:
- POST /product/stock/sellable/update  (payload XML, <Sku><ItemId/><SkuId/><SellableQuantity/>)
- POST /product/price_quantity/update  (payload XML with <Quantity>)
- POST /product/deactivate             (apiRequestBody XML)
- GET  /product/item/get?item_id=
- POST /auth/token/refresh             (refresh_token)
Every call carries app_key, timestamp (ms, within 7200 s), sign_method=sha256, access_token
(not on token calls) and sign = UPPER hex HMAC-SHA256(app_secret, api_path + sorted k+v of
every other param). Replies are HTTP 200 JSON; ``code`` "0" is success. A write below the
campaign-lock floor fails with code 501 and a detail entry coded 4170; QPS throttling is
code ApiCallLimit. Listing: sku = SellerSku, external_id = "<item_id>/<sku_id>".
Multi-warehouse sellers (a listing with extra ``warehouses`` = {code: quantity}): writes
must use ``<MultiWarehouseInventories><MultiWarehouseInventory><WarehouseCode>`` (the bare
form is refused for them, and the wrapped one for single-warehouse listings, as the
reference note says); inside, ``<Quantity>`` sets that warehouse and any other child is
ignored with code "0" (what an integrator found on the live API); warehouses not named keep
their stock. item/get lists ``multiWarehouseInventories`` per SKU.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Any

from werkzeug.wrappers import Response

from connector.sandbox.api import Call, MarketplaceApi, json_response
from connector.sandbox.core import Listing

REST = r"(?:/rest)?"
MAX_SKUS = 50
TIMESTAMP_WINDOW_MS = 7200 * 1000
ACCESS_LIFETIME_S = 7 * 24 * 3600


def sign(app_secret: str, api_path: str, params: dict[str, str]) -> str:
    text = api_path + "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return hmac.new(app_secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


def reply(code: str = "0", message: str = "", type_: str = "ISV", **more: Any) -> Response:
    body: dict[str, Any] = {"code": code, "request_id": uuid.uuid4().hex[:16], **more}
    if code != "0":
        body.update({"type": type_, "message": message})
    return json_response(body)


class Lazada(MarketplaceApi):
    name = "lazada"
    rate = 50.0
    burst = 50
    routes = [
        ("POST", REST + r"(?P<api>/auth/token/refresh)", "refresh", True),
        ("POST", REST + r"(?P<api>/product/stock/sellable/update)", "sellable_update", False),
        ("POST", REST + r"(?P<api>/product/price_quantity/update)", "quantity_update", False),
        ("POST", REST + r"(?P<api>/product/deactivate)", "deactivate", False),
        ("GET", REST + r"(?P<api>/product/item/get)", "item_get", False),
    ]

    def throttled(self, call: Call, retry_after: float) -> Response:
        return reply("ApiCallLimit", "The request has exceeded the QPS limit (901), retry in the next second",
                     type_="ISP")

    def failure(self, call: Call, status: int, message: str) -> Response:
        if status >= 500:
            return json_response({"code": "6", "type": "SYSTEM", "message": message,
                                  "request_id": uuid.uuid4().hex[:16]}, status)
        return json_response({"code": "InvalidApiPath", "type": "ISV", "message": message,
                              "request_id": uuid.uuid4().hex[:16]}, status)

    def _params(self, call: Call) -> dict[str, str]:
        params = call.query()
        if "x-www-form-urlencoded" in call.header("Content-Type") or "multipart" in call.header("Content-Type"):
            params.update({k: v for k, v in call.request.form.items()})
        return params

    def _check(self, call: Call, need_token: bool = True) -> tuple[dict[str, str], dict[str, Any] | None, Response | None]:
        params = self._params(call)
        for key in ("app_key", "timestamp", "sign_method", "sign"):
            if not params.get(key):
                return params, None, reply("MissingParameter", f"The input parameter \"{key}\" that is mandatory "
                                           "for processing this request is not supplied.")
        with call.market.lock:
            found = call.market.account_where(app_key=params["app_key"])
        if found is None:
            return params, None, reply("InvalidAppKey", "Specified app key is invalid")
        try:
            skew = abs(time.time() * 1000 - int(params["timestamp"]))
        except ValueError:
            skew = float("inf")
        if skew > TIMESTAMP_WINDOW_MS:
            return params, None, reply("InvalidTimestamp", "Timestamp is invalid or expired")
        if params["sign_method"] != "sha256":
            return params, None, reply("InvalidSignatureMethod", "The signature method is not supported")
        expected = sign(found[1].get("app_secret", ""), call.params["api"], params)
        if not hmac.compare_digest(expected, params["sign"]):
            return params, None, reply("IncompleteSignature", "The request signature does not conform to platform standards")
        if need_token:
            with call.market.lock:
                seller = call.market.token_account(params.get("access_token"))
                if seller is None and params.get("access_token") and params["access_token"] == found[1].get("access_token"):
                    seller = found[1]  # a pre-issued token from the seed
            if seller is None:
                return params, None, reply("IllegalAccessToken", "The specified access token is invalid or expired")
            return params, seller, None
        return params, found[1], None

    def refresh(self, call: Call) -> Response:
        params, account, refused = self._check(call, need_token=False)
        if refused is not None:
            return refused
        with call.market.lock:
            found = call.market.account_where(app_key=params["app_key"], refresh_token=params.get("refresh_token"))
            if found is None:
                return reply("IllegalRefreshToken", "The specified refresh token is invalid or expired")
            token = call.market.issue_token(found[0], ACCESS_LIFETIME_S)
        return json_response({"access_token": token, "refresh_token": params["refresh_token"],
                              "expires_in": ACCESS_LIFETIME_S, "refresh_expires_in": 30 * 24 * 3600,
                              "account_platform": "seller_center", "country": "sg", "code": "0",
                              "request_id": uuid.uuid4().hex[:16]})

    def _skus(self, xml_text: str) -> list[dict[str, Any]] | None:
        try:
            root = ET.fromstring(xml_text)
        except ET.ParseError:
            return None
        out: list[dict[str, Any]] = []
        for sku in root.iter("Sku"):
            fields: dict[str, Any] = {child.tag: (child.text or "").strip() for child in sku
                                      if child.tag != "MultiWarehouseInventories"}
            if sku.find("MultiWarehouseInventories") is not None:
                fields["warehouses"] = [
                    {child.tag: (child.text or "").strip() for child in entry}
                    for entry in sku.iter("MultiWarehouseInventory")
                ]
            out.append(fields)
        return out

    def _write(self, call: Call, field: str) -> Response:
        params, _, refused = self._check(call)
        if refused is not None:
            return refused
        skus = self._skus(params.get("payload", ""))
        if skus is None or not skus:
            return reply("5" if skus is None else "30", "E005: Invalid Request Format" if skus is None else "Empty request")
        call.items = len(skus)
        if len(skus) > MAX_SKUS:
            return reply("4171", f"The number of SKUs exceeds the limit of {MAX_SKUS}")
        detail: list[dict[str, Any]] = []
        with call.market.lock:
            for sku in skus:
                problem = self._apply(call, sku, field)
                if problem is not None:
                    detail.append(problem)
        if detail:
            return reply("501", "Update failed", type_="ISP", detail=detail)
        return reply(data={})

    def _apply(self, call: Call, sku: dict[str, Any], field: str) -> dict[str, Any] | None:
        item_id, sku_id = sku.get("ItemId", ""), sku.get("SkuId", "")
        base = {"item_id": item_id, "sku_id": sku_id, "seller_sku": sku.get("SellerSku", ""), "field": field}
        if not (item_id and sku_id):
            return {**base, "code": "4193", "message": "ItemId and SkuId are required; SellerSku is not accepted as key"}
        listing = call.market.find(external_id=f"{item_id}/{sku_id}")
        if listing is None:
            return {**base, "code": "208", "message": f"SKU {item_id}/{sku_id} not found"}
        stock: dict[str, int] | None = listing.extra.get("warehouses")
        if (stock is not None) != ("warehouses" in sku):
            return {**base, "code": "5", "message": "multi-warehouse sellers must send MultiWarehouseInventories"
                    if stock is not None else "MultiWarehouseInventories is only for multi-warehouse sellers"}
        if stock is not None:
            for entry in sku["warehouses"]:
                code = entry.get("WarehouseCode", "")
                if code not in stock:
                    return {**base, "code": "5", "message": f"unknown WarehouseCode {code!r}"}
                value = entry.get("Quantity")
                if value is None:
                    continue  # another child element: ignored, and the call still answers "0"
                if not value.isdigit():
                    return {**base, "code": "5", "message": "Quantity must be an integer >= 0"}
                stock[code] = int(value)
            listing.quantity = sum(stock.values())
            return None
        raw = sku.get(field, "")
        if not raw.lstrip("-").isdigit():
            return {**base, "code": "5", "message": f"{field} must be an integer"}
        quantity = int(raw)
        if quantity < 0:
            return {**base, "code": "212", "message": "INV_NEGATIVE_SELLABLE: the sellable quantity cannot be negative"}
        if listing.lock_floor is not None and quantity < listing.lock_floor:
            return {**base, "code": "4170", "message": f"Campaign locked stock: quantity cannot be lower than the "
                    f"campaign lock ({listing.lock_floor}); negative sellable after campaign lock"}
        listing.quantity = quantity
        return None

    def sellable_update(self, call: Call) -> Response:
        return self._write(call, "SellableQuantity")

    def quantity_update(self, call: Call) -> Response:
        return self._write(call, "Quantity")

    def deactivate(self, call: Call) -> Response:
        params, _, refused = self._check(call)
        if refused is not None:
            return refused
        try:
            root = ET.fromstring(params.get("apiRequestBody", ""))
        except ET.ParseError:
            return reply("5", "E005: Invalid Request Format")
        item_id = (root.findtext(".//ItemId") or "").strip()
        sku_ids = [(e.text or "").strip() for e in root.iter("SkuId")]
        call.items = max(1, len(sku_ids))
        with call.market.lock:
            rows = [x for x in call.market.listings.values() if (x.external_id or "").startswith(f"{item_id}/")
                    and (not sku_ids or (x.external_id or "").split("/", 1)[1] in sku_ids)]
            if not rows:
                return reply("208", f"Item {item_id} not found")
            for row in rows:
                row.active, row.status = False, "inactive"
        return reply(data={})

    def item_get(self, call: Call) -> Response:
        params, _, refused = self._check(call)
        if refused is not None:
            return refused
        item_id = params.get("item_id", "")
        with call.market.lock:
            rows: list[Listing] = [x for x in call.market.listings.values()
                                   if (x.external_id or "").startswith(f"{item_id}/")]
            if not rows:
                return reply("208", f"Item {item_id} not found")
            skus = [{"SkuId": int(x.external_id.split("/", 1)[1]) if x.external_id else 0, "SellerSku": x.sku,
                     "quantity": x.quantity, "sellableQuantity": x.quantity, "Available": x.quantity,
                     "Status": "active" if x.active else "inactive",
                     "channelInventories": [{"lockQuantity": x.lock_floor}] if x.lock_floor else [],
                     **({"multiWarehouseInventories": [
                         {"warehouseCode": code, "quantity": qty, "sellableQuantity": qty, "totalQuantity": qty}
                         for code, qty in x.extra["warehouses"].items()]} if x.extra.get("warehouses") else {})}
                    for x in rows]
        return reply(data={"item_id": int(item_id), "status": "Active", "skus": skus})
