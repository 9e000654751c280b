"""Lazada adapter: absolute sellable stock via `POST /product/stock/sellable/update`.

Lazada Open Platform calls carry system parameters (`app_key`, `timestamp` in ms,
`access_token`, `sign_method=sha256`, `sign`) in the query string and the API parameter
(`payload`, an XML document) in a form body, as the official lazop SDKs do. The signature is
HMAC-SHA256 with the app secret over the API path followed by every parameter but `sign`,
sorted by name and concatenated as `key` + `value`, in upper-case hex; it is recomputed
with a fresh timestamp on every attempt.

Errors come back as HTTP 200 with `code != "0"`: throttling (901 / ApiCallLimit) and
internal errors (6, 1000, 513) are retried like a 5xx; a campaign lock (4170, and the
"negative sellable" family, 212) is LOCKED and never retried, its floor quoted when Lazada
gives it. A SKU is OK only when Lazada said so: with a failure code, the SKUs `detail`
names take their own verdict; the unnamed ones are sent again on their own (once), and a
batch-level lock without detail is re-sent one SKU per call to find the locked ones.

Tokens: with `refresh_token` in the settings, an `IllegalAccessToken` reply (or a
refreshed token reaching its `expires_in`) renews the access token through
`{token_url}/auth/token/refresh` (token_url defaults to https://auth.lazada.com/rest),
signed like every other call; the new access and refresh tokens are reported through
`on_token_rotated`, as Shopee does. Without one, `IllegalAccessToken` is AUTH.

Multi-warehouse sellers (issue 17 item 5): the reference note says multi-warehouse sellers
wrap the value in `<MultiWarehouseInventories><MultiWarehouseInventory><WarehouseCode>`
(and single-warehouse sellers must not). Channel setting `warehouse_code` sends that form
for the one warehouse the channel stands for (the others are left as they are), with the
inner element `<Quantity>`: an integrator that probed the live API found `<Quantity>` is the
element Lazada applies there and that an unknown child element is silently ignored with
code "0" (third-party, so unverified here). Because a "0" reply may thus apply nothing, a
warehouse write counts as applied only once `/product/item/get` shows that warehouse's
sellable quantity at the number sent; otherwise it is accepted, not applied, and tried
again. Reads report that warehouse's `sellableQuantity` (reads and writes refer to the
same warehouse). Without the setting, a SKU that shows several warehouses is read as
unknown and a warning asks for `warehouse_code`.

Usage::

    adapter = LazadaAdapter("lazada_sg", {"base_url": "https://api.lazada.sg/rest",
                                           "app_key": "..", "app_secret": "..", "access_token": "..",
                                           "refresh_token": ".."})   # refresh_token optional
    adapter.push([StockUpdate(1, "TEE-M", 20, external_id="234234234/234")])
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.sax.saxutils import escape

import requests
from pydantic import field_validator, model_validator

from connector.marketplaces.base import (
    FailureCategory,
    MarketplaceAdapter,
    Outcome,
    PushResult,
    RemoteListing,
    StockUpdate,
)
from connector.marketplaces.common import reply_json, settle, split_id_text
from connector.marketplaces.confirm import Confirmation, expect
from connector.marketplaces.http import AuthFailed, CachedToken, Transient
from connector.stock.model import PushAction, ZeroStockAction

SELLABLE_UPDATE = "/product/stock/sellable/update"
DEACTIVATE = "/product/deactivate"
PRODUCT_UPDATE = "/product/update"
ITEM_GET = "/product/item/get"
REFRESH = "/auth/token/refresh"
DEFAULT_TOKEN_URL = "https://auth.lazada.com/rest"
# A refreshed access token lives 7 d (test apps) to 30 d; the configured one's age is unknown,
# so it is used until Lazada calls it illegal (or this long, the shortest lifetime).
ACCESS_TOKEN_LIFETIME_S = 7 * 24 * 3600
RETRY_LATER_S = 30.0

_THROTTLE_CODES = ("901", "ApiCallLimit", "AppCallLimit", "SellerCallLimit")
_RETRY_CODES = ("6", "1000", "513", "ServiceTimeout", "ISP.InternalError")
_LOCK_CODES = ("4170", "212", "INV_NEGATIVE_SELLABLE")
_TOKEN_CODES = ("IllegalAccessToken", "InvalidAccessToken")
_AUTH_CODES = (*_TOKEN_CODES, "IncompleteSignature", "InvalidSignature", "IllegalAppKey", "InvalidAppKey")
_UNKNOWN_CODES = ("208", "4193", "ItemNotFound", "SkuNotFound")
# Lazada's own wording for a campaign lock; whole phrases, so "blocked" or "clock" never match.
_LOCK_PHRASES = re.compile(
    r"\bcampaign[ _-]?lock(?:ed)?\b|\blocked by (?:the )?campaign\b|\bnegative[ _]sellable\b", re.IGNORECASE
)
# "... cannot be lower than the campaign lock (6)", "lockQuantity: 6": the floor Lazada keeps.
_FLOOR_TEXT = re.compile(r"\block(?:ed)?(?:[ _]?quantity)?\b[^0-9.;]{0,12}?\(?(\d+)\)?", re.IGNORECASE)
_FLOOR_KEYS = ("lockQuantity", "lock_quantity", "campaignLockQuantity", "campaign_lock", "lockedQuantity")
Row = tuple[StockUpdate, str, str]  # (update, ItemId, SkuId)
_SKU_ID_KEYS = ("SkuId", "sku_id", "skuId")
_SELLER_SKU_KEYS = ("SellerSku", "seller_sku", "sellerSku")


class LazadaReply(Confirmation):
    """Every Lazada reply carries `code` ("0" = done); without it nothing is confirmed
    (a reply without a code must not read as success)."""

    code: str
    message: str | None = None
    detail: list[Any] | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class ItemReply(LazadaReply):
    """/product/item/get: when it succeeds, `data.skus` lists the item's SKUs."""

    data: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _has_skus(self) -> ItemReply:
        if self.code == "0" and not isinstance((self.data or {}).get("skus"), list):
            raise ValueError("a successful item read must list data.skus")
        return self


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


def is_lock(code: str, message: str) -> bool:
    """A campaign-lock refusal: its code (4170, the 212 family) or Lazada's exact phrases."""
    return code in _LOCK_CODES or _LOCK_PHRASES.search(message) is not None


def lock_floor(entry: Mapping[str, Any], message: str) -> int | None:
    """The locked quantity a refusal quotes, if any: `lock_floor({}, "... campaign lock (6)") == 6`."""
    for key in _FLOOR_KEYS:
        value = entry.get(key)
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value)
    found = _FLOOR_TEXT.search(message)
    return int(found.group(1)) if found else None


def _category(code: str, message: str) -> FailureCategory:
    text = message.lower()
    if is_lock(code, message):
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


class _SellerToken:
    """The seller's access token: the configured one first, then refreshed ones.

    Lazada may hand out a new refresh token with each refresh; the newest is kept here and
    reported through the adapter's `on_token_rotated` hook, which persists it.
    """

    def __init__(self, adapter: LazadaAdapter) -> None:
        self._adapter = adapter
        self._configured = adapter.settings["access_token"]
        self._initial: str | None = self._configured
        self.refresh_token: str | None = adapter.settings.get("refresh_token") or None
        self.cached = CachedToken(self._fetch, adapter.clock, render=lambda _t: {}, margin_s=3600.0)

    def _fetch(self) -> tuple[str, float]:
        if self._initial:
            value, self._initial = self._initial, None
            return value, ACCESS_TOKEN_LIFETIME_S
        if not self.refresh_token:
            # Nothing to refresh with: the configured token stays until Lazada refuses it.
            return self._configured, ACCESS_TOKEN_LIFETIME_S
        return self._adapter._refresh(self)

    def value(self) -> str:
        return self.cached.value()

    def renew(self) -> None:
        """Drop the current token: the next `value()` refreshes."""
        self._initial = None
        self.cached.invalidate()


class LazadaAdapter(MarketplaceAdapter):
    marketplace: ClassVar[str] = "lazada"
    # The API takes 50 SKUs; Lazada recommends 20, and answers 513 to big batches at load.
    batch_limit: ClassVar[int] = 20
    rate_per_s: ClassVar[float] = 10.0  # per-API QPS limits are app specific; stay well below 50
    burst: ClassVar[int] = 10
    default_zero_stock: ClassVar[ZeroStockAction] = ZeroStockAction.PUSH_ZERO
    required_keys: ClassVar[tuple[str, ...]] = ("app_key", "app_secret", "access_token")
    secret_keys: ClassVar[tuple[str, ...]] = ("app_secret", "access_token", "refresh_token")
    # The longest a per-SKU search for a locked SKU may take: one call per SKU of a batch.
    max_lock_probes: ClassVar[int] = batch_limit

    optional_keys: ClassVar[tuple[str, ...]] = (*MarketplaceAdapter.optional_keys, "warehouse_code")

    def _configure(self) -> None:
        self.token = _SellerToken(self)
        self.warehouse_code = (self.settings.get("warehouse_code") or "").strip() or None

    # -- signing -----------------------------------------------------------------------

    def _signer(
        self, api_path: str, api_params: Mapping[str, str], *, with_token: bool = True
    ) -> Callable[[requests.PreparedRequest], None]:
        def sign(prepared: requests.PreparedRequest) -> None:
            system = {
                "app_key": self.settings["app_key"],
                "sign_method": "sha256",
                "timestamp": str(int(self.clock.now() * 1000)),
            }
            if with_token:
                system["access_token"] = self.token.value()
            parts = urlsplit(prepared.url or "")
            query = {k: v for k, v in parse_qsl(parts.query) if k not in system and k != "sign"}
            signed = {**query, **system, **api_params}
            system["sign"] = lazada_sign(self.settings["app_secret"], api_path, signed)
            prepared.url = urlunsplit(parts._replace(query=urlencode({**query, **system})))

        return sign

    def _call(
        self, method: str, api_path: str, params: Mapping[str, str], confirm: type[LazadaReply] = LazadaReply
    ) -> Mapping[str, Any]:
        """One signed call; `params` go in the form body (POST) or the query (GET); a 2xx
        must be a valid `confirm` reply. An illegal/expired access token is refreshed once
        (when a refresh_token is set)."""
        kwargs: dict[str, Any] = {"data": dict(params)} if method == "POST" else {"params": dict(params)}
        for attempt in range(2):
            reply = self.session.exchange(
                method, f"{self.base_url}{api_path}", confirm=expect(confirm),
                sign=self._signer(api_path, params), check=_check, **kwargs,
            )
            if reply.body is not None:
                payload: Any = reply.body.model_dump(mode="json", exclude_unset=True)
                payload["code"] = reply.body.code
            else:
                payload = reply_json(reply.response, None)
            if not isinstance(payload, Mapping):
                return {"code": f"HTTP{reply.status}", "message": self.session.redact(reply.response.text[:300])}
            code = str(payload.get("code", "0"))
            if code in _TOKEN_CODES and attempt == 0 and self.token.refresh_token:
                self.token.renew()
                continue
            if code in _AUTH_CODES:
                hint = "renew the seller's tokens" if code in _TOKEN_CODES else "check app_key/app_secret"
                raise AuthFailed(
                    f"{self.session.name}: {api_path} answered {code}: "
                    f"{self.session.redact(str(payload.get('message', '')))}; {hint}"
                )
            return payload
        raise AssertionError("unreachable")  # pragma: no cover

    def _token_endpoint(self) -> str:
        """token_url is the auth host's REST base; a full .../auth/token/refresh URL works too."""
        url = (self.settings.get("token_url") or DEFAULT_TOKEN_URL).rstrip("/")
        return url if url.endswith(REFRESH) else url + REFRESH

    def _refresh(self, token: _SellerToken) -> tuple[str, float]:
        """`/auth/token/refresh` with the refresh token, signed like every call (no access_token)."""
        if not token.refresh_token:
            raise AuthFailed(
                f"{self.session.name}: the access token was refused and no refresh_token is configured; "
                "renew the seller's access_token"
            )
        params = {"refresh_token": token.refresh_token}
        reply = self.session.exchange(
            "POST", self._token_endpoint(), confirm=expect(LazadaReply), data=params, check=_check,
            sign=self._signer(REFRESH, params, with_token=False),
        )
        response = reply.response
        payload = reply_json(response)
        # The config's access_token is dead now: the fresh one is kept for a restart too.
        access, token.refresh_token = self._adopt_refresh_reply(
            response.status_code, payload, token.refresh_token, who="seller",
            accepted=str(payload.get("code", "0")) == "0" if isinstance(payload, Mapping) else False,
            code=payload.get("code", "") if isinstance(payload, Mapping) else "",
        )
        return access, float(payload.get("expires_in") or ACCESS_TOKEN_LIFETIME_S)

    # -- push --------------------------------------------------------------------------

    def stock_payload(self, rows: Sequence[tuple[str, str, int]]) -> str:
        """The XML `payload` for (ItemId, SkuId, sellable quantity) rows."""
        skus = "".join(
            f"<Sku><ItemId>{escape(item)}</ItemId><SkuId>{escape(sku)}</SkuId>{self._value(quantity)}</Sku>"
            for item, sku, quantity in rows
        )
        return f"<Request><Product><Skus>{skus}</Skus></Product></Request>"

    def _value(self, quantity: int) -> str:
        if self.warehouse_code is None:
            return f"<SellableQuantity>{quantity}</SellableQuantity>"
        return (f"<MultiWarehouseInventories><MultiWarehouseInventory><WarehouseCode>"
                f"{escape(self.warehouse_code)}</WarehouseCode><Quantity>{quantity}</Quantity>"
                "</MultiWarehouseInventory></MultiWarehouseInventories>")

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        results: list[PushResult] = []
        rows: list[Row] = []
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

    def _update(self, rows: list[Row]) -> list[PushResult]:
        results = self._resolve(rows, resend_unnamed=True)
        if self.warehouse_code is not None:
            results = self._confirm_warehouse(rows, results)
        ok = {r.listing_id for r in results if r.outcome is Outcome.OK}
        status_rows = [
            (u, item, sku) for u, item, sku in rows
            if u.listing_id in ok and u.action is not PushAction.SET
        ]
        if status_rows:
            results = self._apply_status(status_rows, results)
        return results

    def _confirm_warehouse(self, rows: list[Row], results: list[PushResult]) -> list[PushResult]:
        """A code "0" for a warehouse write is only applied once the read shows it."""
        ok = {r.listing_id: r for r in results if r.outcome is Outcome.OK}
        sent = [(u, item, sku) for u, item, sku in rows if u.listing_id in ok]
        if not sent:
            return results
        shown = {(u.sku, u.external_id): r for (u, _, _), r in zip(
            sent, self.read([(u.sku, u.external_id) for u, _, _ in sent]), strict=True)}
        out = []
        for result in results:
            row = next(((u, i, s) for u, i, s in sent if u.listing_id == result.listing_id), None)
            if row is None:
                out.append(result)
                continue
            update = row[0]
            remote = shown[(update.sku, update.external_id)]
            if remote.quantity == result.applied_quantity:
                out.append(result)
            else:
                out.append(PushResult.accepted(
                    update, f"Lazada answered code 0, but warehouse {self.warehouse_code} shows "
                            f"{remote.quantity} for SKU {row[2]}", self.clock.now() + 60))
        return out

    def _resolve(self, rows: list[Row], *, resend_unnamed: bool) -> list[PushResult]:
        """Send `rows` and give each a verdict Lazada actually stated.

        OK needs code "0" for a request the SKU was in. A SKU `detail` names takes its
        entry's verdict. The unnamed ones, when `detail` named others, are sent again
        together once (absolute values: re-sending is harmless). A lock refusing a batch
        without saying which SKU is re-sent one SKU per call (at most `max_lock_probes`).
        Anything else left unnamed fails with the batch's code, or retries if transient.
        """
        payload = self.stock_payload([(item, sku, max(0, u.quantity)) for u, item, sku in rows])
        reply = self._call("POST", SELLABLE_UPDATE, {"payload": payload})
        code = str(reply.get("code", "0"))
        if code == "0":
            return [PushResult(u.listing_id, Outcome.OK, applied_quantity=max(0, u.quantity)) for u, _, _ in rows]
        message = self.session.redact(str(reply.get("message") or ""))
        named = self._named(reply)
        verdicts: dict[int, PushResult] = {}
        unnamed: list[Row] = []
        for row in rows:
            update, _item, sku = row
            entry = named.get(("id", sku)) or named.get(("seller", update.sku))
            if entry is not None:
                verdicts[update.listing_id] = self._refusal(
                    update, str(entry.get("code") or code),
                    self.session.redact(str(entry.get("message") or message)), entry,
                )
            else:
                unnamed.append(row)
        if unnamed:
            verdicts.update(self._unnamed(unnamed, len(rows), code, message, reply, named, resend_unnamed))
        return [verdicts[u.listing_id] for u, _, _ in rows]

    def _unnamed(
        self, unnamed: list[Row], sent: int, code: str, message: str, reply: Mapping[str, Any],
        named: Mapping[tuple[str, str], Any], resend_unnamed: bool,
    ) -> dict[int, PushResult]:
        if sent == 1:  # the whole refusal is about this one SKU
            update = unnamed[0][0]
            return {update.listing_id: self._refusal(update, code, message, reply)}
        if code in _RETRY_CODES or code in _THROTTLE_CODES:
            return {u.listing_id: self._refusal(u, code, message, reply) for u, _, _ in unnamed}
        if named and resend_unnamed:
            return {r.listing_id: r for r in self._resolve(unnamed, resend_unnamed=False)}
        if is_lock(code, message) and len(unnamed) <= self.max_lock_probes:
            found: dict[int, PushResult] = {}
            for row in unnamed:
                [result] = self._resolve([row], resend_unnamed=False)
                found[result.listing_id] = result
            return found
        return {
            u.listing_id: PushResult.failed(
                u, _category(code, message),
                f"{code}: {message} (Lazada refused the batch of {sent} without naming this SKU; not applied)",
            )
            for u, _, _ in unnamed
        }

    def _refusal(
        self, update: StockUpdate, code: str, message: str, entry: Mapping[str, Any]
    ) -> PushResult:
        """The verdict for one SKU Lazada refused with `code`/`message`."""
        if code in _RETRY_CODES or code in _THROTTLE_CODES:
            return PushResult.retry(update, f"{code}: {message}", self.clock.now() + RETRY_LATER_S)
        category = _category(code, message)
        text = f"{code}: {message}"
        if category is FailureCategory.LOCKED:
            floor = lock_floor(entry, message)
            text += (
                f" (campaign lock: Lazada keeps at least {floor} until the campaign ends; "
                f"{max(0, update.quantity)} refused)"
                if floor is not None else " (campaign lock; Lazada did not say the locked quantity)"
            )
        return PushResult.failed(update, category, text)

    @staticmethod
    def _named(reply: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
        """`detail` entries by ("id", SkuId) and ("seller", SellerSku): a seller SKU that
        looks like another row's SkuId must not take that row's verdict."""
        named: dict[tuple[str, str], Mapping[str, Any]] = {}
        detail = reply.get("detail")
        for entry in detail if isinstance(detail, list) else []:
            if not isinstance(entry, Mapping):
                continue
            for kind, keys in (("id", _SKU_ID_KEYS), ("seller", _SELLER_SKU_KEYS)):
                for key in keys:
                    value = entry.get(key)
                    if value is not None and str(value).strip():
                        named[(kind, str(value).strip())] = entry
        return named

    def _apply_status(
        self, rows: list[Row], results: list[PushResult]
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
            reply = self._call("GET", ITEM_GET, {"item_id": item}, ItemReply)
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
            quantity: Any
            if self.warehouse_code is not None:
                # The channel's own warehouse only: what its writes set.
                mine = [w for w in warehouses if str(w.get("warehouseCode")) == self.warehouse_code]
                quantity = mine[0].get("sellableQuantity", mine[0].get("quantity")) if mine else None
            elif len(warehouses) > 1:
                quantity = None  # which warehouse is this channel's? unknown until configured
                self._warn("warehouse_code", (
                    f"Lazada shows several warehouses for SKU {ids[1] if ids else sku} "
                    f"({', '.join(str(w.get('warehouseCode')) for w in warehouses)}): set warehouse_code "
                    "on this channel so writes and reads refer to one warehouse"))
            elif warehouses:
                quantity = warehouses[0].get("sellableQuantity", warehouses[0].get("quantity"))
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
