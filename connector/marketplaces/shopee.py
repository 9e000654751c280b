"""Shopee adapter: `POST /api/v2/product/update_stock`, one item and up to 50 models a call.

Only normal stock is ours: the call writes `seller_stock` (never `shopee_stock`, which is
Shopee's own warehouse). Promotion stock (`stock_info_v2.summary_info.total_reserved_stock`)
is earmarked for an ongoing or upcoming promotion; Shopee refuses a value below it, which
we report as LOCKED, and `read()` reports it separately in `raw["promotion_stock"]`
without counting it in `quantity`.

Signing (Open Platform v2, shop-level APIs): query parameters `partner_id`, `timestamp`
(Unix seconds), `access_token`, `shop_id`, `sign` where
`sign = hex(HMAC_SHA256(partner_key, f"{partner_id}{path}{timestamp}{access_token}{shop_id}"))`.
A fresh timestamp and signature are made on every attempt. The access token lives 4 h;
on `error_auth`/`invalid_access_token` (or a 401) it is refreshed once through
`/api/v2/auth/access_token/get` (public-API signature without token and shop id).

Zero stock with DEACTIVATE/END: an item without variations (model_id 0) is unlisted;
a model of a multi-model item gets stock 0 only, because unlisting is per item and would
take its other models off sale too.

Cross-border shops (issue 17 item 8): a shop run from the China or Korea Seller Centre
(CNSC/KRSC) keeps its stock on the *global* product; Shopee's reference marks the global
product calls "Only for China mainland sellers and Korean sellers", and the reference note
says such shops "must use `v2.global_product.update_stock`". Channel setting `shop_type` =
"cnsc" or "krsc" (with `merchant_id`) sends `POST /api/v2/global_product/update_stock`
`{"global_item_id", "stock_list": [{"global_model_id", "seller_stock": [{"stock"}]}]}`
(at most 50 models), signed at merchant level (`merchant_id` in place of `shop_id` in the
query and in the signed base string; the token refresh names the merchant too), and the
listing's external_id holds "<global_item_id>/<global_model_id>". The reply has no
per-model lists: `error` "" is the confirmation. Zero stock is stock 0 (unlisting is a
shop-item call, not a global one); reads report the quantity as unknown (no global stock
read is used yet).

Usage::

    adapter = ShopeeAdapter("shopee_sg", settings)
    adapter.push([StockUpdate(listing_id=1, sku="TEE-M", quantity=4, external_id="1000/3456")])
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from pydantic import model_validator

from connector.marketplaces.base import (
    FailureCategory,
    MarketplaceAdapter,
    Outcome,
    PushResult,
    RemoteListing,
    StockUpdate,
)
from connector.marketplaces.common import reply_json, settle, split_id
from connector.marketplaces.confirm import Confirmation, TokenReply, expect, unconfirmed
from connector.marketplaces.http import AuthFailed, CachedToken, Transient
from connector.stock.model import PushAction, ZeroStockAction

UPDATE_STOCK = "/api/v2/product/update_stock"
UNLIST_ITEM = "/api/v2/product/unlist_item"
GET_MODEL_LIST = "/api/v2/product/get_model_list"
GET_ITEM_BASE_INFO = "/api/v2/product/get_item_base_info"
REFRESH = "/api/v2/auth/access_token/get"
GLOBAL_UPDATE_STOCK = "/api/v2/global_product/update_stock"
GLOBAL_SHOP_TYPES = ("cnsc", "krsc")
ACCESS_TOKEN_LIFETIME_S = 4 * 3600

_TOKEN_ERRORS = ("error_auth", "invalid_access_token", "invalid_acceess_token", "error_token")
_BUSY_ERRORS = ("error_system_busy", "error_inner", "error_server", "error_busy")
_LOCK_ERRORS = ("error_promotion_cantnot_update_stock", "error_model_update_stock_model_in_promotion")
_UNKNOWN_ERRORS = ("error_item_not_found", "error_item_not_belong_shop", "error_not_found")


class ShopeeReply(Confirmation):
    """Every Shopee v2 reply carries `error` ("" = done) and `message`; a body without
    `error` confirms nothing. Subclasses name the `response` lists a success must hold."""

    error: str
    message: str | None = None
    response: dict[str, Any] | None = None
    lists: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _success_lists(self) -> ShopeeReply:
        if not self.error and self.lists:
            response = self.response or {}
            if not any(isinstance(response.get(name), list) for name in self.lists):
                raise ValueError(f"a successful reply must hold response.{' or '.join(self.lists)}")
        return self


class ListsResult(ShopeeReply):
    """update_stock, unlist_item: per-model / per-item success and failure lists."""

    lists = ("success_list", "failure_list")


class ModelList(ShopeeReply):
    lists = ("model",)


class ItemBaseInfo(ShopeeReply):
    lists = ("item_list",)


def parse_external_id(external_id: str | None) -> tuple[int, int] | None:
    """`"1000/3456"` -> (1000, 3456); `"1000"` -> (1000, 0) (an item without variations)."""
    ids = split_id(external_id)
    if ids is None:
        return None
    item_id, model_id = ids
    return item_id, model_id if model_id is not None else 0


def _parent(update: StockUpdate) -> int | None:
    """The item an update belongs to: one request never mixes two."""
    ids = parse_external_id(update.external_id)
    return ids[0] if ids else None


_OFF = (PushAction.DEACTIVATE, PushAction.END)


def _stock_for(update: StockUpdate, model_id: int) -> int:
    """A model's zero action is stock 0, whatever quantity came with it."""
    if model_id != 0 and update.action in _OFF:
        return 0
    return max(0, update.quantity)


def shop_sign(partner_key: str, base: str) -> str:
    """HMAC-SHA256 of the base string with the partner key, lower-case hex."""
    return hmac.new(partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()


def _category_for(reason: str) -> FailureCategory:
    text = reason.lower()
    if "reserved" in text or "promotion" in text:
        return FailureCategory.LOCKED
    if "not found" in text or "not exist" in text or "not_found" in text or "invalid model" in text:
        return FailureCategory.UNKNOWN_LISTING
    return FailureCategory.VALIDATION


def _check_busy(response: requests.Response) -> None:
    """Shopee signals overload in the body (error_system_busy...): retry like a 5xx."""
    payload = reply_json(response, None)
    error = str(payload.get("error") or "") if isinstance(payload, Mapping) else ""
    message = str(payload.get("message") or "") if isinstance(payload, Mapping) else ""
    lowered = (error + " " + message).lower()
    if error in _BUSY_ERRORS or "too many" in lowered or "frequen" in lowered:
        raise Transient(f"{error}: {message}", 1.0)


class _ShopToken:
    """The shop's access token: the configured one first, then refreshed ones.

    Shopee replaces the refresh token on every refresh; the newest is kept here and
    reported through the adapter's `on_token_rotated` hook, which persists it.
    """

    def __init__(self, adapter: ShopeeAdapter) -> None:
        self._adapter = adapter
        self._initial: str | None = adapter.settings.get("access_token") or None
        self.refresh_token = adapter.settings["refresh_token"]
        self.cached = CachedToken(self._fetch, adapter.clock, render=lambda _t: {})

    def _fetch(self) -> tuple[str, float]:
        if self._initial:
            value, self._initial = self._initial, None
            return value, ACCESS_TOKEN_LIFETIME_S
        return self._adapter._refresh(self)

    # TokenProvider: the token travels in the query string and the signature, not a header.
    def header(self) -> dict[str, str]:
        return {}

    def invalidate(self) -> None:
        self._initial = None
        self.cached.invalidate()

    def value(self) -> str:
        return self.cached.value()


class ShopeeAdapter(MarketplaceAdapter):
    marketplace: ClassVar[str] = "shopee"
    batch_limit: ClassVar[int] = 50  # models per update_stock call (one item per call)
    rate_per_s: ClassVar[float] = 10.0  # no published per-API figure; keep it modest per shop
    burst: ClassVar[int] = 10
    default_zero_stock: ClassVar[ZeroStockAction] = ZeroStockAction.PUSH_ZERO
    required_keys: ClassVar[tuple[str, ...]] = (
        "partner_id",
        "partner_key",
        "shop_id",
        "access_token",
        "refresh_token",
    )
    secret_keys: ClassVar[tuple[str, ...]] = ("partner_key", "access_token", "refresh_token")
    optional_keys: ClassVar[tuple[str, ...]] = (*MarketplaceAdapter.optional_keys, "shop_type", "merchant_id")

    def _configure(self) -> None:
        self.partner_id = self.settings["partner_id"]
        self.partner_key = self.settings["partner_key"]
        self.shop_id = self.settings["shop_id"]
        self.location_id = self.settings.get("location_id") or None  # multi-warehouse shops
        shop_type = (self.settings.get("shop_type") or "local").strip().lower()
        if shop_type not in ("local", *GLOBAL_SHOP_TYPES):
            raise ValueError(f"channel {self.channel_code!r} (shopee): shop_type must be local, cnsc or krsc, "
                             f"not {self.settings.get('shop_type')!r}")
        self.global_product = shop_type in GLOBAL_SHOP_TYPES
        self.merchant_id = (self.settings.get("merchant_id") or "").strip()
        if self.global_product and not self.merchant_id.isdigit():
            raise ValueError(f"channel {self.channel_code!r} (shopee): a {shop_type} shop needs its numeric "
                             "merchant_id (global product calls are merchant-level)")
        self.token = _ShopToken(self)

    # -- signing -----------------------------------------------------------------------

    def _signer(self, path: str, shop_level: bool = True, merchant: bool = False
                ) -> Callable[[requests.PreparedRequest], None]:
        def sign(prepared: requests.PreparedRequest) -> None:
            timestamp = str(int(self.clock.now()))
            params: dict[str, str] = {"partner_id": self.partner_id, "timestamp": timestamp}
            base = f"{self.partner_id}{path}{timestamp}"
            if shop_level:
                access_token = self.token.value()
                key, owner = ("merchant_id", self.merchant_id) if merchant else ("shop_id", self.shop_id)
                params.update({"access_token": access_token, key: owner})
                base += f"{access_token}{owner}"
            params["sign"] = shop_sign(self.partner_key, base)
            parts = urlsplit(prepared.url or "")
            query = [(k, v) for k, v in parse_qsl(parts.query) if k not in params]
            query.extend(params.items())
            prepared.url = urlunsplit(parts._replace(query=urlencode(query)))

        return sign

    def _call(
        self, method: str, path: str, confirm: type[ShopeeReply] = ShopeeReply, merchant: bool = False,
        **kwargs: Any,
    ) -> Mapping[str, Any]:
        """One signed shop-level call whose 2xx must be a valid `confirm` reply; refreshes
        the token once on a token error."""
        for attempt in range(2):
            reply = self.session.exchange(
                method,
                f"{self.base_url}{path}",
                confirm=expect(confirm),
                auth=self.token,
                sign=self._signer(path, merchant=merchant),
                check=_check_busy,
                **kwargs,
            )
            response = reply.response
            payload = reply.body.model_dump(mode="json", exclude_unset=True) if reply.body is not None else reply_json(
                response, {"error": f"http_{response.status_code}", "message": response.text[:300]}
            )
            if not isinstance(payload, Mapping):
                payload = {"error": "bad_reply", "message": str(payload)[:300]}
            error = str(payload.get("error") or "")
            if error in _TOKEN_ERRORS or "access_token" in str(payload.get("message", "")).lower():
                if attempt == 0:
                    self.token.invalidate()
                    continue
                raise AuthFailed(
                    f"{self.session.name}: {path} answered {error}: "
                    f"{self.session.redact(str(payload.get('message', '')))}; check the shop's tokens"
                )
            if error == "error_sign":
                raise AuthFailed(f"{self.session.name}: {path} rejected the signature; check partner_id/partner_key")
            return payload
        raise AssertionError("unreachable")  # pragma: no cover

    def _refresh(self, token: _ShopToken) -> tuple[str, float]:
        url = self.settings.get("token_url") or f"{self.base_url}{REFRESH}"
        body: dict[str, Any] = {"refresh_token": token.refresh_token, "partner_id": int(self.partner_id)}
        if self.global_product:
            body["merchant_id"] = int(self.merchant_id)  # the main account's token
        else:
            body["shop_id"] = int(self.shop_id)
        response = self.session.exchange(
            "POST", url, confirm=expect(TokenReply), json=body, sign=self._signer(REFRESH, shop_level=False)
        ).response
        payload = reply_json(response)
        # The config's access_token is dead after 4 h: the fresh one is kept for a restart too.
        access, refresh = self._adopt_refresh_reply(
            response.status_code, payload, token.refresh_token, who="shop",
        )
        token.refresh_token = refresh or token.refresh_token
        return access, float(payload.get("expire_in") or ACCESS_TOKEN_LIFETIME_S)

    # -- push --------------------------------------------------------------------------

    def _batches(self, updates: Sequence[StockUpdate]) -> Iterator[list[StockUpdate]]:
        """One call per item (Shopee's rule), each with at most 50 models."""
        return self._grouped_batches(updates, _parent)

    def stock_body(self, item_id: int, models: Sequence[tuple[StockUpdate, int]]) -> dict[str, Any]:
        """The JSON body of one update_stock call."""
        stock_list = []
        for update, model_id in models:
            entry: dict[str, Any] = {"stock": _stock_for(update, model_id)}
            if self.location_id:
                entry = {"location_id": self.location_id, **entry}
            stock_list.append({"model_id": model_id, "seller_stock": [entry]})
        return {"item_id": item_id, "stock_list": stock_list}

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        results: list[PushResult] = []
        models: list[tuple[StockUpdate, int]] = []
        item_id = 0
        for update in batch:
            ids = parse_external_id(update.external_id)
            if ids is None:
                results.append(
                    PushResult.failed(
                        update,
                        FailureCategory.UNKNOWN_LISTING,
                        f"listing {update.sku!r} has no Shopee 'item_id/model_id' external_id",
                    )
                )
                continue
            item_id = ids[0]
            models.append((update, ids[1]))
        if models:
            results.extend(
                settle([u for u, _ in models], lambda: self._update_item(item_id, models))
            )
        return results

    def global_stock_body(self, global_item_id: int, models: Sequence[tuple[StockUpdate, int]]) -> dict[str, Any]:
        """The JSON body of one global_product/update_stock call (CNSC/KRSC shops)."""
        stock_list = []
        for update, model_id in models:
            stock: dict[str, Any] = {"stock": _stock_for(update, model_id) if model_id else
                                     (0 if update.action in _OFF else max(0, update.quantity))}
            if self.location_id:
                stock = {"location_id": self.location_id, **stock}
            entry: dict[str, Any] = {"seller_stock": [stock]}
            if model_id:
                entry = {"global_model_id": model_id, **entry}
            stock_list.append(entry)
        return {"global_item_id": global_item_id, "stock_list": stock_list}

    def _update_global_item(self, global_item_id: int, models: list[tuple[StockUpdate, int]]) -> list[PushResult]:
        body = self.global_stock_body(global_item_id, models)
        payload = self._call("POST", GLOBAL_UPDATE_STOCK, ShopeeReply, merchant=True, json=body)
        error = str(payload.get("error") or "")
        if error:
            return self._classify(payload, models)  # no per-model lists: the error is every model's
        written = [entry["seller_stock"][0]["stock"] for entry in body["stock_list"]]
        return [
            PushResult(update.listing_id, Outcome.OK, applied_quantity=stock,
                       active=False if update.action in _OFF and stock == 0 else None,
                       message="global stock" + (": at 0 (no unlist for a global item)" if stock == 0 else ""))
            for (update, _), stock in zip(models, written, strict=True)
        ]

    def _update_item(self, item_id: int, models: list[tuple[StockUpdate, int]]) -> list[PushResult]:
        if self.global_product:
            return self._update_global_item(item_id, models)
        payload = self._call("POST", UPDATE_STOCK, ListsResult, json=self.stock_body(item_id, models))
        results = self._classify(payload, models)
        unlist = self._listing_change(models)
        if unlist is not None and any(r.outcome is Outcome.OK for r in results):
            results = self._set_listed(item_id, unlist, results)
        return results

    @staticmethod
    def _listing_change(models: Sequence[tuple[StockUpdate, int]]) -> bool | None:
        """True: unlist the item; False: list it again; None: leave it as it is.

        Only an item without models (model_id 0) is unlisted at zero; a model's zero is its
        stock 0 (see `_stock_for`). Coming back lists the item again in both cases: that is a
        no-op for a listed item and repairs one an earlier release unlisted per model.
        """
        if any(u.action in _OFF and model_id == 0 for u, model_id in models):
            return True
        if any(u.action in (PushAction.REACTIVATE, PushAction.RELIST) for u, _ in models):
            return False
        return None

    def _set_listed(self, item_id: int, unlist: bool, results: list[PushResult]) -> list[PushResult]:
        body = {"item_list": [{"item_id": item_id, "unlist": unlist}]}
        payload = self._call("POST", UNLIST_ITEM, ListsResult, json=body)
        failures = (payload.get("response") or {}).get("failure_list") or []
        error = str(payload.get("error") or "")
        if error or failures:
            reason = self.session.redact(
                str(payload.get("message") or (failures[0].get("failed_reason") if failures else error))
            )
            return [
                PushResult(r.listing_id, Outcome.FAILED, category=_category_for(reason),
                           message=f"stock set, but {'unlist' if unlist else 'relist'} failed: {reason}")
                if r.outcome is Outcome.OK else r
                for r in results
            ]
        return [
            PushResult(r.listing_id, r.outcome, applied_quantity=r.applied_quantity, active=not unlist)
            if r.outcome is Outcome.OK else r
            for r in results
        ]

    def _classify(
        self, payload: Mapping[str, Any], models: list[tuple[StockUpdate, int]]
    ) -> list[PushResult]:
        error = str(payload.get("error") or "")
        message = self.session.redact(str(payload.get("message") or ""))
        response = payload.get("response") if isinstance(payload.get("response"), Mapping) else {}
        assert isinstance(response, Mapping)
        successes = {
            s.get("model_id"): s for s in response.get("success_list") or [] if isinstance(s, Mapping)
        }
        failures = {
            f.get("model_id"): f for f in response.get("failure_list") or [] if isinstance(f, Mapping)
        }
        if error and not successes and not failures:
            if error in _LOCK_ERRORS:
                category = FailureCategory.LOCKED
            elif error in _UNKNOWN_ERRORS:
                category = FailureCategory.UNKNOWN_LISTING
            else:
                category = _category_for(message) if "reserved" in message.lower() else (
                    FailureCategory.VALIDATION if error.startswith(("error_param", "product.error"))
                    else FailureCategory.OTHER
                )
            return [PushResult.failed(u, category, f"{error}: {message}") for u, _ in models]
        results = []
        for update, model_id in models:
            if model_id in failures:
                reason = self.session.redact(str(failures[model_id].get("failed_reason", "")))
                results.append(PushResult.failed(update, _category_for(reason), reason))
            elif model_id in successes:
                stock = successes[model_id].get("stock")
                note = ""
                if model_id != 0 and update.action in _OFF:
                    note = f"model {model_id} set to 0; item {_parent(update)} stays listed for its other models"
                results.append(
                    PushResult(update.listing_id, Outcome.OK, message=note,
                               applied_quantity=stock if isinstance(stock, int) else _stock_for(update, model_id))
                )
            else:
                results.append(unconfirmed(
                    update, f"model {model_id} missing from Shopee's reply {error} {message}".strip(),
                    self.clock.now(),
                ))
        return results

    # -- read back ---------------------------------------------------------------------

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        """Normal (seller) stock per model; promotion and Shopee-warehouse stock in `raw`."""
        if self.global_product:
            return [RemoteListing(sku, None, None, found=True, raw={"unsupported": "no global stock read yet"})
                    for sku, _ in skus]
        models_by_item: dict[int, dict[int, Mapping[str, Any]]] = {}
        items = {ids[0] for _, e in skus if (ids := parse_external_id(e))}
        for item_id in sorted(items):
            payload = self._call("GET", GET_MODEL_LIST, ModelList, params={"item_id": str(item_id)})
            found: dict[int, Mapping[str, Any]] = {}
            for model in (payload.get("response") or {}).get("model") or []:
                if isinstance(model, Mapping) and isinstance(model.get("model_id"), int):
                    found[model["model_id"]] = model
            if not found:
                base = self._call("GET", GET_ITEM_BASE_INFO, ItemBaseInfo, params={"item_id_list": str(item_id)})
                for item in (base.get("response") or {}).get("item_list") or []:
                    if isinstance(item, Mapping) and item.get("item_id") == item_id:
                        found[0] = item
            models_by_item[item_id] = found
        listings = []
        for sku, external_id in skus:
            ids = parse_external_id(external_id)
            model = models_by_item.get(ids[0], {}).get(ids[1]) if ids else None
            if model is None:
                listings.append(RemoteListing(sku=sku, quantity=None, found=False))
                continue
            listings.append(self._remote(sku, model))
        return listings

    @staticmethod
    def _remote(sku: str, model: Mapping[str, Any]) -> RemoteListing:
        info = model.get("stock_info_v2") if isinstance(model.get("stock_info_v2"), Mapping) else {}
        assert isinstance(info, Mapping)
        seller = [s for s in info.get("seller_stock") or [] if isinstance(s, Mapping)]
        shopee = [s for s in info.get("shopee_stock") or [] if isinstance(s, Mapping)]
        summary = info.get("summary_info") if isinstance(info.get("summary_info"), Mapping) else {}
        assert isinstance(summary, Mapping)
        status = model.get("model_status") or model.get("item_status")
        return RemoteListing(
            sku=sku,
            quantity=sum(int(s.get("stock") or 0) for s in seller) if seller else None,
            active=None if status is None else status in ("MODEL_NORMAL", "NORMAL"),
            raw={
                "seller_stock": json.loads(json.dumps(seller)),
                "shopee_stock": json.loads(json.dumps(shopee)),
                "promotion_stock": int(summary.get("total_reserved_stock") or 0),
                "total_available_stock": summary.get("total_available_stock"),
                "status": status,
            },
        )
