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


# the addon's SQL constraint unique(code) and its message (marketplace_channel.py)
CHANNEL_CODE_UNIQUE = ("The channel code must be unique across all companies: the bridge keys "
                       "each shop's credentials by it.")


def _check_channel(env: Env, ids: list[int], vals: dict[str, Any] | None = None) -> None:
    table = env.store.table("marketplace.channel")
    for cid in ids:
        code = table[cid].get("code")
        if any(other != cid and row.get("code") == code for other, row in table.items()):
            # what Odoo's RPC layer makes of a unique violation (odoo/service/model.py,
            # _as_validation_error): a ValidationError naming the constraint's message
            raise ValidationError(f"The operation cannot be completed: {CHANNEL_CODE_UNIQUE}")


def _check_listing(env: Env, ids: list[int], vals: dict[str, Any] | None = None) -> None:
    for lid in ids:
        row = env.row("marketplace.listing", lid)
        if (row.get("pack_size") or 0) < 1:
            raise ValidationError("The pack size must be at least 1.")
        if (row.get("max_qty") or 0) < 0:
            raise ValidationError("The maximum quantity cannot be negative.")


on_create("marketplace.channel")(_check_channel)
on_write("marketplace.channel")(_check_channel)
on_create("marketplace.listing")(_check_listing)
on_write("marketplace.listing")(_check_listing)


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
