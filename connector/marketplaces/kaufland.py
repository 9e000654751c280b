"""Kaufland Marketplace Seller API v2: stock through `POST /v2/units/bulk` (bulkUpdateUnits).

The spec (2.27.0) has a bulk unit update: up to 150 units per call, no duplicates,
reply 207 with a `status_code` per unit. Each unit is PATCHed with `amount` (absolute);
the single-unit `PATCH /v2/units/{id_unit}` takes the same body but costs a call per unit;
it is the fallback when the bulk route is missing (404/405) or `bulk_update = "false"`.

Signing (every call; no token): headers `Shop-Client-Key`, `Shop-Timestamp` (unix
seconds) and `Shop-Signature` = hex HMAC-SHA256(secret_key, METHOD \\n full URL incl.
query \\n body \\n timestamp), computed on the prepared request, so it covers the exact
URL and bytes sent and is fresh on every retry.

Zero stock: PUSH_ZERO writes amount 0 (unit kept, not purchasable). DEACTIVATE puts the
unit ON HOLD with amount 0 and REACTIVATE sets the amount and AVAILABLE again: the unit
and its `id_unit` (our external_id), price and handling time survive. END and RELIST do
the same as DEACTIVATE and REACTIVATE, on purpose: deleting the unit and creating a new
one (`POST /v2/units`) would give it a NEW id_unit, but the listing's external_id lives in
the ERP and the bridge cannot rewrite it, so every later push would 404 against the
deleted unit; a new unit also needs a price and handling time the bridge does not own.
On hold is Kaufland's "ended but kept" state, so nothing is lost.

Usage::

    adapter = KauflandAdapter("kaufland_de", {"base_url": "https://sellerapi.kaufland.com",
                              "client_key": "...", "secret_key": "...", "storefront": "de"})
    adapter.push([StockUpdate(listing_id=1, sku="4006381333931", quantity=7,
                              external_id="338765432")])
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import requests
from pydantic import model_validator

from connector.marketplaces.base import (
    FailureCategory,
    MarketplaceAdapter,
    PushResult,
    RemoteListing,
    StockUpdate,
)
from connector.marketplaces.common import ok, reply_json, settle
from connector.marketplaces.confirm import Confirmation, expect, require, unconfirmed
from connector.marketplaces.http import Exchange
from connector.stock.model import PushAction, ZeroStockAction

USER_AGENT = "stock-bridge/0.1 (marketplace stock sync)"
C = TypeVar("C", bound=Confirmation)


def signature(secret: str, method: str, url: str, body: str, timestamp: int) -> str:
    """Kaufland's request signature (their docs' sign_request)."""
    message = "\n".join([method, url, body, str(timestamp)])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class Unit(Confirmation):
    """The spec's Unit: the parts a confirmation relies on."""

    id_unit: int
    amount: int
    status: str | None = None


class UnitReply(Confirmation):
    """ApiResponse_Unit_ (getUnit, patchUnit)."""

    data: Unit


class UnitsReply(Confirmation):
    """CollectionApiResponse_UnitEmbedded_ (getUnits)."""

    data: list[Unit]


class BulkEntry(Confirmation):
    """One of UnitsBulkUpdatedUnit / ...ErrorDetails / ...InternalError: a 2xx entry must
    carry the unit as Kaufland now holds it (UnitsBulkUpdatedUnit requires `unit`)."""

    id_unit: int
    status_code: int
    unit: Unit | None = None
    message: str | None = None
    errors: list[dict[str, Any]] = []

    @model_validator(mode="after")
    def _updated_has_unit(self) -> BulkEntry:
        if 200 <= self.status_code < 300 and self.unit is None:
            raise ValueError("a successful bulk entry must carry its unit")
        return self


class BulkReply(Confirmation):
    """UnitsBulkUpdateResponse (207): `data` is required."""

    data: list[BulkEntry]


def _about(id_unit: int) -> Callable[[UnitReply], None]:
    """A unit reply confirms only when it is about the unit that was asked for."""

    def check(reply: UnitReply) -> None:
        require(reply.data.id_unit == id_unit, f"Kaufland answered about unit {reply.data.id_unit}, not {id_unit}")

    return check


class KauflandAdapter(MarketplaceAdapter):
    """Units per storefront; `external_id` = id_unit, `channel_sku` = EAN."""

    marketplace = "kaufland"
    batch_limit = 150  # bulkUpdateUnits: more than 150 units fails the whole request
    rate_per_s = 5.0  # unverified: Kaufland publishes no number
    burst = 10
    default_zero_stock = ZeroStockAction.PUSH_ZERO
    required_keys = ("client_key", "secret_key", "storefront")
    secret_keys = ("secret_key", "partner_secret_key")

    def _configure(self) -> None:
        s = self.settings
        self.storefront = s["storefront"]
        self.api = self.base_url if self.base_url.endswith("/v2") else f"{self.base_url}/v2"
        self.user_agent = s.get("user_agent") or USER_AGENT
        self.bulk_supported = s.get("bulk_update", "true").lower() != "false"

    # ------------------------------------------------------------------ signing

    def sign(self, prepared: requests.PreparedRequest) -> None:
        timestamp = int(self.clock.now())
        raw = prepared.body or b""
        body = raw.decode() if isinstance(raw, bytes) else str(raw)
        method, url = str(prepared.method), str(prepared.url)
        prepared.headers["Shop-Client-Key"] = self.settings["client_key"]
        prepared.headers["Shop-Timestamp"] = str(timestamp)
        prepared.headers["Shop-Signature"] = signature(
            self.settings["secret_key"], method, url, body, timestamp
        )
        partner_key, partner_secret = (
            self.settings.get("partner_client_key"), self.settings.get("partner_secret_key"))
        if partner_key and partner_secret:
            prepared.headers["Shop-Partner-Client-Key"] = partner_key
            prepared.headers["Shop-Partner-Signature"] = signature(
                partner_secret, method, url, body, timestamp
            )

    def call(
        self, method: str, path: str, confirm: type[C], body: Any = None,
        check: Callable[[C], None] | None = None, **params: str,
    ) -> Exchange[C]:
        """One signed call whose 2xx must be a valid `confirm` reply (and pass `check`)."""
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        data: bytes | None = None
        if body is not None:
            # Serialized once: the signature is over these exact bytes.
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        return self.session.exchange(
            method, f"{self.api}{path}", confirm=expect(confirm, check),
            params={"storefront": self.storefront, **params}, data=data, headers=headers, sign=self.sign,
        )

    # ------------------------------------------------------------------ push

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        results: list[PushResult] = []
        bulk: list[tuple[StockUpdate, int]] = []
        for update in batch:
            id_unit = self._id_unit(update)
            if id_unit is None:
                results.append(PushResult.failed(
                    update, FailureCategory.UNKNOWN_LISTING,
                    f"no valid Kaufland id_unit (external_id {update.external_id!r})"))
            elif any(i == id_unit for _, i in bulk):
                results.append(PushResult.failed(
                    update, FailureCategory.VALIDATION, f"id_unit {id_unit} appears twice in one batch"))
            else:
                bulk.append((update, id_unit))
        if bulk:
            updates = [u for u, _ in bulk]
            results.extend(settle(updates, lambda: self._bulk(bulk)))
        return results

    @staticmethod
    def _id_unit(update: StockUpdate) -> int | None:
        try:
            value = int(str(update.external_id))
        except ValueError:
            return None
        return value if value > 0 else None

    @staticmethod
    def unit_data(update: StockUpdate) -> dict[str, Any]:
        # END/RELIST = on hold / available again, never delete/create (module docstring).
        if update.action in (PushAction.DEACTIVATE, PushAction.END):
            return {"amount": 0, "status": "ONHOLD"}
        if update.action in (PushAction.REACTIVATE, PushAction.RELIST):
            return {"amount": max(0, update.quantity), "status": "AVAILABLE"}
        return {"amount": max(0, update.quantity)}

    def _bulk(self, bulk: list[tuple[StockUpdate, int]]) -> list[PushResult]:
        if not self.bulk_supported:
            return [self._patch(u, i) for u, i in bulk]
        body = [{"id_unit": i, "unit_data": self.unit_data(u)} for u, i in bulk]
        reply = self.call("POST", "/units/bulk", BulkReply, body)
        if reply.status in (404, 405):
            # An API (or stand-in) without bulkUpdateUnits: the route itself is missing
            # (unit errors come inside a 207). Fall back to one PATCH per unit, for good.
            self.bulk_supported = False
            return [self._patch(u, i) for u, i in bulk]
        if reply.body is None:
            payload = reply_json(reply.response)
            message = self.session.redact(self._message(payload) or f"HTTP {reply.status}")
            category = FailureCategory.AUTH if reply.status == 403 else FailureCategory.VALIDATION
            return [PushResult.failed(u, category, message) for u, _ in bulk]
        by_unit = {e.id_unit: e for e in reply.body.data}
        return [self._one(u, i, by_unit.get(i)) for u, i in bulk]

    def _patch(self, update: StockUpdate, id_unit: int) -> PushResult:
        reply = self.call("PATCH", f"/units/{id_unit}", UnitReply, self.unit_data(update),
                          check=_about(id_unit))
        if reply.body is not None:
            entry = BulkEntry(id_unit=id_unit, status_code=reply.status, unit=reply.body.data)
        else:
            payload = reply_json(reply.response)
            payload = payload if isinstance(payload, dict) else {}
            entry = BulkEntry(id_unit=id_unit, status_code=reply.status,
                              message=str(payload.get("message") or ""),
                              errors=[e for e in payload.get("errors") or [] if isinstance(e, dict)])
        return self._one(update, id_unit, entry)

    def _one(self, update: StockUpdate, id_unit: int, entry: BulkEntry | None) -> PushResult:
        if entry is None:
            return unconfirmed(update, f"Kaufland's reply does not name unit {id_unit}", self.clock.now())
        status = entry.status_code
        if 200 <= status < 300 and entry.unit is not None:
            unit = entry.unit
            active = unit.status == "AVAILABLE" if unit.status else None
            return ok(update, unit.amount, active=active)
        message = self.session.redact(self._message(entry.model_dump()) or f"status {status}")
        if status >= 500 or status == 429:
            return PushResult.retry(update, message, self.clock.now() + 60)
        if status == 404:
            return PushResult.failed(update, FailureCategory.UNKNOWN_LISTING, message)
        return PushResult.failed(update, FailureCategory.VALIDATION, message)

    @staticmethod
    def _message(payload: Any) -> str:
        if not isinstance(payload, dict):
            return ""
        parts = [str(payload.get("message") or "")]
        parts += [f"{e.get('field')}: {e.get('message')}" for e in payload.get("errors") or []
                  if isinstance(e, dict)]
        return "; ".join(p for p in parts if p)

    # ------------------------------------------------------------------ read

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        """GET /v2/units/{id_unit} (or by EAN when the id is unknown): amount and status."""
        out: list[RemoteListing] = []
        for sku, external_id in skus:
            id_unit = self._id_unit(StockUpdate(0, sku, 0, external_id=external_id))
            unit: Unit | None = None
            if id_unit is not None:
                one = self.call("GET", f"/units/{id_unit}", UnitReply, check=_about(id_unit))
                raw = one.response
                if one.body is not None:
                    unit = one.body.data
            else:
                many = self.call("GET", "/units", UnitsReply, ean=sku)
                raw = many.response
                unit = many.body.data[0] if many.body is not None and many.body.data else None
            if unit is None:
                out.append(RemoteListing(sku, None, None, found=False, raw=reply_json(raw)))
                continue
            out.append(RemoteListing(
                sku, unit.amount, unit.status == "AVAILABLE", found=True, raw=unit.model_dump(mode="json")))
        return out
