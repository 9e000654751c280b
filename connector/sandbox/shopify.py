"""Shopify Admin GraphQL (inventory), as served here: a real GraphQL executor over the
subset of the Admin schema that stock sync touches.

- POST /admin/api/{version}/graphql.json, header X-Shopify-Access-Token
- mutation inventorySetQuantities(input: {name, reason, quantities: [{inventoryItemId,
  locationId, quantity, compareQuantity | changeFromQuantity}], ignoreCompareQuantity})
  -> userErrors COMPARE_QUANTITY_STALE / CHANGE_FROM_QUANTITY_STALE / INVALID_INVENTORY_ITEM ...
  (all-or-nothing). ``changeFromQuantity`` exists from 2026-01; from 2026-04 it is required
  and ``compareQuantity`` is gone.
- mutation inventoryActivate(inventoryItemId, locationId, available, onHand) -> {inventoryLevel,
  userErrors: [UserError {field message}]} (the 2025-01 schema's shape: no code). The sandbox
  keeps one location per listing: activating it at another known location moves it there
  with `available` (0 when not given; from 2026-04 the quantity is kept, as Shopify now
  does); at its own location it answers the level unchanged (unverified: third-party code
  says Shopify does the same). Unknown item -> field ["inventoryItemId"], unknown location
  (not the account's `location_id`, its `locations`, or any listing's) -> ["locationId"].
- query inventoryItem(id) { inventoryLevel(locationId) { quantities(names) } }, inventoryLevel(id)
Versions ("About Shopify API versioning"): stable versions YYYY-01/04/07/10, each supported
12 months from its release; a request to a version past that is answered by the oldest
supported stable version, and every reply names the version that answered in
``X-Shopify-API-Version``. The sandbox's "today" is the real date, or the account's
``today`` (YYYY-MM-DD) to try other dates. From 2026-04, inventorySetQuantities and
inventoryActivate without ``@idempotent`` are refused ("calling these mutations without an
idempotency directive will result in an error at runtime").
Throttle: cost-based bucket (1000 points, 50/s restore); over it -> HTTP 200 with
``errors[{message: "Throttled", extensions: {code: "THROTTLED"}}]`` and extensions.cost.
Listing: sku = variant SKU, external_id = InventoryItem GID; location from extra or account
(seed `location_id` on a listing to have it stocked elsewhere than the account's location).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from typing import Any

import graphql
from werkzeug.wrappers import Response

from connector.sandbox.api import Call, MarketplaceApi, json_response
from connector.sandbox.core import Listing

SDL = """
directive @idempotent(key: String!) on FIELD
interface Node { id: ID! }
type Query {
  nodes(ids: [ID!]!): [Node]!
  node(id: ID!): Node
  inventoryItem(id: ID!): InventoryItem
  inventoryLevel(id: ID!): InventoryLevel
  location(id: ID): Location
}
type Mutation {
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
  inventoryActivate(inventoryItemId: ID!, locationId: ID!, available: Int, onHand: Int,
                    stockAtLegacyLocation: Boolean = false): InventoryActivatePayload
}
type InventoryActivatePayload { inventoryLevel: InventoryLevel  userErrors: [UserError!]! }
type UserError { field: [String!]  message: String! }
input InventorySetQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  quantities: [InventoryQuantityInput!]!
  ignoreCompareQuantity: Boolean
}
input InventoryQuantityInput {
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
  compareQuantity: Int
  changeFromQuantity: Int
}
type InventorySetQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventorySetQuantitiesUserError!]!
}
type InventoryAdjustmentGroup {
  id: ID!
  reason: String!
  referenceDocumentUri: String
  changes: [InventoryChange!]!
}
type InventoryChange { name: String!  delta: Int!  quantityAfterChange: Int  item: InventoryItem  location: Location }
type InventorySetQuantitiesUserError { code: String  field: [String!]  message: String! }
type InventoryItem implements Node {
  id: ID!
  sku: String
  tracked: Boolean!
  inventoryLevel(locationId: ID!): InventoryLevel
  inventoryLevels(first: Int): InventoryLevelConnection!
}
type InventoryLevelConnection { nodes: [InventoryLevel!]!  edges: [InventoryLevelEdge!]! }
type InventoryLevelEdge { node: InventoryLevel!  cursor: String! }
type InventoryLevel implements Node {
  id: ID!
  quantities(names: [String!]!): [InventoryQuantity!]!
  location: Location!
  item: InventoryItem!
}
type InventoryQuantity { id: ID  name: String!  quantity: Int! }
type Location implements Node { id: ID!  name: String! }
"""
SCHEMA = graphql.build_schema(SDL)
MAX_POINTS, RESTORE_PER_S = 1000.0, 50.0
MUTATION_COST, QUERY_COST = 10, 2
DEFAULT_LOCATION = "gid://shopify/Location/1"
SETTABLE = ("available", "on_hand")


class _CostBucket:
    def __init__(self) -> None:
        self.available, self.stamp = MAX_POINTS, time.monotonic()
        self.lock = threading.Lock()

    def take(self, cost: float) -> tuple[bool, float]:
        with self.lock:
            now = time.monotonic()
            self.available = min(MAX_POINTS, self.available + (now - self.stamp) * RESTORE_PER_S)
            self.stamp = now
            if self.available < cost:
                return False, self.available
            self.available -= cost
            return True, self.available


# Parsing and validating a document cost ~5 ms, most of this sandbox's time per Shopify
# request; the adapters send the same few query texts over and over. Both are pure
# functions of the text (the schema never changes), so each text is parsed and
# validated once. Executing a shared document is safe: graphql-core never mutates it.
@functools.lru_cache(maxsize=256)
def _parsed(query: str) -> graphql.DocumentNode | graphql.GraphQLError:
    """The parsed document, or the syntax error to answer with."""
    try:
        return graphql.parse(query)
    except graphql.GraphQLError as exc:
        return exc


@functools.lru_cache(maxsize=256)
def _invalid(query: str) -> tuple[graphql.GraphQLError, ...]:
    """The validation errors of a query that parses (see _parsed)."""
    document = _parsed(query)
    assert not isinstance(document, graphql.GraphQLError)
    return tuple(graphql.validate(SCHEMA, document))


def _cost(requested: int, available: float, actual: int | None = None) -> dict[str, Any]:
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                     "throttleStatus": {"maximumAvailable": MAX_POINTS, "currentlyAvailable": int(available),
                                        "restoreRate": RESTORE_PER_S}}}


class Shopify(MarketplaceApi):
    name = "shopify"
    rate = None  # cost-based, see _CostBucket
    routes = [("POST", r"/admin/api/(?P<version>[^/]+)/graphql\.json", "graphql", False)]

    def __init__(self) -> None:
        self._buckets: dict[int, _CostBucket] = {}

    def throttled(self, call: Call, retry_after: float) -> Response:
        return json_response({"errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": _cost(MUTATION_COST, 0)})

    def failure(self, call: Call, status: int, message: str) -> Response:
        return json_response({"errors": message}, status)

    def is_read(self, call: Call) -> bool:
        """One endpoint for everything: a query reads, a mutation writes."""
        body = call.json()
        query = body.get("query") if isinstance(body, dict) else None
        return isinstance(query, str) and not query.lstrip().startswith("mutation")

    def graphql(self, call: Call) -> Response:
        token = call.header("X-Shopify-Access-Token")
        with call.market.lock:
            found = call.market.account_where(access_token=token) if token else None
        if found is None:
            return json_response({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, 401)
        body = call.json()
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return json_response({"errors": [{"message": "Parameter Missing or Invalid"}]}, 400)
        document = _parsed(body["query"])
        if isinstance(document, graphql.GraphQLError):
            return json_response({"errors": [document.formatted]})
        is_mutation = any(isinstance(d, graphql.OperationDefinitionNode) and d.operation.value == "mutation"
                          for d in document.definitions)
        cost = MUTATION_COST if is_mutation else QUERY_COST
        bucket = self._buckets.setdefault(id(call.market), _CostBucket())
        ok, left = bucket.take(cost)
        if not ok:
            return json_response({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                                  "extensions": _cost(cost, left)})
        errors = _invalid(body["query"])
        if errors:
            return json_response({"errors": [e.formatted for e in errors], "extensions": _cost(cost, left)})
        version = _answering_version(call.params["version"], found[1])
        headers = {"X-Shopify-API-Version": version}
        missing_key = _mutations_without_key(document) if version >= "2026-04" else []
        if missing_key:
            return json_response({"errors": [{"message": f"The @idempotent directive is required for {name} "
                                                         f"in {version}", "extensions": {"code": "BAD_REQUEST"}}
                                             for name in missing_key]}, headers=headers)
        context = {"call": call, "account": found[1], "version": version}
        result = graphql.execute_sync(SCHEMA, document, root_value=_Root(), context_value=context,
                                 variable_values=body.get("variables") or {},
                                 operation_name=body.get("operationName"))
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        payload["extensions"] = _cost(cost, left, cost)
        return json_response(payload, headers=headers)


def _answering_version(asked: str, account: dict[str, Any]) -> str:
    """The version that answers a request to `asked`: itself while supported (or when it
    is not a stable name, e.g. "unstable"), else the oldest stable version still supported."""
    today = dt.date.fromisoformat(str(account["today"])) if account.get("today") else dt.date.today()
    parts = asked.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or parts[1] not in ("01", "04", "07", "10"):
        return asked
    year, month = int(parts[0]), int(parts[1])
    if today < dt.date(year + 1, month, 1):
        return asked
    stable = [dt.date(y, m, 1) for y in (today.year - 1, today.year) for m in (1, 4, 7, 10)]
    oldest = min(d for d in stable if d <= today and today < dt.date(d.year + 1, d.month, 1))
    return f"{oldest.year}-{oldest.month:02d}"


_NEEDS_KEY = ("inventorySetQuantities", "inventoryActivate", "inventoryAdjustQuantities", "inventoryMoveQuantities")


def _mutations_without_key(document: graphql.DocumentNode) -> list[str]:
    missing = []
    for definition in document.definitions:
        if not isinstance(definition, graphql.OperationDefinitionNode) or definition.operation.value != "mutation":
            continue
        for selection in definition.selection_set.selections:
            if isinstance(selection, graphql.FieldNode) and selection.name.value in _NEEDS_KEY:
                if not any(d.name.value == "idempotent" for d in selection.directives or ()):
                    missing.append(selection.name.value)
    return missing


def _location_of(listing: Listing, account: dict[str, Any]) -> str:
    return str(listing.extra.get("location_id") or account.get("location_id") or DEFAULT_LOCATION)


def _level(listing: Listing, location: str) -> dict[str, Any]:
    item_number = (listing.external_id or "").rsplit("/", 1)[-1]
    location_number = location.rsplit("/", 1)[-1]

    def quantities(info: graphql.GraphQLResolveInfo, names: list[str]) -> list[dict[str, Any]]:
        values = {"available": listing.quantity, "on_hand": listing.quantity + int(listing.extra.get("committed", 0)),
                  "committed": int(listing.extra.get("committed", 0))}
        return [{"id": None, "name": n, "quantity": values.get(n, 0)} for n in names]

    return {
        "__typename": "InventoryLevel",
        "id": f"gid://shopify/InventoryLevel/{item_number}?inventory_item_id={item_number}&location_id={location_number}",
        "quantities": quantities, "location": {"__typename": "Location", "id": location, "name": "Sandbox warehouse"},
        "item": lambda info: _item(listing, location),
    }


def _item(listing: Listing, location: str) -> dict[str, Any]:
    def level(info: graphql.GraphQLResolveInfo, locationId: str) -> dict[str, Any] | None:  # noqa: N803
        return _level(listing, location) if locationId == location else None

    return {"__typename": "InventoryItem", "id": listing.external_id, "sku": listing.sku, "tracked": True,
            "inventoryLevel": level,
            "inventoryLevels": lambda info, first=None: {
                "nodes": [_level(listing, location)],
                "edges": [{"node": _level(listing, location), "cursor": "c1"}]}}


class _Root:
    """Resolvers of Query and Mutation (graphql-core calls attributes with info + args)."""

    def inventoryItem(self, info: graphql.GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: N802,A002
        call: Call = info.context["call"]
        with call.market.lock:
            listing = call.market.find(external_id=id)
            return None if listing is None else _item(listing, _location_of(listing, info.context["account"]))

    def nodes(self, info: graphql.GraphQLResolveInfo, ids: list[str]) -> list[dict[str, Any] | None]:
        return [self.node(info, node_id) for node_id in ids]

    def node(self, info: graphql.GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002
        if id.startswith("gid://shopify/InventoryItem/"):
            return self.inventoryItem(info, id)
        if id.startswith("gid://shopify/InventoryLevel/"):
            return self.inventoryLevel(info, id)
        return None

    def inventoryLevel(self, info: graphql.GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: N802,A002
        call: Call = info.context["call"]
        item = id.split("inventory_item_id=")[-1].split("&")[0]
        with call.market.lock:
            listing = call.market.find(external_id=f"gid://shopify/InventoryItem/{item}")
            return None if listing is None else _level(listing, _location_of(listing, info.context["account"]))

    def location(self, info: graphql.GraphQLResolveInfo, id: str | None = None) -> dict[str, Any]:  # noqa: A002
        return {"id": id or info.context["account"].get("location_id") or DEFAULT_LOCATION, "name": "Sandbox warehouse"}

    def inventoryActivate(  # noqa: N802
        self, info: graphql.GraphQLResolveInfo, inventoryItemId: str, locationId: str,  # noqa: N803
        available: int | None = None, onHand: int | None = None,  # noqa: N803
        stockAtLegacyLocation: bool = False,  # noqa: N803
    ) -> dict[str, Any]:
        call: Call = info.context["call"]
        account: dict[str, Any] = info.context["account"]
        call.items += 1
        with call.market.lock:
            listing = call.market.find(external_id=str(inventoryItemId))
            if listing is None:
                return {"inventoryLevel": None, "userErrors": [
                    {"field": ["inventoryItemId"], "message": "Inventory item does not exist"}]}
            known = {str(account.get("location_id") or DEFAULT_LOCATION), *map(str, account.get("locations") or ())}
            known.update(_location_of(other, account) for other in call.market.listings.values())
            if str(locationId) not in known:
                return {"inventoryLevel": None, "userErrors": [
                    {"field": ["locationId"], "message": "Location does not exist"}]}
            if _location_of(listing, account) != locationId:
                committed = int(listing.extra.get("committed", 0))
                if available is not None:
                    listing.quantity = available
                elif onHand is not None:
                    listing.quantity = onHand - committed
                elif info.context["version"] < "2026-04":
                    listing.quantity = 0
                listing.extra["location_id"] = str(locationId)
            return {"inventoryLevel": _level(listing, str(locationId)), "userErrors": []}

    def inventorySetQuantities(self, info: graphql.GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802,A002
        call: Call = info.context["call"]
        version: str = info.context["version"]
        rows: list[dict[str, Any]] = input["quantities"]
        call.items = len(rows)
        errors: list[dict[str, Any]] = []

        def err(code: str, index: int | None, field: str, message: str) -> None:
            path = ["input", field] if index is None else ["input", "quantities", str(index), field]
            errors.append({"code": code, "field": path, "message": message})

        if input["name"] not in SETTABLE:
            err("INVALID_NAME", None, "name", "The quantity name must be either 'available' or 'on_hand'.")
        if input["reason"] not in ("correction", "cycle_count_available", "damaged", "movement_created",
                                   "movement_updated", "movement_received", "movement_canceled", "other",
                                   "promotion", "quality_control", "received", "reservation_created",
                                   "reservation_deleted", "reservation_updated", "restock", "safety_stock",
                                   "shrinkage"):
            err("INVALID_REASON", None, "reason", "The specified reason is invalid.")
        with call.market.lock:
            targets: list[tuple[Listing, dict[str, Any]]] = []
            for index, row in enumerate(rows):
                if version >= "2026-04" and "changeFromQuantity" not in row:
                    err("CHANGE_FROM_QUANTITY_REQUIRED", index, "changeFromQuantity",
                        "changeFromQuantity is required (use null to skip the check).")
                    continue
                if version < "2026-01" and "changeFromQuantity" in row:
                    raise graphql.GraphQLError(f"InventoryQuantityInput has no field changeFromQuantity in {version}")
                if version >= "2026-04" and "compareQuantity" in row:
                    raise graphql.GraphQLError(f"InventoryQuantityInput has no field compareQuantity in {version}")
                listing = call.market.find(external_id=str(row["inventoryItemId"]))
                if listing is None:
                    err("INVALID_INVENTORY_ITEM", index, "inventoryItemId", "The specified inventory item could not be found.")
                    continue
                if str(row["locationId"]) != _location_of(listing, info.context["account"]):
                    err("ITEM_NOT_STOCKED_AT_LOCATION", index, "locationId",
                        "The specified inventory item is not stocked at the location.")
                    continue
                if row["quantity"] < 0:
                    err("INVALID_QUANTITY_NEGATIVE", index, "quantity", "The quantity can't be negative.")
                    continue
                if row["quantity"] > 1_000_000_000:
                    err("INVALID_QUANTITY_TOO_HIGH", index, "quantity", "The quantity can't be higher than 1,000,000,000.")
                    continue
                if row.get("changeFromQuantity") is not None and row["changeFromQuantity"] != listing.quantity:
                    err("CHANGE_FROM_QUANTITY_STALE", index, "changeFromQuantity",
                        "The specified changeFromQuantity no longer matches the persisted quantity.")
                    continue
                if (not input.get("ignoreCompareQuantity") and row.get("compareQuantity") is not None
                        and row["compareQuantity"] != listing.quantity):
                    err("COMPARE_QUANTITY_STALE", index, "compareQuantity",
                        "The compareQuantity argument no longer matches the persisted quantity.")
                    continue
                targets.append((listing, row))
            if errors:  # the mutation is all-or-nothing
                return {"inventoryAdjustmentGroup": None, "userErrors": errors}
            changes = []
            for listing, row in targets:
                delta = row["quantity"] - listing.quantity
                listing.quantity = row["quantity"]
                location = _location_of(listing, info.context["account"])
                changes.append({"name": input["name"], "delta": delta, "quantityAfterChange": listing.quantity,
                                "item": _item(listing, location), "location": {"id": location, "name": "Sandbox warehouse"}})
            group_id = f"gid://shopify/InventoryAdjustmentGroup/{call.market.next_id()}"
        return {"inventoryAdjustmentGroup": {"id": group_id, "reason": input["reason"],
                                             "referenceDocumentUri": input.get("referenceDocumentUri"), "changes": changes},
                "userErrors": []}
