"""Lazada adapter: absolute sellable stock via `POST /product/stock/sellable/update`.

Lazada Open Platform calls carry system parameters (`app_key`, `timestamp` in ms,
`access_token`, `sign_method=sha256`, `sign`) in the query string and the API parameter
(`payload`, an XML document) in a form body, as the official lazop SDKs do. The signature is
HMAC-SHA256 with the app secret over the API path followed by every parameter but `sign`,
sorted by name and concatenated as `key` + `value`, in upper-case hex; it is recomputed
with a fresh timestamp on every attempt.

Errors come back as HTTP 200 with `code != "0"`: throttling (901 / ApiCallLimit) and
internal errors (6, 1000, 513) are retried like a 5xx; a campaign lock (4170, and the
"negative sellable" family, 212) is LOCKED and never retried; `IllegalAccessToken` is AUTH.

Usage::

    adapter = LazadaAdapter("lazada_sg", {"base_url": "https://api.lazada.sg/rest",
                                           "app_key": "..", "app_secret": "..", "access_token": ".."})
    adapter.push([StockUpdate(1, "TEE-M", 20, external_id="234234234/234")])
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.sax.saxutils import escape

import requests

from connector.marketplaces.base import (
    FailureCategory,
    MarketplaceAdapter,
    Outcome,
    PushResult,
    RemoteListing,
    StockUpdate,
)
from connector.marketplaces.common import reply_json, settle, split_id_text
from connector.marketplaces.http import AuthFailed, Transient
from connector.stock.model import PushAction, ZeroStockAction

SELLABLE_UPDATE = "/product/stock/sellable/update"
DEACTIVATE = "/product/deactivate"
PRODUCT_UPDATE = "/product/update"
ITEM_GET = "/product/item/get"

_THROTTLE_CODES = ("901", "ApiCallLimit", "AppCallLimit", "SellerCallLimit")
_RETRY_CODES = ("6", "1000", "513", "ServiceTimeout", "ISP.InternalError")
_LOCK_CODES = ("4170", "212")
_AUTH_CODES = ("IllegalAccessToken", "InvalidAccessToken", "IncompleteSignature", "InvalidSignature",
               "IllegalAppKey", "InvalidAppKey")
_UNKNOWN_CODES = ("208", "4193", "ItemNotFound", "SkuNotFound")


def parse_external_id(external_id: str | None) -> tuple[str, str] | None:
    """`"234234234/234"` -> ("234234234", "234") (ItemId, SkuId)."""
    ids = split_id_text(external_id)
    if ids is None or ids[1] is None:
        return None
    return ids[0], ids[1]


def lazada_sign(app_secret: str, api_path: str, params: Mapping[str, str]) -> str:
    """Upper-case hex HMAC-SHA256 of path + sorted k+v pairs (every param but `sign`)."""
    text = api_path + "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return hmac.new(app_secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


def _category(code: str, message: str) -> FailureCategory:
    text = message.lower()
    if code in _LOCK_CODES or "negative sellable" in text or "campaign" in text or "lock" in text:
        return FailureCategory.LOCKED
    if code in _AUTH_CODES:
        return FailureCategory.AUTH
    if code in _UNKNOWN_CODES or "not exist" in text or "not found" in text:
        return FailureCategory.UNKNOWN_LISTING
    if code in ("5", "30", "204", "4171", "4225") or "invalid" in text or "format" in text:
        return FailureCategory.VALIDATION
    return FailureCategory.OTHER


def _check(response: requests.Response) -> None:
    """Throttles and internal errors arrive in a 200 body: retry them like a 5xx."""
    payload = reply_json(response, None)
    if not isinstance(payload, Mapping):
        return
    code = str(payload.get("code", "0"))
    if code in _THROTTLE_CODES:
        raise Transient(f"Lazada {code}: {payload.get('message', '')}", 1.0)  # ban lasts 1 s
    if code in _RETRY_CODES:
        raise Transient(f"Lazada {code}: {payload.get('message', '')}")


class LazadaAdapter(MarketplaceAdapter):
    marketplace: ClassVar[str] = "lazada"
    # The API takes 50 SKUs; Lazada recommends 20, and answers 513 to big batches at load.
    batch_limit: ClassVar[int] = 20
    rate_per_s: ClassVar[float] = 10.0  # per-API QPS limits are app specific; stay well below 50
    burst: ClassVar[int] = 10
    has_compare_and_set: ClassVar[bool] = False
    default_zero_stock: ClassVar[ZeroStockAction] = ZeroStockAction.PUSH_ZERO
    required_keys: ClassVar[tuple[str, ...]] = ("app_key", "app_secret", "access_token")
    secret_keys: ClassVar[tuple[str, ...]] = ("app_secret", "access_token")

    # -- signing -----------------------------------------------------------------------

    def _signer(self, api_path: str, api_params: Mapping[str, str]) -> Callable[[requests.PreparedRequest], None]:
        def sign(prepared: requests.PreparedRequest) -> None:
            system = {
                "app_key": self.settings["app_key"],
                "access_token": self.settings["access_token"],
                "sign_method": "sha256",
                "timestamp": str(int(self.clock.now() * 1000)),
            }
            parts = urlsplit(prepared.url or "")
            query = {k: v for k, v in parse_qsl(parts.query) if k not in system and k != "sign"}
            signed = {**query, **system, **api_params}
            system["sign"] = lazada_sign(self.settings["app_secret"], api_path, signed)
            prepared.url = urlunsplit(parts._replace(query=urlencode({**query, **system})))

        return sign

    def _call(self, method: str, api_path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        """One signed call; `params` go in the form body (POST) or the query (GET)."""
        kwargs: dict[str, Any] = {"data": dict(params)} if method == "POST" else {"params": dict(params)}
        response = self.session.send(
            method, f"{self.base_url}{api_path}", sign=self._signer(api_path, params), check=_check, **kwargs
        )
        payload = reply_json(response, None)
        if not isinstance(payload, Mapping):
            return {"code": f"HTTP{response.status_code}", "message": self.session.redact(response.text[:300])}
        if str(payload.get("code", "0")) in _AUTH_CODES:
            raise AuthFailed(
                f"{self.session.name}: {api_path} answered {payload.get('code')}: "
                f"{self.session.redact(str(payload.get('message', '')))}; renew the seller's access_token"
            )
        return payload

    # -- push --------------------------------------------------------------------------

    @staticmethod
    def stock_payload(rows: Sequence[tuple[str, str, int]]) -> str:
        """The XML `payload` for (ItemId, SkuId, sellable quantity) rows."""
        skus = "".join(
            f"<Sku><ItemId>{escape(item)}</ItemId><SkuId>{escape(sku)}</SkuId>"
            f"<SellableQuantity>{quantity}</SellableQuantity></Sku>"
            for item, sku, quantity in rows
        )
        return f"<Request><Product><Skus>{skus}</Skus></Product></Request>"

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        results: list[PushResult] = []
        rows: list[tuple[StockUpdate, str, str]] = []
        for update in batch:
            ids = parse_external_id(update.external_id)
            if ids is None:
                results.append(
                    PushResult.failed(
                        update,
                        FailureCategory.UNKNOWN_LISTING,
                        f"listing {update.sku!r} has no 'ItemId/SkuId' external_id "
                        "(Lazada does not accept SellerSku as the key)",
                    )
                )
            else:
                rows.append((update, ids[0], ids[1]))
        if rows:
            results.extend(settle([u for u, _, _ in rows], lambda: self._update(rows)))
        return results

    def _update(self, rows: list[tuple[StockUpdate, str, str]]) -> list[PushResult]:
        payload = self.stock_payload([(item, sku, max(0, u.quantity)) for u, item, sku in rows])
        reply = self._call("POST", SELLABLE_UPDATE, {"payload": payload})
        results = self._classify(reply, rows)
        ok = {r.listing_id for r in results if r.outcome is Outcome.OK}
        status_rows = [
            (u, item, sku) for u, item, sku in rows
            if u.listing_id in ok and u.action is not PushAction.SET
        ]
        if status_rows:
            results = self._apply_status(status_rows, results)
        return results

    def _classify(
        self, reply: Mapping[str, Any], rows: list[tuple[StockUpdate, str, str]]
    ) -> list[PushResult]:
        code = str(reply.get("code", "0"))
        message = self.session.redact(str(reply.get("message") or ""))
        if code == "0":
            return [
                PushResult(u.listing_id, Outcome.OK, applied_quantity=max(0, u.quantity)) for u, _, _ in rows
            ]
        per_sku: dict[str, Mapping[str, Any]] = {}
        for entry in reply.get("detail") or []:
            if not isinstance(entry, Mapping):
                continue
            for key in ("SkuId", "sku_id", "skuId", "seller_sku", "SellerSku", "field"):
                if entry.get(key) is not None:
                    per_sku[str(entry[key])] = entry
        results = []
        for update, _item, sku in rows:
            entry = per_sku.get(sku) or per_sku.get(update.sku)
            if entry is None and per_sku:
                # Lazada named the SKUs that failed; the others went through.
                results.append(PushResult(update.listing_id, Outcome.OK, applied_quantity=max(0, update.quantity)))
                continue
            entry_code = str(entry.get("code", code)) if entry else code
            entry_message = self.session.redact(str(entry.get("message", message))) if entry else message
            results.append(
                PushResult.failed(update, _category(entry_code, entry_message), f"{entry_code}: {entry_message}")
            )
        return results

    def _apply_status(
        self, rows: list[tuple[StockUpdate, str, str]], results: list[PushResult]
    ) -> list[PushResult]:
        """DEACTIVATE/END -> /product/deactivate; REACTIVATE/RELIST -> SKU Status active."""
        outcome: dict[int, PushResult] = {r.listing_id: r for r in results}
        for update, item, sku in rows:
            off = update.action in (PushAction.DEACTIVATE, PushAction.END)
            if off:
                body = (f"<Request><Product><ItemId>{escape(item)}</ItemId><Skus><SkuId>{escape(sku)}</SkuId>"
                        "</Skus></Product></Request>")
                reply = self._call("POST", DEACTIVATE, {"apiRequestBody": body})
            else:
                body = (f"<Request><Product><ItemId>{escape(item)}</ItemId><Skus><Sku><SkuId>{escape(sku)}"
                        "</SkuId><Status>active</Status></Sku></Skus></Product></Request>")
                reply = self._call("POST", PRODUCT_UPDATE, {"payload": body})
            code = str(reply.get("code", "0"))
            if code == "0":
                outcome[update.listing_id] = PushResult(
                    update.listing_id, Outcome.OK, applied_quantity=max(0, update.quantity), active=not off
                )
            else:
                message = self.session.redact(str(reply.get("message", "")))
                outcome[update.listing_id] = PushResult.failed(
                    update, _category(code, message),
                    f"stock set, but {'deactivate' if off else 'activate'} failed: {code}: {message}",
                )
        return [outcome[r.listing_id] for r in results]

    # -- read back ---------------------------------------------------------------------

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        """`/product/item/get` per item: sellable quantity and status per SkuId."""
        by_item: dict[str, dict[str, Mapping[str, Any]]] = {}
        for item in sorted({ids[0] for _, e in skus if (ids := parse_external_id(e))}):
            reply = self._call("GET", ITEM_GET, {"item_id": item})
            data = reply.get("data") if isinstance(reply.get("data"), Mapping) else {}
            assert isinstance(data, Mapping)
            by_item[item] = {
                str(s.get("SkuId")): s for s in data.get("skus") or [] if isinstance(s, Mapping)
            }
        listings = []
        for sku, external_id in skus:
            ids = parse_external_id(external_id)
            entry = by_item.get(ids[0], {}).get(ids[1]) if ids else None
            if entry is None:
                listings.append(RemoteListing(sku=sku, quantity=None, found=False))
                continue
            warehouses = [w for w in entry.get("multiWarehouseInventories") or [] if isinstance(w, Mapping)]
            if warehouses:
                quantity: Any = sum(int(w.get("sellableQuantity") or 0) for w in warehouses)
            else:
                quantity = entry.get("Available", entry.get("quantity"))
            listings.append(
                RemoteListing(
                    sku=sku,
                    quantity=int(quantity) if isinstance(quantity, (int, str)) and str(quantity).isdigit() else None,
                    active=str(entry.get("Status", "")).lower() == "active",
                    raw={
                        "SellerSku": entry.get("SellerSku"),
                        "Status": entry.get("Status"),
                        "quantity": entry.get("quantity"),
                        "Available": entry.get("Available"),
                        "multiWarehouseInventories": [dict(w) for w in warehouses],
                    },
                )
            )
        return listings
