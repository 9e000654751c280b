"""The addon's marketplace.* behaviour: configuration changes that write outbox events.

`action_resync` on a listing or a channel and `action_marketplace_resync` on products
write "manual" events for the products concerned, so the bridge re-reads and re-pushes
them. So do, as in the addon, create/write/unlink of an allocation, create of a listing
and writes of a listing's or a channel's publishing fields (never the bridge's sync
status fields), and `allocation_edges` for allocations whose start or end passed.
Usage (over RPC)::

    execute_kw(db, uid, pw, "marketplace.channel", "action_resync", [[channel_id]])
    execute_kw(db, uid, pw, "marketplace.allocation", "create", [{...}])  # events too
"""

from __future__ import annotations

from typing import Any

from connector.mock_erp import security
from connector.mock_erp.errors import ValidationError
from connector.mock_erp.events import emit
from connector.mock_erp.orm import (
    Env,
    Recordset,
    before_unlink,
    method,
    on_create,
    on_write,
    write_records,
)

# As addons/marketplace_stock_sync/models: the fields whose change alters what a listing
# or every listing of a channel publishes. The sync status fields are not here: the
# bridge writes them after every push, and an event for them would loop.
LISTING_PUBLISHING_FIELDS = frozenset({"channel_id", "product_id", "channel_sku", "external_id",
                                       "buffer_override", "buffer_qty", "max_qty", "pack_size", "active"})
CHANNEL_PUBLISHING_FIELDS = frozenset({"active", "company_id", "warehouse_ids", "excluded_location_ids",
                                       "buffer_qty", "max_qty", "zero_stock_action"})


@method(models=["marketplace.listing"])
def action_resync(rs: Recordset) -> bool:
    for row in rs.rows():
        emit(rs.env, row["product_id"], "manual")
    return True


# As the addon's BRIDGE_WRITABLE_FIELDS: what `report_sync_status` may set.
SYNC_STATUS_FIELDS = frozenset({"sync_state", "last_pushed_qty", "last_sync_at", "last_error"})


@method(models=["marketplace.listing"], api_model=True)
def report_sync_status(rs: Recordset, statuses: list[Any]) -> list[int]:
    """The addon's one-call status write-back: equal values are written together, through
    `write` (so its checks apply), deleted listings skipped; returns the ids written."""
    env = rs.env
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for status in statuses:
        if not isinstance(status, dict) or "id" not in status:
            raise ValidationError("Each status needs the listing's id.")
        vals = {key: value for key, value in status.items() if key != "id"}
        unknown = sorted(set(vals) - SYNC_STATUS_FIELDS)
        if unknown:
            raise ValidationError(
                f"Only sync status fields can be reported, not: {', '.join(unknown)}")
        groups.setdefault(tuple(sorted(vals.items())), []).append(int(status["id"]))
    written: list[int] = []
    for key, ids in groups.items():
        present = [lid for lid in ids if env.store.row("marketplace.listing", lid) is not None]
        if present:
            security.check_rules(env, "marketplace.listing", present, "write")
            write_records(env, "marketplace.listing", present, dict(key))
            written.extend(present)
    return written


@method("action_resync", models=["marketplace.channel"])
def channel_action_resync(rs: Recordset) -> bool:
    env = rs.env
    index = env.store.index("marketplace.listing", "channel_id") or {}
    table = env.store.table("marketplace.listing")
    products = sorted({table[lid]["product_id"] for cid in rs.ids for lid in index.get(cid, ())
                       if table[lid].get("active", True)})
    for cid in rs.ids:
        env.row("marketplace.channel", cid)
    for pid in products:
        emit(env, pid, "manual")
    return True


@method(models=["product.product"])
def action_marketplace_resync(rs: Recordset) -> bool:
    for row in rs.rows():
        emit(rs.env, row["id"], "manual")
    return True


# The addon's _sql_constraints, as (test the row passes, message). What Odoo's RPC layer
# makes of a violated one (odoo/service/model.py, _as_validation_error): a ValidationError
# "The operation cannot be completed: <message>".
SQL_CHECKS: dict[str, list[tuple[Any, str]]] = {
    "marketplace.channel": [
        (lambda r: (r.get("buffer_qty") or 0.0) >= 0, "The buffer cannot be negative."),
        (lambda r: (r.get("max_qty") or 0.0) >= 0, "The cap cannot be negative."),
    ],
    "marketplace.listing": [
        (lambda r: (r.get("pack_size") or 0) >= 1, "The pack size must be at least 1."),
        (lambda r: (r.get("max_qty") or 0.0) >= 0, "The cap cannot be negative."),
        (lambda r: (r.get("buffer_qty") or 0.0) >= 0, "The buffer cannot be negative."),
    ],
    "marketplace.allocation": [
        (lambda r: (r.get("quantity") or 0.0) >= 0, "The quantity cannot be negative."),
        (lambda r: not (r.get("date_start") and r.get("date_end")) or r["date_start"] < r["date_end"],
         "The allocation must end after it starts."),
    ],
}
# unique(...) constraints: model -> (the fields, message)
SQL_UNIQUE: dict[str, tuple[tuple[str, ...], str]] = {
    "marketplace.channel": (("code",), "The channel code must be unique across all companies: the "
                                       "bridge keys each shop's credentials by it."),
    "marketplace.listing": (("channel_id", "channel_sku"), "A channel SKU can only be listed once per channel."),
}
CHANNEL_CODE_UNIQUE = SQL_UNIQUE["marketplace.channel"][1]


def _sql_constraints(model: str) -> Any:
    def check(env: Env, ids: list[int], vals: dict[str, Any] | None = None) -> None:
        for rid in ids:
            row = env.row(model, rid)
            for passes, message in SQL_CHECKS.get(model, []):
                if not passes(row):
                    raise ValidationError(f"The operation cannot be completed: {message}")
        unique = SQL_UNIQUE.get(model)
        if unique is not None and (vals is None or not set(unique[0]).isdisjoint(vals)):
            # one pass over the table, not one per record (fixtures create thousands at once)
            seen: set[tuple[Any, ...]] = set()
            for row in env.store.table(model).values():
                key = tuple(row.get(f) for f in unique[0])
                if key in seen:
                    raise ValidationError(f"The operation cannot be completed: {unique[1]}")
                seen.add(key)
        if model == "marketplace.listing" and (vals is None or not {"channel_id", "product_id"}.isdisjoint(vals)):
            _check_product_company(env, ids)
    return check


def _check_product_company(env: Env, ids: list[int]) -> None:
    """The addon's @api.constrains _check_product_company (a plain ValidationError)."""
    sudo = env.with_context(_sudo=True)
    for lid in ids:
        row = env.row("marketplace.listing", lid)
        product = env.row("product.product", row["product_id"])
        company = sudo.value("product.product", product, "company_id")
        channel = env.row("marketplace.channel", row["channel_id"])
        if company and company != channel.get("company_id"):
            raise ValidationError(
                f"Product {sudo.display_name('product.product', product)} belongs to another company than "
                f"channel {sudo.display_name('marketplace.channel', channel)}.")


for _model in ("marketplace.channel", "marketplace.listing", "marketplace.allocation"):
    on_create(_model)(_sql_constraints(_model))
    on_write(_model)(_sql_constraints(_model))


@on_write("marketplace.listing", before=True)
def _listing_write_guard(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    security.check_listing_write(env, vals)


@on_create("res.company")
def _company_created(env: Env, ids: list[int], vals: dict[str, Any] | None = None) -> None:
    """res.company.create: the user who makes a company is allowed in it (Odoo 17+)."""
    if env.context.get("_fixture_load"):
        return
    user = env.store.row("res.users", env.uid)
    if user is not None:
        env.store.update("res.users", env.uid, {"company_ids": [*(user.get("company_ids") or []), *ids]})


# -- configuration changes -> manual events -------------------------------------------------
def _emit_manual(env: Env, products: set[int]) -> None:
    if env.context.get("_fixture_load"):
        return  # loading the demo database is no change anyone must hear about
    for pid in sorted(p for p in products if p):
        emit(env, pid, "manual")


def _products_of(env: Env, model: str, ids: list[int]) -> set[int]:
    return {env.row(model, rid)["product_id"] for rid in ids}


def channel_products(env: Env, ids: list[int]) -> set[int]:
    """Products of the channels' active listings and of their allocations."""
    store = env.store
    listings, allocations = store.table("marketplace.listing"), store.table("marketplace.allocation")
    by_listing = store.index("marketplace.listing", "channel_id") or {}
    by_allocation = store.index("marketplace.allocation", "channel_id") or {}
    found: set[int] = set()
    for cid in ids:
        found.update(listings[lid]["product_id"] for lid in by_listing.get(cid, ())
                     if listings[lid].get("active", True))
        found.update(allocations[aid]["product_id"] for aid in by_allocation.get(cid, ()))
    return found


@on_create("marketplace.allocation")
def _allocation_created(env: Env, ids: list[int], vals: dict[str, Any] | None = None) -> None:
    _emit_manual(env, _products_of(env, "marketplace.allocation", ids))


@on_write("marketplace.allocation", before=True)
def _allocation_before_write(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    # the old product too: an allocation moved to another product frees the first one's units
    _emit_manual(env, _products_of(env, "marketplace.allocation", ids))


@on_write("marketplace.allocation")
def _allocation_written(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    _emit_manual(env, _products_of(env, "marketplace.allocation", ids))


@before_unlink("marketplace.allocation")
def _allocation_unlinked(env: Env, ids: list[int]) -> None:
    _emit_manual(env, _products_of(env, "marketplace.allocation", ids))


@on_create("marketplace.listing")
def _listing_created(env: Env, ids: list[int], vals: dict[str, Any] | None = None) -> None:
    _emit_manual(env, _products_of(env, "marketplace.listing", ids))


@on_write("marketplace.listing", before=True)
def _listing_before_write(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    if not LISTING_PUBLISHING_FIELDS.isdisjoint(vals):
        _emit_manual(env, _products_of(env, "marketplace.listing", ids))


@on_write("marketplace.listing")
def _listing_written(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    if not LISTING_PUBLISHING_FIELDS.isdisjoint(vals):
        _emit_manual(env, _products_of(env, "marketplace.listing", ids))


@on_write("marketplace.channel")
def _channel_written(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    if not CHANNEL_PUBLISHING_FIELDS.isdisjoint(vals):
        _emit_manual(env, channel_products(env, ids))


@before_unlink("marketplace.channel")
def _channel_unlinked(env: Env, ids: list[int]) -> None:
    _emit_manual(env, channel_products(env, ids))


def allocation_edges(env: Env, after: str, until: str) -> list[int]:
    """Manual events for products whose allocation started or ended in (after, until].

    Time passing writes nothing, so the addon's cron does this every minute; the mock does
    it lazily before each RPC call (MockDatabase.check_allocation_edges). Datetimes are
    Odoo strings ("2025-06-01 12:00:00", UTC). Usage::

        allocation_edges(env, "2025-06-01 11:59:00", "2025-06-01 12:00:00")  # -> [product ids]
    """
    crossed: set[int] = set()
    for row in env.store.table("marketplace.allocation").values():
        for edge in (row.get("date_start"), row.get("date_end")):
            if edge and after < edge <= until:
                crossed.add(row["product_id"])
    _emit_manual(env, crossed)
    return sorted(crossed)
