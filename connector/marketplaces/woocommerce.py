"""WooCommerce adapter: absolute stock through the wc/v3 REST batch endpoints.

Simple products go to `POST /wp-json/wc/v3/products/batch`, variations to
`POST /wp-json/wc/v3/products/{parent}/variations/batch` (<= 100 objects each). Every
item carries `manage_stock: true` with `stock_quantity`, because WooCommerce ignores
the quantity of an unmanaged product. Batch replies are HTTP 200 even when items fail,
so every item is checked for its own `error` and for the quantity actually stored.

Auth, as WooCommerce's `WC_REST_Authentication` decides it: over https the consumer
key/secret go as HTTP Basic; over plain http WooCommerce never looks at Basic or at
`consumer_key`/`consumer_secret` query parameters, only at OAuth 1.0a one-legged
signatures (`oauth1_params`), so every http request is signed (fresh nonce and timestamp
on each attempt) and the parameters travel in an `Authorization: OAuth ...` header, which
keeps key and signature out of URLs and access logs.

Hosts that strip the Authorization header (issue 17 item 7): WooCommerce's REST API docs
("Authentication over HTTPS"): "Occasionally some servers may not parse the Authorization
header correctly (if you see a 'Consumer key is missing' error when authenticating over
SSL, you have a server issue). In this case, you may provide the consumer key/secret as
query string parameters instead." Channel setting `query_string_auth` = "true" does that
(https only: over http WooCommerce ignores those parameters, and they would travel in
clear). A 401 over https with header auth says so in its message.

Usage::

    adapter = WooCommerceAdapter("woo_shop", {"base_url": "https://shop.example",
                                               "consumer_key": "ck_..", "consumer_secret": "cs_.."})
    adapter.push([StockUpdate(listing_id=1, sku="MUG", quantity=3, external_id="799")])
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import requests
from pydantic import RootModel

from connector.marketplaces.base import (
    FailureCategory,
    MarketplaceAdapter,
    Outcome,
    PushResult,
    RemoteListing,
    StockUpdate,
)
from connector.marketplaces.common import basic_auth, reply_json, settle, split_id
from connector.marketplaces.confirm import Confirmation, expect, unconfirmed
from connector.marketplaces.http import AuthFailed, StaticAuth
from connector.stock.model import PushAction, ZeroStockAction

API_PREFIX = "/wp-json/wc/v3"

# Deactivation hides the product from the catalogue without deleting it.
_STATUS_FOR_ACTION: dict[PushAction, str] = {
    PushAction.DEACTIVATE: "private",
    PushAction.END: "private",
    PushAction.REACTIVATE: "publish",
    PushAction.RELIST: "publish",
}


def parse_external_id(external_id: str | None) -> tuple[int | None, int] | None:
    """`"799"` -> (None, 799); `"12/800"` -> (12, 800) (parent/variation); else None."""
    ids = split_id(external_id)
    if ids is None:
        return None
    first, second = ids
    return (None, first) if second is None else (first, second)


class BatchItem(Confirmation):
    """One object of a batch reply: the product as stored, or `{id, error}`."""

    id: int | None = None
    error: dict[str, Any] | None = None
    stock_quantity: int | None = None
    manage_stock: bool | None = None
    status: str | None = None


class BatchReply(Confirmation):
    """The batch endpoints' reply: the `update` list answers the `update` we sent."""

    update: list[BatchItem]


class Product(Confirmation):
    id: int
    stock_quantity: int | None = None
    status: str | None = None


class ProductList(RootModel[list[Product]]):
    """GET /products (or a parent's variations): a JSON array of products."""


def _rfc3986(text: str) -> str:
    """PHP's rawurlencode, which WooCommerce's wc_rest_urlencode_rfc3986 wraps."""
    return quote(text, safe="~")


def oauth1_signature(
    method: str, url: str, params: Mapping[str, str], consumer_secret: str, algorithm: str = "HMAC-SHA256"
) -> str:
    """The signature WooCommerce's check_oauth_signature expects for these parameters.

    `url` is scheme://host/path without query; `params` are the query (and form) parameters
    plus every oauth_* parameter except oauth_signature. Usage:
    ``oauth1_signature("GET", "http://shop/wp-json/wc/v3/products", {...}, "cs_..")``
    """
    # WooCommerce sorts by raw key (strcmp), then encodes "key=value" pairs and joins them
    # with an encoded "&", i.e. RFC 5849's base string without duplicate keys.
    pairs = [f"{_rfc3986(k)}={_rfc3986(v)}" for k, v in sorted(params.items(), key=lambda kv: kv[0].encode())]
    base = "&".join([method.upper(), _rfc3986(url), "%26".join(_rfc3986(p) for p in pairs)])
    digest = hashlib.sha256 if algorithm == "HMAC-SHA256" else hashlib.sha1
    mac = hmac.new(f"{consumer_secret}&".encode(), base.encode(), digest)
    return base64.b64encode(mac.digest()).decode("ascii")


def oauth1_params(
    method: str, url: str, consumer_key: str, consumer_secret: str, *, timestamp: int, nonce: str
) -> dict[str, str]:
    """The oauth_* parameters (signature included) for one plain-http request to `url`.

    Usage: ``oauth1_params("GET", url_with_query, "ck_..", "cs_..", timestamp=t, nonce=n)``
    """
    parts = urlsplit(url)
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce,
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(timestamp),
    }
    signed = {**dict(parse_qsl(parts.query, keep_blank_values=True)), **oauth}
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    oauth["oauth_signature"] = oauth1_signature(method, bare, signed, consumer_secret)
    return oauth


def _parent(update: StockUpdate) -> int | None:
    """The parent product (None: a simple product) an update belongs to: one request never mixes two."""
    ids = parse_external_id(update.external_id)
    return ids[0] if ids else None


def _error_category(error: Mapping[str, Any]) -> FailureCategory:
    code = str(error.get("code", ""))
    data = error.get("data")
    status = data.get("status") if isinstance(data, Mapping) else None
    if status == 404 or "invalid_id" in code or "not_found" in code:
        return FailureCategory.UNKNOWN_LISTING
    if status == 400 or code.startswith("rest_invalid") or "too_large" in code:
        return FailureCategory.VALIDATION
    return FailureCategory.OTHER


class WooCommerceAdapter(MarketplaceAdapter):
    marketplace: ClassVar[str] = "woocommerce"
    batch_limit: ClassVar[int] = 100  # core default of woocommerce_rest_batch_items_limit
    # Core wc/v3 has no rate limit; hosts and WAFs do. Stay gentle by default.
    rate_per_s: ClassVar[float] = 5.0
    burst: ClassVar[int] = 5
    default_zero_stock: ClassVar[ZeroStockAction] = ZeroStockAction.PUSH_ZERO
    required_keys: ClassVar[tuple[str, ...]] = ("consumer_key", "consumer_secret")
    secret_keys: ClassVar[tuple[str, ...]] = ("consumer_key", "consumer_secret")

    optional_keys: ClassVar[tuple[str, ...]] = (*MarketplaceAdapter.optional_keys, "query_string_auth")

    def _configure(self) -> None:
        key, secret = self.settings["consumer_key"], self.settings["consumer_secret"]
        self._https = self.base_url.lower().startswith("https://")
        in_query = str(self.settings.get("query_string_auth") or "false").strip().lower()
        if in_query not in ("true", "false"):
            raise ValueError(f"channel {self.channel_code!r} (woocommerce): query_string_auth must be "
                             f'"true" or "false", got {self.settings.get("query_string_auth")!r}')
        if in_query == "true" and not self._https:
            raise ValueError(
                f"channel {self.channel_code!r} (woocommerce): query_string_auth needs an https "
                "base_url (over http WooCommerce accepts only OAuth 1.0a signatures, and the keys "
                "would travel in clear)")
        self._query_auth: dict[str, str] = (
            {"consumer_key": key, "consumer_secret": secret} if in_query == "true" else {})
        # Keys never expire: a 401 is retried once by the session, then reported as AUTH.
        self._auth = StaticAuth(
            {"Authorization": basic_auth(key, secret)} if self._https and not self._query_auth else {})
        self._sign = None if self._https else self.sign_oauth1

    def _call(self, method: str, url: str, confirm: Any, params: Mapping[str, str] | None = None,
              **kwargs: Any) -> Any:
        """session.exchange with this channel's authentication; a 401 names the likely fix."""
        try:
            return self.session.exchange(
                method, url, confirm=confirm, auth=self._auth, sign=self._sign,
                params={**(params or {}), **self._query_auth} or None, **kwargs,
            )
        except AuthFailed as exc:
            raise AuthFailed(f"{exc}{self._auth_hint()}") from None

    def _auth_hint(self) -> str:
        if self._https and not self._query_auth:
            return (
                "; if the keys are right, the host may strip the Authorization header (WooCommerce "
                "then reports the consumer key missing or the request unauthenticated): set "
                f"query_string_auth = \"true\" on channel {self.channel_code!r} to send the keys as "
                "query-string parameters over https"
            )
        if not self._https:
            return "; over http WooCommerce accepts only OAuth 1.0a: check the keys and the server's clock"
        return ""

    def sign_oauth1(self, prepared: requests.PreparedRequest) -> None:
        """Sign one plain-http attempt (the session calls this on every try: fresh nonce)."""
        params = oauth1_params(
            str(prepared.method), str(prepared.url),
            self.settings["consumer_key"], self.settings["consumer_secret"],
            timestamp=int(self.clock.now()), nonce=secrets.token_hex(16),
        )
        prepared.headers["Authorization"] = "OAuth " + ", ".join(
            f'{k}="{_rfc3986(v)}"' for k, v in params.items()
        )

    # -- batching: one endpoint per request, so group by parent before chunking ----------

    def _batches(self, updates: Sequence[StockUpdate]) -> Iterator[list[StockUpdate]]:
        return self._grouped_batches(updates, _parent)

    def _batch_url(self, parent: int | None) -> str:
        if parent is None:
            return f"{self.base_url}{API_PREFIX}/products/batch"
        return f"{self.base_url}{API_PREFIX}/products/{parent}/variations/batch"

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        results: list[PushResult] = []
        valid: list[tuple[StockUpdate, int]] = []
        parent: int | None = None
        for update in batch:
            ids = parse_external_id(update.external_id)
            if ids is None:
                results.append(
                    PushResult.failed(
                        update,
                        FailureCategory.UNKNOWN_LISTING,
                        f"listing {update.sku!r} has no WooCommerce product id "
                        f"(external_id {update.external_id!r}; want 'id' or 'parent/variation')",
                    )
                )
                continue
            parent = ids[0]
            valid.append((update, ids[1]))
        if valid:
            results.extend(settle([u for u, _ in valid], lambda: self._send(parent, valid)))
        return results

    def _item(self, update: StockUpdate, object_id: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": object_id,
            "manage_stock": True,
            "stock_quantity": max(0, update.quantity),
        }
        status = _STATUS_FOR_ACTION.get(update.action)
        if status:
            item["status"] = status
        return item

    def batch_body(self, items: Sequence[tuple[StockUpdate, int]]) -> dict[str, Any]:
        """The JSON body of one batch request (public for the sandbox and tests)."""
        return {"update": [self._item(u, object_id) for u, object_id in items]}

    def _send(self, parent: int | None, items: list[tuple[StockUpdate, int]]) -> list[PushResult]:
        reply = self._call(
            "POST",
            self._batch_url(parent),
            expect(BatchReply),
            json=self.batch_body(items),
            headers={"Accept": "application/json"},
        )
        if reply.body is None:
            response = reply.response
            payload = reply_json(response, None)
            error = payload if isinstance(payload, Mapping) else {}
            message = self.session.redact(
                str(error.get("message") or response.text[:300] or f"HTTP {response.status_code}")
            )
            category = _error_category(error) if error else FailureCategory.OTHER
            if response.status_code == 413:
                category = FailureCategory.VALIDATION
            return [PushResult.failed(u, category, message) for u, _ in items]
        replies = reply.body.update
        by_id = {r.id: r for r in replies if r.id}
        results = []
        for index, (update, object_id) in enumerate(items):
            item = by_id.get(object_id)
            if item is None and index < len(replies) and replies[index].error is not None and not replies[index].id:
                item = replies[index]  # errors may come back with id 0, in the order sent
            results.append(self._classify(update, item))
        return results

    def _classify(self, update: StockUpdate, reply: BatchItem | None) -> PushResult:
        if reply is None:
            return unconfirmed(update, "WooCommerce's batch reply does not name this product", self.clock.now())
        error = reply.error
        if error is not None:
            return PushResult.failed(
                update, _error_category(error), self.session.redact(str(error.get("message", "")))
            )
        stored = reply.stock_quantity
        if reply.manage_stock is False or (stored is not None and stored != max(0, update.quantity)):
            # The store accepted the request but did not manage stock (store-wide setting off).
            return PushResult.failed(
                update,
                FailureCategory.VALIDATION,
                f"store kept stock_quantity={stored!r} manage_stock={reply.manage_stock!r}; "
                "is 'Manage stock' enabled in WooCommerce > Settings > Products > Inventory?",
            )
        if stored is None:
            return unconfirmed(update, "WooCommerce's reply does not say the stock it now holds", self.clock.now())
        status = reply.status
        return PushResult(
            update.listing_id,
            Outcome.OK,
            applied_quantity=stored,
            active=(status == "publish") if isinstance(status, str) else None,
        )

    # -- read back ---------------------------------------------------------------------

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        """GET the products (or a parent's variations) by id, 100 per request."""
        found: dict[tuple[int | None, int], Mapping[str, Any]] = {}
        groups: dict[int | None, list[int]] = {}
        for _, external_id in skus:
            ids = parse_external_id(external_id)
            if ids:
                groups.setdefault(ids[0], []).append(ids[1])
        for parent, object_ids in groups.items():
            path = "/products" if parent is None else f"/products/{parent}/variations"
            for start in range(0, len(object_ids), 100):
                chunk = object_ids[start : start + 100]
                params = {"include": ",".join(map(str, chunk)), "per_page": "100"}
                reply = self._call("GET", f"{self.base_url}{API_PREFIX}{path}", expect(ProductList), params=params)
                for product in reply.body.root if reply.body is not None else []:
                    found[(parent, product.id)] = product.model_dump(mode="json")
        listings = []
        for sku, external_id in skus:
            ids = parse_external_id(external_id)
            item = found.get(ids) if ids else None
            if item is None:
                listings.append(RemoteListing(sku=sku, quantity=None, found=False))
                continue
            quantity = item.get("stock_quantity")
            listings.append(
                RemoteListing(
                    sku=sku,
                    quantity=quantity if isinstance(quantity, int) else None,
                    active=item.get("status") == "publish",
                    raw={
                        k: item.get(k)
                        for k in ("id", "sku", "status", "manage_stock", "stock_status", "backorders")
                    },
                )
            )
        return listings
