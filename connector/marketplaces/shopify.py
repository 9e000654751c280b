"""Shopify adapter: `inventorySetQuantities` (Admin GraphQL) with compare-and-set.

One mutation sets `available` for up to `batch_limit` inventory items at the channel's
location. Every row carries the value we believe Shopify holds (the last value we
pushed, `StockUpdate.expected_quantity`, else a fresh read): `compareQuantity` for API
versions up to 2025-10, `changeFromQuantity` from 2026-01 (required from 2026-04, when
compareQuantity is gone), and the set carries `@idempotent(key:)` from 2026-01 (mandatory
from 2026-04); see connector.marketplaces.shopify_versions for the changelog entries.

API versions (issue 17 item 1): the syntax follows the version Shopify *serves*, not the
configured string. Before any reply it is the configured version, or, when that one is
already past its 12 months of support, the oldest supported one (what Shopify answers a
retired version with); every reply's `X-Shopify-API-Version` header then says which
version answered, and the adapter adopts it. A mutation refused with GraphQL errors that
were built for another version than the one that answered is rebuilt once for the served
version and sent again. The default `api_version` is NEWEST_KNOWN (supported). A warning
(log, and `status` through `on_warning`) says when the configured version is retired,
retires within 90 days, or is not the one Shopify serves. When Shopify answers `*_STALE` (a sale
or an admin changed the number meanwhile), the value we computed is NOT sent again: it was
derived from an ERP that may not have imported that sale yet, and re-sending it would
overwrite the sale (oversell). Instead the row's current `available` is read and the row
comes back RETRY soon (`STALE_RETRY_S`) with `applied_quantity` = what Shopify holds now:
the engine recomputes from a fresh ERP read and uses that as the next compare value.

An item not stocked at the channel's location (the pre-read finds no `inventoryLevel` there,
or the set answers `ITEM_NOT_STOCKED_AT_LOCATION`) is activated there with
`inventoryActivate(available: <wanted>)` (up to `ACTIVATE_PER_REQUEST` aliased fields per
request); OK once Shopify returns the new level. There is no level to compare with, so this
is not compare-and-set: if Shopify answers with a level holding another `available` (the item
was activated meanwhile; Shopify then leaves the level as it is), the row comes back RETRY
with that value, like a stale compare. Its `userErrors` are plain `UserError {field message}`
(no code in the schema): an error on `inventoryItemId` fails the row UNKNOWN_LISTING, any
other VALIDATION, with Shopify's field and message. Channel setting `activate_at_location`
("true" default, or "false"): with "false" a not-stocked item fails UNKNOWN_LISTING instead.

Throttling is cost based; a throttled reply is HTTP 200 with `errors[].extensions.code ==
"THROTTLED"` (or a 429): both are retried after `(requested - available) / restoreRate` s.

Usage::

    adapter = ShopifyAdapter("shop_eu", {"base_url": "https://acme.myshopify.com",
                                         "access_token": "shpat_..", "location_id": "2",
                                         "activate_at_location": "true"})
    adapter.push([StockUpdate(1, "MUG", 7, external_id="gid://shopify/InventoryItem/1",
                              expected_quantity=5)])
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar

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
from connector.marketplaces.common import GAVE_UP, BatchFailed, gave_up, reply_json
from connector.marketplaces.confirm import Confirmation, expect, unconfirmed
from connector.marketplaces.http import StaticAuth, Transient
from connector.marketplaces.shopify_versions import (
    NEWEST_KNOWN,
    WARN_DAYS,
    needs_idempotency_key,
    served_for,
    supported_until,
    uses_change_from,
)
from connector.stock.model import ZeroStockAction

DEFAULT_API_VERSION = NEWEST_KNOWN
VERSION_HEADER = "X-Shopify-API-Version"
ITEM_GID = "gid://shopify/InventoryItem/"
LOCATION_GID = "gid://shopify/Location/"
CAS_ROUNDS = 3  # sets per batch for rows held back by another row's error (not stale ones)
STALE_RETRY_S = 2.0  # a stale row is retried this soon, after the engine re-reads the ERP
# inventoryActivate fields per request: a mutation field costs ~10 points and Shopify
# refuses a single query over 1000 requested points (MAX_COST_EXCEEDED).
ACTIVATE_PER_REQUEST = 25
NOT_STOCKED = "ITEM_NOT_STOCKED_AT_LOCATION"

SET_MUTATION = """mutation StockBridgeSet($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input)%s {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}"""

ACTIVATE_FIELD = """  a%(n)d: inventoryActivate(inventoryItemId: $item%(n)d, locationId: $locationId, available: $available%(n)d)%(directive)s {
    inventoryLevel { id quantities(names: ["available"]) { name quantity } }
    userErrors { field message }
  }"""

READ_QUERY = """query StockBridgeRead($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      sku
      tracked
      inventoryLevel(locationId: $locationId) {
        quantities(names: ["available", "on_hand", "committed"]) { name quantity }
      }
    }
  }
}"""

_STALE = ("COMPARE_QUANTITY_STALE", "CHANGE_FROM_QUANTITY_STALE")
_CATEGORY: dict[str, FailureCategory] = {
    "INVALID_INVENTORY_ITEM": FailureCategory.UNKNOWN_LISTING,
    "ITEM_NOT_STOCKED_AT_LOCATION": FailureCategory.UNKNOWN_LISTING,
    "INVALID_LOCATION": FailureCategory.VALIDATION,
    "INVALID_QUANTITY_NEGATIVE": FailureCategory.VALIDATION,
    "INVALID_QUANTITY_TOO_HIGH": FailureCategory.VALIDATION,
    "INVALID_QUANTITY_TOO_LOW": FailureCategory.VALIDATION,
    "NON_MUTABLE_INVENTORY_ITEM": FailureCategory.VALIDATION,
    "INVALID_NAME": FailureCategory.VALIDATION,
    "INVALID_REASON": FailureCategory.VALIDATION,
    "INVALID_REFERENCE_DOCUMENT": FailureCategory.VALIDATION,
    "COMPARE_QUANTITY_REQUIRED": FailureCategory.VALIDATION,
    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR": FailureCategory.VALIDATION,
}
_RETRY_LATER_CODES = ("IDEMPOTENCY_CONCURRENT_REQUEST",)


class GraphQLReply(Confirmation):
    """A GraphQL reply: `data`, or `errors` (a failed query, handled as such); one with
    neither confirms nothing. Subclasses state what a successful `data` must hold."""

    data: dict[str, Any] | None = None
    errors: Any = None

    @model_validator(mode="after")
    def _answers(self) -> GraphQLReply:
        if self.errors:
            return self
        if self.data is None:
            raise ValueError("neither data nor errors")
        problem = self.missing(self.data)
        if problem:
            raise ValueError(problem)
        return self

    @staticmethod
    def missing(data: Mapping[str, Any]) -> str | None:
        """What a successful `data` lacks, or None."""
        return None


class SetReply(GraphQLReply):
    """inventorySetQuantities: its payload with `userErrors` (and the adjustment group,
    null when nothing was applied) is what says whether the set happened."""

    @staticmethod
    def missing(data: Mapping[str, Any]) -> str | None:
        outcome = data.get("inventorySetQuantities")
        if not isinstance(outcome, Mapping) or not isinstance(outcome.get("userErrors"), list):
            return "data.inventorySetQuantities.userErrors missing"
        if "inventoryAdjustmentGroup" not in outcome:
            return "data.inventorySetQuantities.inventoryAdjustmentGroup missing"
        return None


class NodesReply(GraphQLReply):
    @staticmethod
    def missing(data: Mapping[str, Any]) -> str | None:
        return None if isinstance(data.get("nodes"), list) else "data.nodes missing"


class ActivateReply(GraphQLReply):
    """One aliased `inventoryActivate` field per row (a0, a1, ...), each checked by `_activated`."""


def to_gid(kind_prefix: str, value: str | None) -> str | None:
    """`"12"` or `"gid://shopify/InventoryItem/12"` -> the GID; anything else -> None."""
    if not value:
        return None
    value = value.strip()
    if value.startswith(kind_prefix) and value[len(kind_prefix):].isdigit():
        return value
    return kind_prefix + value if value.isdigit() else None


def throttle_check(response: requests.Response) -> None:
    """Raise Transient on Shopify's throttled-in-200 reply, with the documented wait."""
    payload = reply_json(response, None)
    if not isinstance(payload, Mapping):
        return
    errors = payload.get("errors")
    if not isinstance(errors, list):
        return
    throttled = any(
        isinstance(e, Mapping)
        and isinstance(e.get("extensions"), Mapping)
        and e["extensions"].get("code") == "THROTTLED"
        for e in errors
    )
    if not throttled:
        return
    wait = 1.0
    cost = (payload.get("extensions") or {}).get("cost") if isinstance(payload.get("extensions"), Mapping) else None
    if isinstance(cost, Mapping):
        status = cost.get("throttleStatus") or {}
        try:
            missing = float(cost.get("requestedQueryCost", 0)) - float(status.get("currentlyAvailable", 0))
            wait = max(0.0, missing / max(1.0, float(status.get("restoreRate", 50))))
        except (TypeError, ValueError):
            pass
    raise Transient("Shopify: Throttled", wait)


@dataclass
class _Row:
    update: StockUpdate
    item_gid: str
    compare: int | None


class ShopifyAdapter(MarketplaceAdapter):
    marketplace: ClassVar[str] = "shopify"
    batch_limit: ClassVar[int] = 100  # rows per mutation: undocumented maximum, stay modest
    # Standard plan: 100 cost points/s restore, 2000 bucket; a set costs ~10 points.
    rate_per_s: ClassVar[float] = 10.0
    burst: ClassVar[int] = 20
    default_zero_stock: ClassVar[ZeroStockAction] = ZeroStockAction.PUSH_ZERO
    required_keys: ClassVar[tuple[str, ...]] = ("access_token", "location_id")
    secret_keys: ClassVar[tuple[str, ...]] = ("access_token",)

    def _configure(self) -> None:
        self.api_version = self.settings.get("api_version") or DEFAULT_API_VERSION
        location = to_gid(LOCATION_GID, self.settings["location_id"])
        if location is None:
            raise ValueError(
                f"channel {self.channel_code!r} (shopify): location_id must be a number or "
                f"{LOCATION_GID}<n>, got {self.settings['location_id']!r}"
            )
        self.location_gid = location
        activate = str(self.settings.get("activate_at_location") or "true").strip().lower()
        if activate not in ("true", "false"):
            raise ValueError(
                f"channel {self.channel_code!r} (shopify): activate_at_location must be "
                f'"true" or "false", got {self.settings.get("activate_at_location")!r}'
            )
        self.activate_at_location = activate == "true"
        self.url = f"{self.base_url}/admin/api/{self.api_version}/graphql.json"
        # The version whose syntax we write: what Shopify will serve for the configured one,
        # then whatever its replies say they were served with.
        self.served_version = served_for(self.api_version, self._today())
        self._check_version()
        # Shopify access tokens do not refresh: a 401 is retried once, then reported.
        self._auth = StaticAuth({"X-Shopify-Access-Token": self.settings["access_token"]})

    # -- API version -------------------------------------------------------------------

    def _today(self) -> date:
        return datetime.fromtimestamp(self.clock.now(), UTC).date()

    def _check_version(self) -> None:
        """Warn about the configured version: retired, retiring within WARN_DAYS, or not the
        one Shopify serves; clear the warning when none holds."""
        today = self._today()
        until = supported_until(self.api_version)
        advice = f"set api_version to a supported one (e.g. {NEWEST_KNOWN})"
        if until is not None and today >= until:
            message = (f"Shopify API version {self.api_version} was retired on {until.isoformat()}; "
                       f"Shopify answers with {self.served_version} and the bridge follows it; {advice}")
        elif self.served_version != self.api_version:
            message = (f"Shopify serves API version {self.served_version} for the configured "
                       f"{self.api_version}; the bridge follows {self.served_version}; {advice}")
        elif until is not None and (until - today).days <= WARN_DAYS:
            message = (f"Shopify API version {self.api_version} is supported until {until.isoformat()} "
                       f"({(until - today).days} days); {advice}")
        else:
            self._clear_warning("api_version")
            return
        self._warn("api_version", message)

    def _follow_served(self, response: requests.Response) -> bool:
        """Adopt the version Shopify says answered; True when it changed."""
        served = (response.headers.get(VERSION_HEADER) or "").strip()
        if not served or served == self.served_version:
            return False
        self.served_version = served
        self._check_version()
        return True

    # -- GraphQL plumbing --------------------------------------------------------------

    def _graphql(
        self, query: str, variables: Mapping[str, Any], confirm: type[GraphQLReply]
    ) -> Mapping[str, Any]:
        """One GraphQL call whose 2xx must be a valid `confirm` reply; `errors` (other than
        throttling, which is retried) fail the whole request."""
        reply = self.session.exchange(
            "POST",
            self.url,
            confirm=expect(confirm),
            auth=self._auth,
            check=throttle_check,
            json={"query": query, "variables": variables},
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        response = reply.response
        self._follow_served(response)
        payload = reply.body.model_dump(mode="json", exclude_unset=True) if reply.body is not None else None
        if payload is None:
            raise BatchFailed(
                FailureCategory.AUTH if response.status_code == 403 else FailureCategory.OTHER,
                self.session.redact(f"HTTP {response.status_code}: {response.text[:300]}"),
            )
        errors = payload.get("errors")
        if errors:
            text = "; ".join(
                str(e.get("message", e)) if isinstance(e, Mapping) else str(e)
                for e in (errors if isinstance(errors, list) else [errors])
            )
            raise BatchFailed(FailureCategory.OTHER, self.session.redact(text[:500]))
        return payload

    def set_request(self, rows: Sequence[tuple[str, int, int | None]]) -> dict[str, Any]:
        """The GraphQL body setting `available` for (item GID, quantity, compare) rows, in
        the syntax of the version Shopify serves."""
        change_from = uses_change_from(self.served_version)
        quantities = []
        for item_gid, quantity, compare in rows:
            row: dict[str, Any] = {
                "inventoryItemId": item_gid,
                "locationId": self.location_gid,
                "quantity": quantity,
            }
            row["changeFromQuantity" if change_from else "compareQuantity"] = compare
            quantities.append(row)
        return {
            "query": SET_MUTATION % self._idempotent(),
            "variables": {
                "input": {
                    "name": "available",
                    "reason": "correction",
                    "referenceDocumentUri": f"gid://stock-bridge/Channel/{self.channel_code}",
                    "quantities": quantities,
                }
            },
        }

    def _idempotent(self) -> str:
        """The `@idempotent` directive (inventorySetQuantities, inventoryActivate) where the
        served version has it: a fresh key per mutation field, kept by the session's retries
        of that same body, so a retried request is applied once."""
        return f' @idempotent(key: "{uuid.uuid4()}")' if needs_idempotency_key(self.served_version) else ""

    def activate_request(self, rows: Sequence[tuple[str, int]]) -> dict[str, Any]:
        """The GraphQL body activating (item GID, available) rows at our location, one aliased
        `inventoryActivate` field per row (`a0`, `a1`, ...)."""
        params = ["$locationId: ID!"]
        fields = []
        variables: dict[str, Any] = {"locationId": self.location_gid}
        for n, (item_gid, available) in enumerate(rows):
            params.append(f"$item{n}: ID!, $available{n}: Int")
            # inventoryActivate's reference: "As of version 2026-01, this mutation supports an
            # optional idempotency key ... As of version 2026-04, the idempotency key is required".
            fields.append(ACTIVATE_FIELD % {"n": n, "directive": self._idempotent()})
            variables[f"item{n}"] = item_gid
            variables[f"available{n}"] = available
        query = "mutation StockBridgeActivate(%s) {\n%s\n}" % (", ".join(params), "\n".join(fields))
        return {"query": query, "variables": variables}

    def _read_available(self, item_gids: Sequence[str]) -> dict[str, Mapping[str, Any] | None]:
        """item GID -> {"available": n, ...} at our location, or None (unknown / not stocked)."""
        payload = self._graphql(READ_QUERY, {"ids": list(item_gids), "locationId": self.location_gid}, NodesReply)
        nodes = (payload.get("data") or {}).get("nodes") or []
        found: dict[str, Mapping[str, Any] | None] = {gid: None for gid in item_gids}
        for node in nodes:
            if not isinstance(node, Mapping) or node.get("id") not in found:
                continue
            level = node.get("inventoryLevel")
            if not isinstance(level, Mapping):
                found[node["id"]] = {"stocked": False, "sku": node.get("sku")}
                continue
            values: dict[str, Any] = {"stocked": True, "sku": node.get("sku"), "tracked": node.get("tracked")}
            for quantity in level.get("quantities") or []:
                if isinstance(quantity, Mapping):
                    values[str(quantity.get("name"))] = quantity.get("quantity")
            found[node["id"]] = values
        return found

    # -- push --------------------------------------------------------------------------

    def _push_batch(self, batch: list[StockUpdate]) -> list[PushResult]:
        self._check_version()  # the bridge runs for months: a version ages while it does
        results: dict[int, PushResult] = {}
        rows: list[_Row] = []
        for update in batch:
            gid = to_gid(ITEM_GID, update.external_id)
            if gid is None:
                results[update.listing_id] = PushResult.failed(
                    update,
                    FailureCategory.UNKNOWN_LISTING,
                    f"listing {update.sku!r} has no inventory item id "
                    f"(external_id {update.external_id!r}; want {ITEM_GID}<n>)",
                )
            else:
                rows.append(_Row(update, gid, update.expected_quantity))
        if rows:
            try:
                self._set_rows(rows, results)
            except GAVE_UP as exc:
                # Rows settled before the request gave up keep their own result.
                for row in rows:
                    results.setdefault(row.update.listing_id, gave_up(row.update, exc))
        return [results[u.listing_id] for u in batch if u.listing_id in results]

    def _refresh_compare(
        self, rows: list[_Row], results: dict[int, PushResult], not_stocked: list[_Row]
    ) -> list[_Row]:
        """Fill in the compare value from a fresh read; rows Shopify does not know fail here,
        rows it knows but does not stock at our location go to `not_stocked`."""
        current = self._read_available([r.item_gid for r in rows])
        kept = []
        for row in rows:
            values = current.get(row.item_gid)
            if values is None:
                results[row.update.listing_id] = PushResult.failed(
                    row.update, FailureCategory.UNKNOWN_LISTING, f"inventory item {row.item_gid} not found"
                )
            elif not values.get("stocked"):
                not_stocked.append(row)
            else:
                available = values.get("available")
                row.compare = available if isinstance(available, int) else 0
                kept.append(row)
        return kept

    def _set_rows(self, rows: list[_Row], results: dict[int, PushResult]) -> None:
        pending = rows
        unknown = [r for r in pending if r.compare is None]
        if unknown:
            known = [r for r in pending if r.compare is not None]
            not_stocked: list[_Row] = []
            pending = known + self._refresh_compare(unknown, results, not_stocked)
            self._not_stocked(not_stocked, results)
        for _round in range(CAS_ROUNDS):
            if not pending:
                return
            payload = self._set(pending)
            outcome = ((payload.get("data") or {}).get("inventorySetQuantities")) or {}
            applied = outcome.get("inventoryAdjustmentGroup") is not None
            errors_by_row: dict[int, list[Mapping[str, Any]]] = {}
            global_errors: list[Mapping[str, Any]] = []
            for error in outcome.get("userErrors") or []:
                index = _row_index(error)
                if index is None or index >= len(pending):
                    global_errors.append(error)
                else:
                    errors_by_row.setdefault(index, []).append(error)
            stale: list[_Row] = []
            retry_again: list[_Row] = []
            activate: list[_Row] = []
            for index, row in enumerate(pending):
                row_errors = errors_by_row.get(index) or global_errors
                if not row_errors:
                    if applied:
                        results[row.update.listing_id] = PushResult(
                            row.update.listing_id, Outcome.OK, applied_quantity=max(0, row.update.quantity)
                        )
                    else:
                        # Shopify applies a set all-or-nothing: an error elsewhere in the
                        # batch held this row back, so it goes out again next round.
                        retry_again.append(row)
                    continue
                codes = {str(e.get("code")) for e in row_errors}
                message = self.session.redact("; ".join(str(e.get("message", "")) for e in row_errors))
                if codes & set(_STALE):
                    stale.append(row)
                elif codes & set(_RETRY_LATER_CODES):
                    retry_again.append(row)
                elif codes == {NOT_STOCKED} and index in errors_by_row and self.activate_at_location:
                    activate.append(row)
                else:
                    code = next(iter(sorted(codes)))
                    hint = f"; {self._activation_hint()}" if code == NOT_STOCKED else ""
                    results[row.update.listing_id] = PushResult.failed(
                        row.update, _CATEGORY.get(code, FailureCategory.OTHER), f"{code}: {message}{hint}"
                    )
            if stale:
                self._settle_stale(stale, results)
            if activate:
                self._not_stocked(activate, results)
            pending = retry_again
        for row in pending:
            results[row.update.listing_id] = PushResult.retry(
                row.update,
                f"Shopify held back the set for {row.item_gid} {CAS_ROUNDS} times "
                "(other rows' errors or a concurrent request); trying again later",
                self.clock.now() + 5.0,
            )

    def _set(self, rows: Sequence[_Row]) -> Mapping[str, Any]:
        """One inventorySetQuantities; refused as a whole (GraphQL errors) by a version other
        than the one it was written for, it is rebuilt for the served version once."""
        for attempt in (1, 2):
            written_for = self.served_version
            body = self.set_request([(r.item_gid, max(0, r.update.quantity), r.compare) for r in rows])
            try:
                return self._graphql(body["query"], body["variables"], SetReply)
            except BatchFailed:
                if attempt == 2 or self.served_version == written_for:
                    raise
        raise AssertionError("unreachable")

    def _settle_stale(self, stale: list[_Row], results: dict[int, PushResult]) -> None:
        """Stale rows: report what Shopify holds now and retry soon; never re-send the value
        computed before the marketplace changed (it may predate a sale the ERP lacks)."""
        compared = {row.update.listing_id: row.compare for row in stale}
        gone: list[_Row] = []
        kept = self._refresh_compare(stale, results, gone)
        for row in gone:
            # Shopify stocked it a moment ago: whatever was sold there predates our value,
            # so it is not sent again (not even through an activation) before a fresh ERP read.
            results[row.update.listing_id] = PushResult.retry(
                row.update,
                f"inventory item {row.item_gid} is no longer stocked at {self.location_gid} "
                "(deactivated meanwhile); recompute from a fresh ERP read",
                self.clock.now() + STALE_RETRY_S,
            )
        for row in kept:
            results[row.update.listing_id] = PushResult(
                row.update.listing_id,
                Outcome.RETRY,
                message=(
                    f"the marketplace changed under us: Shopify holds {row.compare} for "
                    f"{row.item_gid}, not the {compared[row.update.listing_id]} we compared "
                    "with; recompute from a fresh ERP read"
                ),
                retry_at=self.clock.now() + STALE_RETRY_S,
                applied_quantity=row.compare,
            )

    def _not_stocked(self, rows: list[_Row], results: dict[int, PushResult]) -> None:
        """Rows whose item Shopify does not stock at our location: activate them there with
        the wanted quantity, or fail them when the channel opted out."""
        if not rows:
            return
        if not self.activate_at_location:
            for row in rows:
                results[row.update.listing_id] = PushResult.failed(
                    row.update,
                    FailureCategory.UNKNOWN_LISTING,
                    f"{NOT_STOCKED}: inventory item {row.item_gid} is not stocked at "
                    f"{self.location_gid}; {self._activation_hint()}",
                )
            return
        for start in range(0, len(rows), ACTIVATE_PER_REQUEST):
            chunk = rows[start : start + ACTIVATE_PER_REQUEST]
            body = self.activate_request([(r.item_gid, max(0, r.update.quantity)) for r in chunk])
            payload = self._graphql(body["query"], body["variables"], ActivateReply)
            data = payload.get("data") or {}
            for n, row in enumerate(chunk):
                outcome = data.get(f"a{n}") if isinstance(data, Mapping) else None
                results[row.update.listing_id] = self._activated(row, outcome)

    def _activation_hint(self) -> str:
        return (
            f'set activate_at_location = "true" on channel {self.channel_code!r} to let the '
            "bridge activate the item there (inventoryActivate)"
        )

    def _activated(self, row: _Row, outcome: Any) -> PushResult:
        """The result of one `inventoryActivate` field."""
        wanted = max(0, row.update.quantity)
        outcome = outcome if isinstance(outcome, Mapping) else {}
        errors = [e for e in outcome.get("userErrors") or [] if isinstance(e, Mapping)]
        if errors:
            detail = "; ".join(
                f"{'.'.join(str(p) for p in (e.get('field') or [])) or '-'}: {e.get('message', '')}"
                for e in errors
            )
            on_item = any("inventoryItemId" in (e.get("field") or []) for e in errors)
            return PushResult.failed(
                row.update,
                FailureCategory.UNKNOWN_LISTING if on_item else FailureCategory.VALIDATION,
                self.session.redact(
                    f"inventoryActivate refused {row.item_gid} at {self.location_gid}: {detail}"
                ),
            )
        level = outcome.get("inventoryLevel")
        if not isinstance(level, Mapping):
            # No level and no error: nothing says the item was activated with our number.
            return unconfirmed(
                row.update,
                f"inventoryActivate returned no inventory level for {row.item_gid} at {self.location_gid}",
                self.clock.now(),
            )
        available = next(
            (q.get("quantity") for q in level.get("quantities") or []
             if isinstance(q, Mapping) and q.get("name") == "available"),
            None,
        )
        if not isinstance(available, int):
            return unconfirmed(row.update, f"inventoryActivate did not say what {row.item_gid} holds now",
                               self.clock.now())
        if available != wanted:
            # Already stocked there (activated meanwhile): Shopify kept its own number.
            return PushResult(
                row.update.listing_id,
                Outcome.RETRY,
                message=(
                    f"{row.item_gid} was already stocked at {self.location_gid} with {available} "
                    f"available, not set to {wanted}; recompute from a fresh ERP read"
                ),
                retry_at=self.clock.now() + STALE_RETRY_S,
                applied_quantity=available,
            )
        return PushResult(row.update.listing_id, Outcome.OK, applied_quantity=wanted)

    # -- read back ---------------------------------------------------------------------

    def read(self, skus: Sequence[tuple[str, str | None]]) -> list[RemoteListing]:
        """`available` (plus on_hand/committed in raw) of each inventory item at our location."""
        gids = [to_gid(ITEM_GID, e) for _, e in skus]
        wanted = sorted({g for g in gids if g})
        current: dict[str, Mapping[str, Any] | None] = {}
        for start in range(0, len(wanted), self.batch_limit):
            current.update(self._read_available(wanted[start : start + self.batch_limit]))
        listings = []
        for (sku, _), gid in zip(skus, gids, strict=True):
            values = current.get(gid) if gid else None
            if not values or not values.get("stocked"):
                listings.append(RemoteListing(sku=sku, quantity=None, found=False, raw=dict(values or {})))
                continue
            available = values.get("available")
            listings.append(
                RemoteListing(
                    sku=sku,
                    quantity=available if isinstance(available, int) else None,
                    active=True,
                    raw=dict(values),
                )
            )
        return listings


def _row_index(error: Mapping[str, Any]) -> int | None:
    """`field: ["input", "quantities", "3", "compareQuantity"]` -> 3."""
    field = error.get("field")
    if not isinstance(field, list):
        return None
    for position, part in enumerate(field):
        if part == "quantities" and position + 1 < len(field):
            try:
                return int(field[position + 1])
            except (TypeError, ValueError):
                return None
    return None

