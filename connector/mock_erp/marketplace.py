"""The addon's marketplace.* behaviour: manual resync actions that write outbox events.

`action_resync` on a listing or a channel and `action_marketplace_resync` on products
write "manual" events for the products concerned, so the bridge re-reads and re-pushes
them. Usage (over RPC)::

    execute_kw(db, uid, pw, "marketplace.channel", "action_resync", [[channel_id]])
"""

from __future__ import annotations

from typing import Any

from connector.mock_erp.errors import ValidationError
from connector.mock_erp.events import emit
from connector.mock_erp.orm import Env, Recordset, method, on_create, on_write


@method(models=["marketplace.listing"])
def action_resync(rs: Recordset) -> bool:
    for row in rs.rows():
        emit(rs.env, row["product_id"], "manual")
    return True


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


def _check_channel(env: Env, ids: list[int], vals: dict[str, Any] | None = None) -> None:
    table = env.store.table("marketplace.channel")
    for cid in ids:
        code = table[cid].get("code")
        if any(other != cid and row.get("code") == code for other, row in table.items()):
            raise ValidationError(f"The channel code must be unique: {code!r} is already used.")


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
