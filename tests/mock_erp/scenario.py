"""The session every client runs against the mock ERP (issue 3, "Must show" 2).

`run_session(call)` takes a `call(model, method, *args, **kwargs)` made with one client
library and checks, through that client only: a child_of quant read, a many2one read,
a delivery created, confirmed, reserved and validated, the quant going down and the
outbox event appearing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Call = Callable[..., Any]


def _m2o_id(value: Any) -> int:
    return value[0] if isinstance(value, (list, tuple)) else int(value)


def _one(value: Any) -> Any:
    """read() of one id: a list of one dict (odoo-client-lib's json2 Model unwraps it)."""
    if isinstance(value, list):
        assert len(value) == 1
        return value[0]
    return value


def run_session(call: Call, version: str = "18.0") -> None:
    wh_stock = call("stock.location", "search", [["complete_name", "=", "WH/Stock"]])
    assert len(wh_stock) == 1
    [mug] = call("product.product", "search", [["default_code", "=", "MUG-CER-350"]])

    quants = call("stock.quant", "search_read",
                  [["location_id", "child_of", wh_stock], ["product_id", "=", mug]],
                  ["quantity", "reserved_quantity", "location_id", "product_id"])
    before = sum(q["quantity"] for q in quants)
    assert before == 60.0  # WH2/Stock/Bin 1's 24 are not under WH/Stock
    assert all(isinstance(q["location_id"], list) and q["location_id"][1].startswith("WH/Stock") for q in quants)

    warehouse = _one(call("stock.warehouse", "read", [1], ["lot_stock_id", "code"]))
    assert warehouse["lot_stock_id"][0] == wh_stock[0]
    assert warehouse["lot_stock_id"][1] == "WH/Stock"

    [last_event] = call("marketplace.stock.event", "search", [], limit=1, order="id desc") or [0]
    [out_type] = call("stock.picking.type", "search", [["code", "=", "outgoing"], ["warehouse_id", "=", 1]])
    customers = call("stock.location", "search", [["usage", "=", "customer"]])
    qty_field = "quantity_done" if version.startswith("16") else "quantity"
    picking = call("stock.picking", "create", {
        "picking_type_id": out_type,
        "location_id": wh_stock[0],
        "location_dest_id": customers[0],
        "move_ids": [[0, 0, {"name": "mug", "product_id": mug, "product_uom_qty": 4,
                             "location_id": wh_stock[0], "location_dest_id": customers[0]}]],
    })
    picking_id = picking[0] if isinstance(picking, list) else picking
    call("stock.picking", "action_confirm", [picking_id])
    call("stock.picking", "action_assign", [picking_id])
    reserved = _one(call("stock.picking", "read", [picking_id], ["state", "move_ids"]))
    assert reserved["state"] == "assigned"
    if version.startswith("16"):
        call("stock.move", "write", reserved["move_ids"], {qty_field: 4})
    result = call("stock.picking", "button_validate", [picking_id])
    assert result is True
    done = _one(call("stock.picking", "read", [picking_id], ["state"]))
    assert done["state"] == "done"

    after = call("stock.quant", "search_read",
                 [["location_id", "child_of", wh_stock], ["product_id", "=", mug]], ["quantity", "reserved_quantity"])
    assert sum(q["quantity"] for q in after) == before - 4
    assert sum(q["reserved_quantity"] for q in after) == 0
    events = call("marketplace.stock.event", "search_read", [["id", ">", last_event]], ["product_id", "reason"],
                  order="id")
    assert [(_m2o_id(e["product_id"]), e["reason"]) for e in events] == [(mug, "reservation"), (mug, "move_done")]
