"""Etsy adapter: Open API v3 listing inventory (full replace) plus listing state.

`PUT /v3/application/listings/{listing_id}/inventory` replaces the whole inventory, so
each listing is read (`GET .../inventory`), only the target offerings' quantities are
changed, and every product goes back (read-only ids dropped, prices as floats). One
request pair per listing: `_batches` groups updates by listing, so all variations of one
listing travel together.

Zero stock: Etsy refuses an inventory whose offerings are all 0, and has no active listing
at 0. When a listing's total would reach 0 the adapter sets `state=inactive` with
`PATCH /v3/application/shops/{shop_id}/listings/{listing_id}` (form-encoded, as the spec
declares) and then writes the placeholder PLACEHOLDER_QUANTITY (1) into every offering:
never the old real number, which a listing reactivated by hand in Etsy would sell as
phantom units (issue 17 item 4). Back in stock (REACTIVATE/RELIST): write the inventory,
then `state=active`. A single variation reaching 0 while others have stock is written as 0.

Variations with different numbers: the spec's updateListingInventory "fails if the
supplied values for product sku, offering quantity, and/or price are incompatible with
values in `*_on_property_*` fields"; `quantity_on_property` is "An array of unique listing
property ID integers for the properties that change the quantity of the products". So when
the products' quantities differ and the listing did not say which property varies them,
the body names every property the products carry (from their `property_values`): each
combination may then hold its own number.

Concurrent changes: the PUT replaces the whole inventory with what we read plus our
numbers, so a sale Etsy records between our read and our write, on a product we are not
pushing, would be written back (undone). When such products are in the body, the adapter
reads the inventory again right before writing and writes only when both reads agree on
them; otherwise it starts over from the newer read (at most REREAD_ATTEMPTS reads), then
gives up for now (RETRY). Etsy offers no compare-and-set on inventory, so this narrows the
window to one request; it cannot close it.

Auth on every call: `x-api-key: {keystring}:{shared_secret}` and `Authorization: Bearer`
with an access token from the OAuth refresh grant (`token_url`), cached until expiry and
refreshed once on a 401. Etsy rotates the refresh token on every refresh: the newest is
kept and reported through `on_token_rotated` so the bridge stores it durably.

Usage::

    adapter = EtsyAdapter("etsy_shop", {"base_url": "https://openapi.etsy.com", "keystring": "..",
                                         "shared_secret": "..", "shop_id": "42", "refresh_token": ".."})
    adapter.push([StockUpdate(1, "MUG-RED", 4, external_id="123")])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import requests

from connector.marketplaces.base import (
    FailureCategory,
    MarketplaceAdapter,
    Outcome,
    PushResult,
    RemoteListing,
    StockUpdate,
)
from connector.marketplaces.common import BatchFailed, reply_json, settle, split_id_text
from connector.marketplaces.confirm import Confirmation, TokenReply, expect, require
from connector.marketplaces.http import AuthFailed, CachedToken, Exchange
from connector.stock.model import PushAction, ZeroStockAction

DEFAULT_TOKEN_URL = "https://api.etsy.com/v3/public/oauth/token"
# Not in the OpenAPI spec (offerings[].quantity has no maximum there): Etsy's listing
# editor refuses more than 999 per offering (reference notes, unverified against the API).
MAX_OFFERING_QUANTITY = 999
PLACEHOLDER_QUANTITY = 1  # what an inactive listing holds (Etsy refuses all-zero offerings)
REREAD_ATTEMPTS = 3


C = TypeVar("C", bound=Confirmation)


class Product(Confirmation):
    """ListingInventoryProduct: the parts the adapter reads (offerings as Etsy sent them)."""

    product_id: int | None = None
    sku: str | None = None
    is_deleted: bool = False
    offerings: list[dict[str, Any]]
    property_values: list[dict[str, Any]] = []


class Inventory(Confirmation):
    """ListingInventory (getListingInventory, and updateListingInventory's reply)."""

    products: list[Product]

    def raw(self) -> dict[str, Any]:
        """The inventory as Etsy sent it (for the full-replace PUT body)."""
        return self.model_dump(mode="json", exclude_unset=True)


class ShopListing(Confirmation):
    """getListing / updateListing: the listing id and its state are what the adapter uses."""

    listing_id: int
    state: str


def parse_external_id(external_id: str | None) -> tuple[str, str | None] | None:
    """`"123"` -> ("123", None); `"123/456"` -> ("123", "456") (listing id, product id)."""
    return split_id_text(external_id)


def _status_category(status: int) -> FailureCategory:
    if status == 404:
        return FailureCategory.UNKNOWN_LISTING
    if status == 403:
        return FailureCategory.AUTH
    if status in (400, 409, 422):
        return FailureCategory.VALIDATION
    return FailureCategory.OTHER


def _price(price: Any) -> float:
    """Etsy reads prices back as {amount, divisor}; writes take a float."""
    if isinstance(price, Mapping):
        return float(price.get("amount", 0)) / float(price.get("divisor") or 1)
    return float(price or 0)


class EtsyAdapter(MarketplaceAdapter):
    marketplace: ClassVar[str] = "etsy"
    batch_limit: ClassVar[int] = 1  # listings per inventory write; a listing's variations go together
    rate_per_s: ClassVar[float] = 10.0  # default 10 QPS per app (and 10k per day)
    burst: ClassVar[int] = 10
    default_zero_stock: ClassVar[ZeroStockAction] = ZeroStockAction.DEACTIVATE
    max_quantity: ClassVar[int | None] = MAX_OFFERING_QUANTITY
    required_keys: ClassVar[tuple[str, ...]] = ("keystring", "shared_secret", "shop_id", "refresh_token")
    secret_keys: ClassVar[tuple[str, ...]] = ("keystring", "shared_secret", "refresh_token")

    def _configure(self) -> None:
        self.refresh_token = self.settings["refresh_token"]
        self.token_url = self.settings.get("token_url") or DEFAULT_TOKEN_URL
        api_key = f"{self.settings['keystring']}:{self.settings['shared_secret']}"
        self.session.add_secret(api_key)
        self.token = CachedToken(
            self._fetch_token,
            self.clock,
            render=lambda t: {"Authorization": f"Bearer {t}", "x-api-key": api_key},
        )

    def _fetch_token(self) -> tuple[str, float]:
        response = self.session.exchange(
            "POST",
            self.token_url,
            confirm=expect(TokenReply),
            data={
                "grant_type": "refresh_token",
                "client_id": self.settings["keystring"],
                "refresh_token": self.refresh_token,
            },
        ).response
        payload = reply_json(response, None)
        if response.status_code >= 400 or not isinstance(payload, Mapping) or not payload.get("access_token"):
            detail = payload.get("error_description") or payload.get("error") if isinstance(payload, Mapping) else ""
            raise AuthFailed(
                f"{self.session.name}: Etsy token refresh failed (HTTP {response.status_code}) "
                f"{self.session.redact(str(detail or ''))}; re-authorize the shop"
            )
        self.refresh_token = self._adopt_refreshed(
            str(payload["access_token"]), str(payload.get("refresh_token") or ""), self.refresh_token
        ) or self.refresh_token
        return str(payload["access_token"]), float(payload.get("expires_in") or 3600)

    def _request(
        self, method: str, path: str, confirm: type[C], check: Callable[[C], None] | None = None,
        **kwargs: Any,
    ) -> Exchange[C]:
        """One call whose 2xx must be a valid `confirm` reply (and pass `check`)."""
        return self.session.exchange(
            method, f"{self.base_url}{path}", confirm=expect(confirm, check), auth=self.token, **kwargs
        )

    def _error(self, response: requests.Response, what: str) -> BatchFailed:
        payload = reply_json(response, None)
        message = payload.get("error") if isinstance(payload, Mapping) else None
        return BatchFailed(
            _status_category(response.status_code),
            self.session.redact(f"{what}: HTTP {response.status_code} {message or response.text[:300]}"),
        )

    # -- batching: one listing per batch -----------------------------------------------

    def _batches(self, updates: Sequence[StockUpdate]) -> Iterator[list[StockUpdate]]:
        groups: dict[str | None, list[StockUpdate]] = {}
        for update in updates:
            ids = parse_external_id(update.external_id)
            groups.setdefault(ids[0] if ids else None, []).append(update)
        for listing_id, group in groups.items():
            if listing_id is None:
                yield from ([u] for u in group)
            else:
                yield group

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        ids = parse_external_id(batch[0].external_id)
        if ids is None:
            return [
                PushResult.failed(
                    u, FailureCategory.UNKNOWN_LISTING,
                    f"listing {u.sku!r} has no Etsy listing id (external_id {u.external_id!r})",
                )
                for u in batch
            ]
        return settle(batch, lambda: self._push_listing(ids[0], batch))

    def _read_inventory(self, listing_id: str) -> dict[str, Any]:
        read = self._request("GET", f"/v3/application/listings/{listing_id}/inventory", Inventory)
        if read.body is None:
            raise self._error(read.response, f"listing {listing_id}")
        return read.body.raw()

    @staticmethod
    def _others(products: Sequence[Mapping[str, Any]], targets: Mapping[int, int]) -> list[tuple[Any, ...]]:
        """What the products we do not push hold (their id/sku and offering quantities)."""
        return [
            (p.get("product_id"), p.get("sku"),
             tuple(int(o.get("quantity") or 0) for o in p.get("offerings") or [] if not o.get("is_deleted")))
            for i, p in enumerate(products) if i not in targets
        ]

    def _push_listing(self, listing_id: str, batch: list[StockUpdate]) -> list[PushResult]:
        reactivate = any(u.action in (PushAction.REACTIVATE, PushAction.RELIST) for u in batch)
        # An inactive listing holds placeholders: on reactivation the products we do not
        # push go back to 0 (their real number when the listing went offline at total 0),
        # not to the placeholder 1.
        placeholders = reactivate and self._state(listing_id) != "active"
        inventory = self._read_inventory(listing_id)
        for attempt in range(1, REREAD_ATTEMPTS + 1):
            products = [p for p in inventory["products"] if not p.get("is_deleted")]
            results: dict[int, PushResult] = {}
            targets: dict[int, int] = {}  # product index -> new quantity
            for update in batch:
                index = self._match(products, update)
                if index is None:
                    results[update.listing_id] = PushResult.failed(
                        update, FailureCategory.UNKNOWN_LISTING,
                        f"no product with sku {update.sku!r} in Etsy listing {listing_id}",
                    )
                else:
                    targets[index] = min(MAX_OFFERING_QUANTITY, max(0, update.quantity))
            if placeholders:
                targets = {**dict.fromkeys(range(len(products)), 0), **targets}
            applicable = [u for u in batch if u.listing_id not in results]
            if not applicable:
                return [results[u.listing_id] for u in batch]
            body = self.inventory_body(inventory, products, targets)
            total = sum(o["quantity"] for p in body["products"] for o in p["offerings"] if o["is_enabled"])
            if total == 0 or len(targets) == len(products):
                break  # nothing of anyone else's is written back
            # Products we do not push go back as read: read again, write only if unchanged.
            fresh = self._read_inventory(listing_id)
            fresh_products = [p for p in fresh["products"] if not p.get("is_deleted")]
            if self._others(fresh_products, targets) == self._others(products, targets):
                break
            inventory = fresh
        else:
            now = self.clock.now()
            return [results.get(u.listing_id) or PushResult.retry(
                u, f"Etsy listing {listing_id} changed between every read and write "
                   f"({REREAD_ATTEMPTS} reads); not written, so no sale is undone", now + 30)
                for u in batch]
        wanted = {u.listing_id: min(MAX_OFFERING_QUANTITY, max(0, u.quantity)) for u in applicable}
        if total == 0:
            # Etsy cannot hold 0: take the listing offline first, then replace the real
            # numbers by the placeholder, so a hand reactivation sells 1 at most per offering.
            self._set_state(listing_id, "inactive")
            placeholder = self.inventory_body(
                inventory, products, dict.fromkeys(range(len(products)), PLACEHOLDER_QUANTITY))
            held = {u.listing_id: PLACEHOLDER_QUANTITY for u in applicable}
            put = self._request(
                "PUT", f"/v3/application/listings/{listing_id}/inventory", Inventory,
                check=lambda written: self._holds(written, applicable, held, listing_id),
                json=placeholder, headers={"Content-Type": "application/json"},
            )
            if put.body is None:
                raise self._error(put.response, f"listing {listing_id} placeholder inventory")
            active: bool | None = False
        else:
            put = self._request(
                "PUT", f"/v3/application/listings/{listing_id}/inventory", Inventory,
                check=lambda written: self._holds(written, applicable, wanted, listing_id),
                json=body, headers={"Content-Type": "application/json"},
            )
            if put.body is None:
                raise self._error(put.response, f"listing {listing_id} inventory")
            active = None
            if reactivate:
                self._set_state(listing_id, "active")
                active = True
        for update in applicable:
            results[update.listing_id] = PushResult(
                update.listing_id, Outcome.OK, applied_quantity=wanted[update.listing_id], active=active,
                message=f"after {attempt} reads" if attempt > 1 else "",
            )
        return [results[u.listing_id] for u in batch]

    def _holds(
        self, written: Inventory, updates: Sequence[StockUpdate], wanted: Mapping[int, int], listing_id: str
    ) -> None:
        """The PUT's reply is the inventory Etsy now holds: each pushed product must be in it
        with the quantity we sent, or the write is not confirmed."""
        products = [p.model_dump(mode="json") for p in written.products if not p.is_deleted]
        for update in updates:
            index = self._match(products, update)
            # Every offering of a pushed product was sent with the new quantity.
            quantities = {
                int(o.get("quantity") or 0) for o in products[index]["offerings"] if not o.get("is_deleted")
            } if index is not None else set()
            require(
                quantities == {wanted[update.listing_id]},
                f"Etsy's inventory reply for listing {listing_id} does not hold {wanted[update.listing_id]} "
                f"for {update.sku!r}",
            )

    @staticmethod
    def _match(products: Sequence[Mapping[str, Any]], update: StockUpdate) -> int | None:
        ids = parse_external_id(update.external_id)
        product_id = ids[1] if ids else None
        for index, product in enumerate(products):
            if product_id is not None and str(product.get("product_id")) == product_id:
                return index
        for index, product in enumerate(products):
            if product_id is None and product.get("sku") == update.sku:
                return index
        if product_id is None and len(products) == 1:
            return 0
        return None

    @staticmethod
    def inventory_body(
        inventory: Mapping[str, Any], products: Sequence[Mapping[str, Any]], targets: Mapping[int, int]
    ) -> dict[str, Any]:
        """The PUT body: every product as read, read-only fields dropped, targets changed."""
        out_products: list[dict[str, Any]] = []
        for index, product in enumerate(products):
            offerings = []
            for offering in product.get("offerings") or []:
                if not isinstance(offering, Mapping) or offering.get("is_deleted"):
                    continue
                quantity = targets.get(index, int(offering.get("quantity") or 0))
                offerings.append({
                    "price": _price(offering.get("price")),
                    "quantity": quantity,
                    "is_enabled": bool(offering.get("is_enabled", True)),
                    "readiness_state_id": offering.get("readiness_state_id"),
                })
            out_products.append({
                "sku": product.get("sku") or "",
                "property_values": [
                    {k: v.get(k) for k in ("property_id", "value_ids", "scale_id", "property_name", "values")}
                    for v in product.get("property_values") or [] if isinstance(v, Mapping)
                ],
                "offerings": offerings,
            })
        body: dict[str, Any] = {"products": out_products}
        for key in ("price_on_property", "quantity_on_property", "sku_on_property", "readiness_state_on_property"):
            if isinstance(inventory.get(key), list):
                body[key] = list(inventory[key])
        numbers = {o["quantity"] for p in out_products for o in p["offerings"]}
        if len(numbers) > 1:
            # Different numbers per product: say which properties vary the quantity (spec:
            # quantity_on_property), or Etsy refuses the update. Every property the products
            # carry, so each combination may hold its own number.
            varying = sorted({int(v["property_id"]) for p in out_products for v in p["property_values"]
                              if v.get("property_id") is not None})
            if varying and not set(varying) <= set(body.get("quantity_on_property") or []):
                body["quantity_on_property"] = varying
        return body

    def _state(self, listing_id: str) -> str:
        reply = self._request("GET", f"/v3/application/listings/{listing_id}", ShopListing)
        if reply.body is None:
            raise self._error(reply.response, f"listing {listing_id}")
        return reply.body.state

    def _set_state(self, listing_id: str, state: str) -> None:
        shop_id = self.settings["shop_id"]

        def check(listing: ShopListing) -> None:
            require(str(listing.listing_id) == listing_id and listing.state == state,
                    f"Etsy answered listing {listing.listing_id} state {listing.state!r}, not {state!r}")

        reply = self._request(
            "PATCH", f"/v3/application/shops/{shop_id}/listings/{listing_id}", ShopListing, check,
            data={"state": state},
        )
        if reply.body is None:
            raise self._error(reply.response, f"listing {listing_id} state={state}")

    # -- read back ---------------------------------------------------------------------

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        """Offering quantity per product and the listing's state; an inactive listing's
        quantity is a placeholder, so it is reported as 0 (raw keeps the placeholder)."""
        listings: dict[str, tuple[Mapping[str, Any] | None, str | None]] = {}
        for listing_id in sorted({ids[0] for _, e in skus if (ids := parse_external_id(e))}):
            inv = self._request("GET", f"/v3/application/listings/{listing_id}/inventory", Inventory)
            meta = self._request("GET", f"/v3/application/listings/{listing_id}", ShopListing)
            listings[listing_id] = (
                inv.body.raw() if inv.body is not None else None,
                meta.body.state if meta.body is not None else None,
            )
        out = []
        for sku, external_id in skus:
            ids = parse_external_id(external_id)
            inventory, state = listings.get(ids[0], (None, None)) if ids else (None, None)
            products = [p for p in (inventory or {}).get("products") or [] if isinstance(p, Mapping)]
            index = self._match(products, StockUpdate(0, sku, 0, external_id=external_id))
            if index is None:
                out.append(RemoteListing(sku=sku, quantity=None, found=False))
                continue
            offerings = [o for o in products[index].get("offerings") or [] if isinstance(o, Mapping)]
            placeholder = sum(int(o.get("quantity") or 0) for o in offerings)
            active = state == "active"
            out.append(RemoteListing(
                sku=sku,
                quantity=placeholder if active else 0,
                active=active,
                raw={"state": state, "offering_quantity": placeholder,
                     "product_id": products[index].get("product_id")},
            ))
        return out
