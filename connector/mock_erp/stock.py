"""Stock behaviour: computed fields and the flows a client drives through public methods.

Like Odoo's stock module, every quantity change goes through a few narrow helpers
(`_move_quantity`, `_reserve`, `_unreserve`) and every flow that changes free stock
writes `marketplace.stock.event` rows in the same transaction (one per product and
reason per call; `events.emit`). Flows: pickings (`action_confirm`, `action_assign`,
`button_validate`, `do_unreserve`, `action_cancel`), returns (`stock.return.picking`),
inventory adjustments (`inventory_quantity` + `action_apply_inventory`).
Usage (over RPC)::

    picking.action_confirm(); picking.action_assign(); picking.button_validate()
"""

from __future__ import annotations

from typing import Any

from connector.mock_erp.errors import UserError
from connector.mock_erp.events import emit
from connector.mock_erp.orm import (
    Env,
    Recordset,
    before_create,
    create_records,
    method,
    now_str,
    on_create,
    on_write,
    write_records,
)
from connector.mock_erp.schema import ModelDef

Row = dict[str, Any]
EPS = 1e-9


# -- computed fields ----------------------------------------------------------------------
def install_computes(schema: dict[str, ModelDef]) -> None:
    """Attach the getters of non-stored fields (and display names) to a series' schema."""
    quant = schema["stock.quant"].fields
    quant["available_quantity"].compute = lambda env, r: r.get("quantity", 0.0) - r.get("reserved_quantity", 0.0)
    quant["company_id"].compute = _quant_company
    prod_of = lambda env, r: env.store.row("product.product", r.get("product_id") or 0) or {}  # noqa: E731
    quant["product_tmpl_id"].compute = lambda env, r: prod_of(env, r).get("product_tmpl_id") or False
    quant["product_uom_id"].compute = lambda env, r: _tmpl(env, prod_of(env, r)).get("uom_id") or 1
    quant["product_categ_id"].compute = lambda env, r: False  # the mock has no product categories
    quant["warehouse_id"].compute = lambda env, r: _location_warehouse(
        env, env.store.row("stock.location", r.get("location_id") or 0) or {})
    quant["tracking"].compute = lambda env, r: "none"  # the mock tracks no lots
    quant["on_hand"].compute = lambda env, r: _is_internal(env, r.get("location_id") or 0)
    for name in ("is_outdated", "is_favorite", "sn_duplicated", "lot_properties", "storage_category_id",
                 "last_count_date"):
        quant[name].compute = lambda env, r: False
    quant["cyclic_inventory_frequency"].compute = lambda env, r: 0
    schema["stock.location"].fields["warehouse_id"].compute = _location_warehouse
    prod = schema["product.product"].fields
    prod["name"].compute = lambda env, r: _tmpl(env, r).get("name") or False
    prod["type"].compute = lambda env, r: _tmpl(env, r).get("type") or False
    prod["uom_id"].compute = lambda env, r: _tmpl(env, r).get("uom_id") or 1
    prod["company_id"].compute = lambda env, r: _tmpl(env, r).get("company_id") or False
    if "is_storable" in prod:
        prod["is_storable"].compute = lambda env, r: bool(_tmpl(env, r).get("is_storable"))
    prod["qty_available"].compute = lambda env, r: _product_qty(env, r["id"], "quantity")
    prod["free_qty"].compute = lambda env, r: _product_qty(env, r["id"], "free")
    prod["virtual_available"].compute = lambda env, r: _product_qty(env, r["id"], "quantity")
    schema["product.product"].display = _product_display
    schema["stock.picking"].fields["picking_type_code"].compute = lambda env, r: (
        (env.store.row("stock.picking.type", r.get("picking_type_id") or 0) or {}).get("code", False))
    schema["stock.quant"].display = lambda env, r: (
        f"{env.display_name('stock.location', env.row('stock.location', r['location_id']))} - "
        f"{_product_display(env, env.row('product.product', r['product_id']))}")
    schema["stock.move"].display = lambda env, r: r.get("reference") or _product_display(
        env, env.row("product.product", r["product_id"]))


def _tmpl(env: Env, row: Row) -> Row:
    return env.store.row("product.template", row.get("product_tmpl_id") or 0) or {}


def _product_display(env: Env, row: Row) -> str:
    name = _tmpl(env, row).get("name") or ""
    if row.get("variant"):
        name = f"{name} ({row['variant']})"
    code = row.get("default_code")
    return f"[{code}] {name}" if code else name


def _quant_company(env: Env, row: Row) -> Any:
    loc = env.store.row("stock.location", row.get("location_id") or 0) or {}
    return loc.get("company_id") or False


def _location_warehouse(env: Env, row: Row) -> Any:
    path = [int(p) for p in (row.get("parent_path") or "").split("/") if p]
    views = {w.get("view_location_id"): wid for wid, w in env.store.table("stock.warehouse").items()}
    for loc_id in reversed(path):
        if loc_id in views:
            return views[loc_id]
    return False


def _internal_ids(env: Env) -> set[int]:
    company_ids = set(env.row("res.users", env.uid).get("company_ids") or []) or {1}
    return {lid for lid, loc in env.store.table("stock.location").items()
            if loc.get("usage") == "internal" and (loc.get("company_id") in company_ids or not loc.get("company_id"))}


def _product_qty(env: Env, product_id: int, what: str) -> float:
    internal = _internal_ids(env)
    index = env.store.index("stock.quant", "product_id") or {}
    table = env.store.table("stock.quant")
    total = 0.0
    for qid in index.get(product_id, ()):
        q = table[qid]
        if q["location_id"] in internal:
            total += q.get("quantity", 0.0) - (q.get("reserved_quantity", 0.0) if what == "free" else 0.0)
    return total


@on_create("product.template")
def _template_created(env: Env, ids: list[int]) -> None:
    """product.template.create makes its one variant (no attributes in the mock), carrying the
    template's code and barcode as Odoo's inverses do. Fixtures name their variants."""
    if env.context.get("_fixture_load"):
        return
    for tid in ids:
        tmpl = env.row("product.template", tid)
        create_records(env, "product.product", [{
            "product_tmpl_id": tid, "default_code": tmpl.get("default_code") or False,
            "barcode": tmpl.get("barcode") or False, "active": tmpl.get("active", True)}])


# -- location hierarchy (stored complete_name / parent_path, like Odoo) -----------------------
@on_create("stock.location")
def _location_created(env: Env, ids: list[int]) -> None:
    _recompute_locations(env, ids)


@on_write("stock.location")
def _location_written(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    if "location_id" in vals or "name" in vals:
        _recompute_locations(env, list(env.descendants("stock.location", ids)))


def _recompute_locations(env: Env, ids: list[int]) -> None:
    table = env.store.table("stock.location")
    for rid in sorted(ids, key=lambda i: _depth(table, i)):
        row = table[rid]
        parent = table.get(row.get("location_id") or 0)
        if parent is not None and parent.get("parent_path") is None:
            _recompute_locations(env, [parent["id"]])
        path = f"{parent['parent_path'] if parent else ''}{rid}/"
        # stock.location._compute_complete_name: views and roots show their own name only
        if parent is not None and row.get("usage") != "view":
            complete = f"{parent['complete_name']}/{row['name']}"
        else:
            complete = row["name"]
        if row.get("parent_path") != path or row.get("complete_name") != complete:
            env.store.update("stock.location", rid, {"parent_path": path, "complete_name": complete})


def _depth(table: dict[int, Row], rid: int) -> int:
    depth, seen = 0, set()
    while rid in table and rid not in seen:
        seen.add(rid)
        rid = table[rid].get("location_id") or 0
        depth += 1
    return depth


# -- quants ----------------------------------------------------------------------------------
def _quant_key(row: Row) -> tuple[Any, ...]:
    return (row.get("product_id"), row.get("location_id"), row.get("lot_id") or False,
            row.get("package_id") or False, row.get("owner_id") or False)


def find_quant(env: Env, product_id: int, location_id: int) -> int | None:
    """The plain quant (no lot/package/owner) of a product at one location."""
    table = env.store.table("stock.quant")
    for qid in (env.store.index("stock.quant", "product_id") or {}).get(product_id, ()):
        q = table[qid]
        if q["location_id"] == location_id and not (q.get("lot_id") or q.get("package_id") or q.get("owner_id")):
            return qid
    return None


def _add_quantity(env: Env, product_id: int, location_id: int, qty: float) -> None:
    """stock.quant._update_available_quantity for the plain quant of (product, location)."""
    qid = find_quant(env, product_id, location_id)
    if qid is None:
        env.store.insert("stock.quant", {
            "product_id": product_id, "location_id": location_id, "lot_id": False, "package_id": False,
            "owner_id": False, "quantity": qty, "reserved_quantity": 0.0, "inventory_quantity": 0.0,
            # stored at creation and not recomputed when moves change the quantity (Odoo 18)
            "inventory_diff_quantity": -qty, "inventory_quantity_set": False, "in_date": now_str(), "create_date": now_str(),
            "write_date": now_str(), "create_uid": env.uid, "write_uid": env.uid,
        })
        return
    q = env.row("stock.quant", qid)
    env.store.update("stock.quant", qid, {"quantity": q.get("quantity", 0.0) + qty, "write_date": now_str()})


def _is_internal(env: Env, location_id: int) -> bool:
    return (env.store.row("stock.location", location_id) or {}).get("usage") in ("internal", "transit")


def _storable(env: Env, product_id: int) -> bool:
    tmpl = _tmpl(env, env.store.row("product.product", product_id) or {})
    return bool(tmpl.get("is_storable")) if env.major >= 18 else tmpl.get("type") == "product"


def _relevant(env: Env, move: Row) -> bool:
    """The addon's _marketplace_relevant: a storable product's move touching stock."""
    return _storable(env, move["product_id"]) and (
        _is_internal(env, move["location_id"]) or _is_internal(env, move["location_dest_id"]))


# -- pickings & moves ----------------------------------------------------------------------------
@on_create("stock.picking")
def _picking_created(env: Env, ids: list[int]) -> None:
    for pid in ids:
        p = env.row("stock.picking", pid)
        ptype = env.row("stock.picking.type", p["picking_type_id"])
        vals: Row = {}
        if not p.get("location_id"):
            vals["location_id"] = ptype.get("default_location_src_id") or False
        if not p.get("location_dest_id"):
            vals["location_dest_id"] = ptype.get("default_location_dest_id") or False
        if not p.get("name"):
            wh = env.store.row("stock.warehouse", ptype.get("warehouse_id") or 0) or {}
            prefix = f"{wh.get('code', 'WH')}/{ptype.get('sequence_code', 'MOV')}/"
            seq = 1 + sum(1 for r in env.store.table("stock.picking").values()
                          if str(r.get("name") or "").startswith(prefix))
            vals["name"] = f"{prefix}{seq:05d}"
        vals["company_id"] = ptype.get("company_id") or 1
        if not p.get("scheduled_date"):
            vals["scheduled_date"] = now_str()
        env.store.update("stock.picking", pid, vals)
        for mid in env.value("stock.picking", env.row("stock.picking", pid), "move_ids"):
            _sync_move_from_picking(env, mid)


@before_create("stock.move")
def _move_defaults(env: Env, row: Row) -> None:
    """17+ compute a move's locations from its picking (precompute); the mock does it for all."""
    picking = env.store.row("stock.picking", row.get("picking_id") or 0)
    if picking is None:
        return
    ptype = env.store.row("stock.picking.type", picking.get("picking_type_id") or 0) or {}
    if not row.get("location_id"):
        row["location_id"] = picking.get("location_id") or ptype.get("default_location_src_id") or False
    if not row.get("location_dest_id"):
        row["location_dest_id"] = picking.get("location_dest_id") or ptype.get("default_location_dest_id") or False


@on_create("stock.move")
def _move_created(env: Env, ids: list[int]) -> None:
    for mid in ids:
        _sync_move_from_picking(env, mid)


def _sync_move_from_picking(env: Env, mid: int) -> None:
    m = env.row("stock.move", mid)
    vals: Row = {}
    if m.get("picking_id"):
        p = env.row("stock.picking", m["picking_id"])
        if p.get("location_id") and not m.get("location_id"):
            vals["location_id"] = p["location_id"]
        if p.get("location_dest_id") and not m.get("location_dest_id"):
            vals["location_dest_id"] = p["location_dest_id"]
        vals["picking_type_id"] = p.get("picking_type_id") or False
        vals["reference"] = p.get("name") or False
        if p.get("state") not in (None, False, "draft") and m.get("state") == "draft":
            vals["state"] = "confirmed"
    if not m.get("reference") and "reference" not in vals:
        vals["reference"] = m.get("name") or False
    if "_reserved" not in m:
        vals["_reserved"] = []
    if vals:
        env.store.update("stock.move", mid, vals)


def _done_qty_field(env: Env) -> str:
    return "quantity_done" if env.major < 17 else "quantity"


def _moves(env: Env, picking_ids: list[int]) -> list[int]:
    index = env.store.index("stock.move", "picking_id") or {}
    return sorted(mid for pid in picking_ids for mid in index.get(pid, ()))


def _set_picking_state(env: Env, pid: int) -> None:
    states = [env.row("stock.move", mid)["state"] for mid in _moves(env, [pid])]
    if not states:
        state = "draft"
    elif all(s == "cancel" for s in states):
        state = "cancel"
    elif all(s in ("done", "cancel") for s in states):
        state = "done"
    elif any(s == "draft" for s in states):
        state = "draft"
    elif any(s in ("assigned", "partially_available") for s in states):
        state = "assigned"
    else:
        state = "confirmed"
    env.store.update("stock.picking", pid, {"state": state})


def _confirm(env: Env, picking_ids: list[int]) -> None:
    for pid in picking_ids:
        p = env.row("stock.picking", pid)
        if p["state"] in ("done", "cancel"):
            continue
        for mid in _moves(env, [pid]):
            if env.row("stock.move", mid)["state"] == "draft":
                env.store.update("stock.move", mid, {"state": "confirmed"})
        _set_picking_state(env, pid)


@method(models=["stock.picking"])
def action_confirm(rs: Recordset) -> bool:
    """Confirm, then reserve at once (picking types reserve "at confirmation" by default)."""
    _confirm(rs.env, rs.ids)
    _assign(rs.env, rs.ids)
    return True


def _reserve_move(env: Env, mid: int) -> float:
    """stock.move._action_assign for one move: reserve from quants under its source."""
    m = env.row("stock.move", mid)
    if m["state"] not in ("confirmed", "partially_available", "waiting"):
        return 0.0
    demand = m.get("product_uom_qty") or 0.0
    reserved_list: list[list[Any]] = [list(x) for x in (m.get("_reserved") or [])]
    already = sum(q for _, q in reserved_list)
    qty_field = "reserved_availability" if env.major < 17 else "quantity"
    if not _is_internal(env, m["location_id"]):
        # receipts and inventory moves are available at once (no quant to reserve)
        vals: Row = {"state": "assigned", qty_field: demand}
        env.store.update("stock.move", mid, vals)
        return 0.0
    need = demand - already
    taken = 0.0
    if need > EPS:
        locations = env.descendants("stock.location", [m["location_id"]])
        table = env.store.table("stock.quant")
        quant_ids = sorted(
            (qid for qid in (env.store.index("stock.quant", "product_id") or {}).get(m["product_id"], ())
             if table[qid]["location_id"] in locations and not table[qid].get("owner_id")),
            key=lambda qid: (table[qid].get("in_date") or "", qid),
        )
        for qid in quant_ids:
            q = table[qid]
            free = q.get("quantity", 0.0) - q.get("reserved_quantity", 0.0)
            if free <= EPS:
                continue
            take = min(free, need - taken)
            env.store.update("stock.quant", qid, {"reserved_quantity": q.get("reserved_quantity", 0.0) + take})
            reserved_list.append([qid, take])
            taken += take
            if need - taken <= EPS:
                break
    total = already + taken
    state = "assigned" if total >= demand - EPS else ("partially_available" if total > EPS else "confirmed")
    env.store.update("stock.move", mid, {"_reserved": reserved_list, "state": state, qty_field: total})
    return taken


def _release_move(env: Env, mid: int) -> float:
    m = env.row("stock.move", mid)
    released = 0.0
    for qid, qty in m.get("_reserved") or []:
        q = env.store.row("stock.quant", qid)
        if q is not None:
            env.store.update("stock.quant", qid, {"reserved_quantity": max(0.0, q.get("reserved_quantity", 0.0) - qty)})
            released += qty
    vals: Row = {"_reserved": []}
    if env.major < 17:
        vals["reserved_availability"] = 0.0
    elif m["state"] not in ("done",):
        vals["quantity"] = 0.0
    env.store.update("stock.move", mid, vals)
    return released


@method(models=["stock.picking"])
def action_assign(rs: Recordset) -> bool:
    env = rs.env
    _confirm(env, [pid for pid in rs.ids if env.row("stock.picking", pid)["state"] == "draft"])
    _assign(env, rs.ids)
    return True


def _assign(env: Env, pids: list[int]) -> None:
    for pid in pids:
        for mid in _moves(env, [pid]):
            m = env.row("stock.move", mid)
            if _reserve_move(env, mid) > EPS and _relevant(env, m):
                emit(env, m["product_id"], "reservation", mid)
        _set_picking_state(env, pid)


@method(models=["stock.picking"])
def do_unreserve(rs: Recordset) -> None:
    env = rs.env
    for pid in rs.ids:
        for mid in _moves(env, [pid]):
            m = env.row("stock.move", mid)
            if m["state"] in ("done", "cancel"):
                continue
            _release_move(env, mid)
            # the addon's _do_unreserve: "reservation" for every move it unreserves from stock
            if _is_internal(env, m["location_id"]) and _relevant(env, m):
                emit(env, m["product_id"], "reservation", mid)
            env.store.update("stock.move", mid, {"state": "confirmed"})
        _set_picking_state(env, pid)
    return None  # as Odoo 18's stock.picking.do_unreserve (XML-RPC: fault 1, see server.py)


@method(models=["stock.picking"])
def action_cancel(rs: Recordset) -> bool:
    env = rs.env
    for pid in rs.ids:
        for mid in _moves(env, [pid]):
            m = env.row("stock.move", mid)
            if m["state"] in ("done", "cancel"):
                continue
            _release_move(env, mid)
            # stock.move._action_cancel unreserves every move it cancels, and the addon's
            # _do_unreserve records "reservation" for those taking from stock
            if _is_internal(env, m["location_id"]) and _relevant(env, m):
                emit(env, m["product_id"], "reservation", mid)
            env.store.update("stock.move", mid, {"state": "cancel"})
            # the addon's _action_cancel: "cancel" for every move it cancels
            if _relevant(env, m):
                emit(env, m["product_id"], "cancel", mid)
        _set_picking_state(env, pid)
    return True


def _without_quantities_message(env: Env) -> str:
    # stock_picking.py _get_without_quantities_error_message, per series
    if env.major <= 16:
        return ("You cannot validate a transfer if no quantities are reserved nor done. "
                "To force the transfer, switch in edit mode and encode the done quantities.")
    if env.major in (17, 18):
        return "You cannot validate a transfer if no quantities are reserved. To force the transfer, encode quantities."
    return ("Transfer trouble alert! Validating a zero quantity transfer? You're not moving invisible goods "
            "around are you?\nSet some quantities and let's get moving!")


def _wizard_action(name: str, res_model: str, pids: list[int], env: Env) -> Row:
    return {
        "name": name, "type": "ir.actions.act_window", "view_mode": "form", "res_model": res_model,
        "views": [[False, "form"]], "view_id": False, "target": "new",
        "context": {**env.context, "button_validate_picking_ids": pids, "default_pick_ids": [[4, p] for p in pids],
                    **({"default_show_transfers": False} if res_model == "stock.backorder.confirmation" else {})},
    }


@method(models=["stock.picking"])
def button_validate(rs: Recordset) -> Any:
    env = rs.env
    pids = [pid for pid in rs.ids if env.row("stock.picking", pid)["state"] not in ("done", "cancel")]
    drafts = [pid for pid in pids if env.row("stock.picking", pid)["state"] == "draft"]
    _confirm(env, drafts)
    _assign(env, drafts)
    done_field = _done_qty_field(env)
    plan: dict[int, float] = {}
    for pid in pids:
        moves = [env.row("stock.move", mid) for mid in _moves(env, [pid])]
        moves = [m for m in moves if m["state"] not in ("done", "cancel")]
        if not moves:
            raise UserError("Please add some items to move.")
        if env.major < 17:
            done = {m["id"]: m.get("quantity_done") or 0.0 for m in moves}
            if not any(q > EPS for q in done.values()):
                reserved = {m["id"]: m.get("reserved_availability") or 0.0 for m in moves}
                if not any(q > EPS for q in reserved.values()):
                    raise UserError(_without_quantities_message(env))
                if not env.context.get("skip_immediate"):
                    return _wizard_action("Immediate Transfer?", "stock.immediate.transfer", pids, env)
                done = reserved
        else:
            done = {m["id"]: m.get("quantity") or 0.0 for m in moves}
            if not any(q > EPS for q in done.values()):
                raise UserError(_without_quantities_message(env))
        short = any(done[m["id"]] < (m.get("product_uom_qty") or 0.0) - EPS for m in moves)
        if short and not env.context.get("skip_backorder"):
            return _wizard_action("Create Backorder?", "stock.backorder.confirmation", pids, env)
        plan.update(done)
    for pid in pids:
        if env.context.get("_create_backorder"):
            _make_backorder(env, pid, plan)
        _done_picking(env, pid, plan, done_field)
    return True


def _make_backorder(env: Env, pid: int, plan: dict[int, float]) -> None:
    """What was not done moves to a new picking (backorder_id = the original)."""
    picking = env.row("stock.picking", pid)
    remaining = []
    for mid in _moves(env, [pid]):
        m = env.row("stock.move", mid)
        rest = (m.get("product_uom_qty") or 0.0) - plan.get(mid, 0.0)
        if m["state"] not in ("done", "cancel") and rest > EPS:
            remaining.append((0, 0, {"product_id": m["product_id"], "product_uom_qty": rest,
                                     "location_id": m["location_id"], "location_dest_id": m["location_dest_id"]}))
            if plan.get(mid, 0.0) > EPS:
                env.store.update("stock.move", mid, {"product_uom_qty": plan[mid]})
    if remaining:
        new = create_records(env, "stock.picking", [{
            "picking_type_id": picking["picking_type_id"], "location_id": picking["location_id"],
            "location_dest_id": picking["location_dest_id"], "origin": picking.get("origin") or False,
            "partner_id": picking.get("partner_id") or False, "backorder_id": pid, "move_ids": remaining}])
        _confirm(env, new)


def _wizard_pickings(rs: Recordset) -> list[int]:
    ids: list[int] = []
    for row in rs.rows():
        ids.extend(row.get("pick_ids") or [])
    return ids or list(rs.env.context.get("button_validate_picking_ids") or [])


@method("process", models=["stock.immediate.transfer"], max_version=16)
def immediate_process(rs: Recordset) -> Any:
    """16.0: use the reserved quantities as done quantities, then validate."""
    env = rs.env
    pids = _wizard_pickings(rs)
    for mid in _moves(env, pids):
        m = env.row("stock.move", mid)
        if m["state"] not in ("done", "cancel") and not m.get("quantity_done"):
            env.store.update("stock.move", mid, {"quantity_done": m.get("reserved_availability") or 0.0})
    return button_validate(env.with_context(skip_immediate=True).rs("stock.picking", pids))


@method("process", models=["stock.backorder.confirmation"])
def backorder_process(rs: Recordset) -> Any:
    env = rs.env.with_context(skip_backorder=True, skip_immediate=True, _create_backorder=True)
    return button_validate(env.rs("stock.picking", _wizard_pickings(rs)))


@method("process_cancel_backorder", models=["stock.backorder.confirmation"])
def backorder_cancel(rs: Recordset) -> Any:
    env = rs.env.with_context(skip_backorder=True, skip_immediate=True)
    return button_validate(env.rs("stock.picking", _wizard_pickings(rs)))


def _done_picking(env: Env, pid: int, plan: dict[int, float], done_field: str) -> None:
    p = env.row("stock.picking", pid)
    ptype = env.row("stock.picking.type", p["picking_type_id"])
    stamp = now_str()
    for mid in _moves(env, [pid]):
        m = env.row("stock.move", mid)
        if m["state"] in ("done", "cancel"):
            continue
        qty = plan.get(mid, 0.0)
        if qty <= EPS:
            _release_move(env, mid)
            env.store.update("stock.move", mid, {"state": "cancel"})
            continue
        _move_quantity(env, mid, qty)
        env.store.update("stock.move", mid, {"state": "done", done_field: qty, "date": stamp,
                                             **({"picked": True} if env.major >= 17 else {})})
        if not _relevant(env, m):
            continue
        # the addon's _marketplace_done_reason
        if m.get("origin_returned_move_id"):
            reason = "return"
        elif not _is_internal(env, m["location_id"]) and _is_internal(env, m["location_dest_id"]):
            reason = "receipt"
        else:
            reason = "move_done"
        emit(env, m["product_id"], reason, mid)
    env.store.update("stock.picking", pid, {"date_done": stamp})
    _set_picking_state(env, pid)


def _move_quantity(env: Env, mid: int, qty: float) -> None:
    """stock.move._action_done for one move: take from its reservations, then free quants."""
    m = env.row("stock.move", mid)
    product, src, dest = m["product_id"], m["location_id"], m["location_dest_id"]
    remaining = qty
    for qid, reserved in m.get("_reserved") or []:
        q = env.store.row("stock.quant", qid)
        if q is None or remaining <= EPS:
            continue
        take = min(reserved, remaining)
        env.store.update("stock.quant", qid, {
            "quantity": q.get("quantity", 0.0) - take,
            "reserved_quantity": max(0.0, q.get("reserved_quantity", 0.0) - reserved),
        })
        remaining -= take
    env.store.update("stock.move", mid, {"_reserved": []})
    if remaining > EPS and _is_internal(env, src):
        locations = env.descendants("stock.location", [src])
        table = env.store.table("stock.quant")
        for qid in sorted(qid for qid in (env.store.index("stock.quant", "product_id") or {}).get(product, ())
                          if table[qid]["location_id"] in locations):
            q = table[qid]
            free = q.get("quantity", 0.0) - q.get("reserved_quantity", 0.0)
            if free <= EPS:
                continue
            take = min(free, remaining)
            env.store.update("stock.quant", qid, {"quantity": q.get("quantity", 0.0) - take})
            remaining -= take
            if remaining <= EPS:
                break
    if remaining > EPS:
        # Odoo lets the source go negative (forced quantities); non-internal sources always do
        _add_quantity(env, product, src, -remaining)
    _add_quantity(env, product, dest, qty)


# -- returns ---------------------------------------------------------------------------------------
@on_create("stock.return.picking")
def _return_wizard_created(env: Env, ids: list[int]) -> None:
    for wid in ids:
        w = env.row("stock.return.picking", wid)
        pid = w.get("picking_id") or env.context.get("active_id")
        if not pid:
            raise UserError("You may only return one picking at a time.")
        picking = env.row("stock.picking", pid)
        if picking["state"] != "done":
            raise UserError("You may only return Done pickings.")
        vals: Row = {"picking_id": pid}
        if not w.get("location_id"):
            vals["location_id"] = picking["location_id"]
        env.store.update("stock.return.picking", wid, vals)
        if not env.value("stock.return.picking", w, "product_return_moves"):
            for mid in _moves(env, [pid]):
                m = env.row("stock.move", mid)
                if m["state"] == "done":
                    # 18.0 proposes 0 to return (the user fills it in); older series the done quantity
                    create_records(env, "stock.return.picking.line", [{
                        "wizard_id": wid, "product_id": m["product_id"], "move_id": mid,
                        "quantity": 0.0 if env.major >= 18 else m.get(_done_qty_field(env)) or 0.0}])


def _create_returns(rs: Recordset) -> Row:
    env = rs.env
    new_pid = 0
    for wid in rs.ids:
        w = env.row("stock.return.picking", wid)
        picking = env.row("stock.picking", w["picking_id"])
        ptype = env.row("stock.picking.type", picking["picking_type_id"])
        return_type = ptype.get("return_picking_type_id") or ptype["id"]
        lines = [env.row("stock.return.picking.line", lid)
                 for lid in env.value("stock.return.picking", w, "product_return_moves")]
        moves = []
        for line in lines:
            if (line.get("quantity") or 0.0) <= EPS:
                continue
            orig = env.row("stock.move", line["move_id"]) if line.get("move_id") else None
            moves.append((0, 0, {
                "product_id": line["product_id"], "product_uom_qty": line["quantity"],
                "location_id": picking["location_dest_id"],
                "location_dest_id": w.get("location_id") or picking["location_id"],
                "origin_returned_move_id": orig["id"] if orig else False,
                **({"name": f"Return of {picking['name']}"} if "name" in env.schema["stock.move"].fields else {}),
            }))
        if not moves:
            raise UserError("Please specify at least one non-zero quantity.")
        vals: Row = {
            "picking_type_id": return_type, "origin": f"Return of {picking['name']}",
            "location_id": picking["location_dest_id"],
            "location_dest_id": w.get("location_id") or picking["location_id"],
            "partner_id": picking.get("partner_id") or False, "move_ids": moves,
        }
        if "return_id" in env.schema["stock.picking"].fields:
            vals["return_id"] = picking["id"]
        new_pid = create_records(env, "stock.picking", [vals])[0]
        _confirm(env, [new_pid])
        _assign(env, [new_pid])
    return {
        "name": "Returned Picking", "type": "ir.actions.act_window", "res_model": "stock.picking",
        "res_id": new_pid, "view_mode": "form", "views": [[False, "form"]], "context": dict(env.context),
    }


@method(models=["stock.return.picking"], max_version=17)
def create_returns(rs: Recordset) -> Row:
    return _create_returns(rs)


@method("action_create_returns", models=["stock.return.picking"], min_version=18)
def action_create_returns(rs: Recordset) -> Row:
    return _create_returns(rs)


# -- inventory adjustments ------------------------------------------------------------------------
@on_write("stock.quant", before=True)
def _quant_write_guard(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    """stock.quant.write (18.0): only in inventory mode are the quant's keys locked; a plain
    write of `quantity` is a raw write (no move, no event), as on Odoo."""
    forbidden = {"product_id", "location_id", "lot_id", "package_id", "owner_id"} & set(vals)
    if forbidden and env.context.get("inventory_mode"):
        raise UserError("Quant's editing is restricted, you can't do this operation.")
    if "inventory_quantity" in vals and "inventory_quantity_set" not in vals:
        vals["inventory_quantity_set"] = True  # _compute_inventory_quantity_set
    if "inventory_quantity" in vals:
        # the stored _compute_inventory_diff_quantity, at the time of the count
        for qid in ids:
            q = env.row("stock.quant", qid)
            env.store.update("stock.quant", qid, {
                "inventory_diff_quantity": (vals["inventory_quantity"] or 0.0) - (q.get("quantity") or 0.0)})


@on_create("stock.quant")
def _quant_created(env: Env, ids: list[int]) -> None:
    """stock.quant.create: in inventory mode a count for (product, location, ...) lands on the
    existing quant of that key; otherwise a raw create (its count not marked as set)."""
    for qid in ids:
        q = env.row("stock.quant", qid)
        counted = q.get("inventory_quantity") or 0.0
        vals: Row = {"in_date": q.get("in_date") or now_str(),
                     "inventory_diff_quantity": counted - (q.get("quantity") or 0.0)}
        inventory_mode = bool(env.context.get("inventory_mode")) and not env.context.get("_fixture_load")
        if inventory_mode:
            vals["inventory_quantity_set"] = True
        env.store.update("stock.quant", qid, vals)
        dup = [other for other in (env.store.index("stock.quant", "product_id") or {}).get(q["product_id"], ())
               if other != qid and _quant_key(env.row("stock.quant", other)) == _quant_key(q)]
        if dup and inventory_mode:
            keep = dup[0]
            kept = env.row("stock.quant", keep)
            env.store.update("stock.quant", keep, {"inventory_quantity": counted, "inventory_quantity_set": True,
                                                   "inventory_diff_quantity": counted - (kept.get("quantity") or 0.0)})
            env.store.delete("stock.quant", qid)
            ids[ids.index(qid)] = keep


@method(models=["stock.quant"])
def action_apply_inventory(rs: Recordset) -> Any:
    """stock.quant.action_apply_inventory (18.0): each quant moves by its counted difference
    (an inventory move, done at once), then its count is cleared. Returns None, as Odoo."""
    env = rs.env
    inventory_loc = next((lid for lid, loc in env.store.table("stock.location").items()
                          if loc.get("usage") == "inventory"), None)
    if inventory_loc is None:
        raise UserError("No inventory adjustment location is configured.")
    done_field = _done_qty_field(env)
    for qid in rs.ids:
        q = env.row("stock.quant", qid)
        diff = q.get("inventory_diff_quantity") or 0.0
        if abs(diff) <= EPS and abs(q.get("inventory_quantity") or 0.0) <= EPS and abs(q.get("quantity") or 0.0) <= EPS:
            continue
        if abs(diff) > EPS:
            src, dest = (inventory_loc, q["location_id"]) if diff > 0 else (q["location_id"], inventory_loc)
            vals: Row = {"product_id": q["product_id"], "product_uom_qty": abs(diff), "location_id": src,
                         "location_dest_id": dest, "is_inventory": True, "state": "done", done_field: abs(diff),
                         "date": now_str()}
            if "name" in env.schema["stock.move"].fields:
                vals["name"] = "Product Quantity Updated"
            mid = create_records(env, "stock.move", [vals])[0]
            env.store.update("stock.quant", qid, {"quantity": q.get("quantity", 0.0) + diff})
            _add_quantity(env, q["product_id"], inventory_loc, -diff)
            if _storable(env, q["product_id"]):
                emit(env, q["product_id"], "adjustment", mid)
        env.store.update("stock.quant", qid, {"inventory_quantity": 0.0, "inventory_diff_quantity": 0.0,
                                              "inventory_quantity_set": False})
    return None


@method(models=["stock.quant"], api_model=True)
def action_view_inventory(rs: Recordset) -> Row:
    return {"type": "ir.actions.act_window", "res_model": "stock.quant", "name": "Physical Inventory",
            "context": {"inventory_mode": True}, "domain": [["location_id.usage", "in", ["internal", "transit"]]]}


def write_move_guard(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    """Writing a done quantity on a move (16: quantity_done) is how a client records what it did."""
    for mid in ids:
        m = env.row("stock.move", mid)
        if m["state"] == "done" and ({"product_uom_qty", "quantity", "quantity_done", "product_id"} & set(vals)):
            raise UserError("You cannot change a done stock move; make a return instead.")


on_write("stock.move", before=True)(write_move_guard)


def write_picking_sync(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    if "location_id" in vals or "location_dest_id" in vals:
        for mid in _moves(env, ids):
            m = env.row("stock.move", mid)
            if m["state"] not in ("done", "cancel"):
                upd: dict[str, Any] = {k: vals[k] for k in ("location_id", "location_dest_id") if k in vals}
                write_records(env, "stock.move", [mid], upd)


on_write("stock.picking")(write_picking_sync)
