"""Stock flows and their outbox events, per Odoo series; one call is one transaction."""

from __future__ import annotations

from typing import Any

import pytest

from connector.mock_erp.database import MockDatabase
from connector.mock_erp.errors import UserError

ADMIN = 2


def make(version: str = "18.0") -> MockDatabase:
    return MockDatabase(version=version)


def x(db: MockDatabase, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
    return db.execute(ADMIN, model, method, list(args), kwargs)


def one(db: MockDatabase, model: str, domain: list[Any]) -> int:
    [rid] = x(db, model, "search", domain)
    return int(rid)


def product(db: MockDatabase, code: str) -> int:
    return one(db, "product.product", [("default_code", "=", code)])


def location(db: MockDatabase, name: str) -> int:
    return one(db, "stock.location", [("complete_name", "=", name)])


def free(db: MockDatabase, code: str, root: str = "WH/Stock") -> float:
    quants = x(db, "stock.quant", "search_read",
               [("product_id", "=", product(db, code)), ("location_id", "child_of", location(db, root))],
               fields=["quantity", "reserved_quantity"])
    return float(sum(q["quantity"] - q["reserved_quantity"] for q in quants))


def events_after(db: MockDatabase, last: int) -> list[tuple[int, str]]:
    rows = x(db, "marketplace.stock.event", "search_read", [("id", ">", last)], fields=["product_id", "reason"],
             order="id")
    return [(r["product_id"][0], r["reason"]) for r in rows]


def last_event(db: MockDatabase) -> int:
    found = x(db, "marketplace.stock.event", "search", [], limit=1, order="id desc")
    return int(found[0]) if found else 0


def picking(db: MockDatabase, code: str, type_code: str, qty: float, src: str | None = None,
            dest: str | None = None, warehouse: int = 1) -> int:
    ptype = one(db, "stock.picking.type", [("code", "=", type_code), ("warehouse_id", "=", warehouse)])
    vals: dict[str, Any] = {"picking_type_id": ptype,
                            "move_ids": [(0, 0, {"product_id": product(db, code), "product_uom_qty": qty})]}
    if src:
        vals["location_id"] = location(db, src)
    if dest:
        vals["location_dest_id"] = location(db, dest)
    return int(x(db, "stock.picking", "create", vals))


@pytest.mark.parametrize("version", ["16.0", "17.0", "18.0", "19.0"])
def test_delivery_per_series(version: str) -> None:
    db = make(version)
    start, mark = free(db, "BOTTLE-STEEL-750"), last_event(db)
    pid = picking(db, "BOTTLE-STEEL-750", "outgoing", 5)
    x(db, "stock.picking", "action_confirm", [pid])
    x(db, "stock.picking", "action_assign", [pid])
    assert free(db, "BOTTLE-STEEL-750") == start - 5  # reserved
    [move] = x(db, "stock.move", "search_read", [("picking_id", "=", pid)],
               fields=["quantity_done" if version == "16.0" else "quantity", "state"])
    assert move["state"] == "assigned"
    if version == "16.0":
        assert move["quantity_done"] == 0
        wizard = x(db, "stock.picking", "button_validate", [pid])
        assert wizard["res_model"] == "stock.immediate.transfer"  # 16 asks before using reservations
        x(db, "stock.move", "write", [move["id"]], {"quantity_done": 5})
    else:
        assert move["quantity"] == 5  # 17+: prefilled from the reservation
    assert x(db, "stock.picking", "button_validate", [pid]) is True
    assert free(db, "BOTTLE-STEEL-750") == start - 5
    quants = x(db, "stock.quant", "search_read", [("product_id", "=", product(db, "BOTTLE-STEEL-750")),
                                                  ("location_id.usage", "=", "customer")], fields=["quantity"])
    assert [q["quantity"] for q in quants] == [5.0]
    bottle = product(db, "BOTTLE-STEEL-750")
    assert events_after(db, mark) == [(bottle, "reservation"), (bottle, "move_done")]
    storable = {"16.0": ("type", "product"), "17.0": ("type", "product"),
                "18.0": ("is_storable", True), "19.0": ("is_storable", True)}[version]
    [prod] = x(db, "product.product", "read", [bottle], fields=[storable[0]])
    assert prod[storable[0]] == storable[1]


def test_receipt_return_cancel_unreserve_and_internal() -> None:
    db = make()
    mug = product(db, "MUG-CER-350")
    mark = last_event(db)
    rec = picking(db, "MUG-CER-350", "incoming", 10)
    x(db, "stock.picking", "action_confirm", [rec])
    x(db, "stock.picking", "button_validate", [rec])  # receipts are available at once
    assert free(db, "MUG-CER-350") == 70
    assert events_after(db, mark) == [(mug, "receipt")]

    out = picking(db, "MUG-CER-350", "outgoing", 3)
    x(db, "stock.picking", "action_assign", [out])
    x(db, "stock.picking", "button_validate", [out])
    mark = last_event(db)
    wizard = x(db, "stock.return.picking", "create", {"picking_id": out})
    [line] = x(db, "stock.return.picking.line", "search_read", [("wizard_id", "=", wizard)], fields=["quantity"])
    assert line["quantity"] == 0  # 18.0 proposes nothing to return
    with pytest.raises(UserError, match="Please specify at least one non-zero quantity"):
        x(db, "stock.return.picking", "action_create_returns", [wizard])
    x(db, "stock.return.picking.line", "write", [line["id"]], {"quantity": 3})
    action = x(db, "stock.return.picking", "action_create_returns", [wizard])
    ret = action["res_id"]
    [ret_move] = x(db, "stock.move", "search_read", [("picking_id", "=", ret)], fields=["origin_returned_move_id"])
    assert ret_move["origin_returned_move_id"]
    x(db, "stock.picking", "button_validate", [ret])
    assert free(db, "MUG-CER-350") == 70
    assert (mug, "return") in events_after(db, mark)

    held = picking(db, "MUG-CER-350", "outgoing", 7)
    x(db, "stock.picking", "action_assign", [held])
    assert free(db, "MUG-CER-350") == 63
    mark = last_event(db)
    x(db, "stock.picking", "do_unreserve", [held])
    assert free(db, "MUG-CER-350") == 70
    assert events_after(db, mark) == [(mug, "reservation")]  # the addon's _do_unreserve reason
    x(db, "stock.picking", "action_assign", [held])
    mark = last_event(db)
    x(db, "stock.picking", "action_cancel", [held])
    assert free(db, "MUG-CER-350") == 70
    # _action_cancel unreserves first: the addon records both, as on Odoo 18
    assert events_after(db, mark) == [(mug, "reservation"), (mug, "cancel")]
    [state] = x(db, "stock.picking", "read", [held], fields=["state"])
    assert state["state"] == "cancel"

    # quarantine -> stock: stock that did not count starts counting
    socks = product(db, "SOCKS-WOOL-M")
    before = free(db, "SOCKS-WOOL-M")
    mark = last_event(db)
    move_in = picking(db, "SOCKS-WOOL-M", "internal", 3, src="WH/Quarantine", dest="WH/Stock/Shelf A")
    x(db, "stock.picking", "action_assign", [move_in])
    x(db, "stock.picking", "button_validate", [move_in])
    assert free(db, "SOCKS-WOOL-M") == before + 3
    assert (socks, "move_done") in events_after(db, mark)


def test_inventory_adjustment() -> None:
    db = make()
    lamp = product(db, "LAMP-DESK-01")
    [quant] = x(db, "stock.quant", "search", [("product_id", "=", lamp)])
    mark = last_event(db)
    x(db, "stock.quant", "write", [quant], {"inventory_quantity": 4})
    [q] = x(db, "stock.quant", "read", [quant], fields=["inventory_diff_quantity", "inventory_quantity_set"])
    assert q["inventory_diff_quantity"] == 3 and q["inventory_quantity_set"] is True
    assert events_after(db, mark) == []  # counting alone changes nothing
    x(db, "stock.quant", "action_apply_inventory", [quant])
    assert free(db, "LAMP-DESK-01") == 4
    assert events_after(db, mark) == [(lamp, "adjustment")]
    # a count for a location without a quant: create one in inventory mode
    new = x(db, "stock.quant", "create", {"product_id": lamp, "location_id": location(db, "WH2/Stock"),
                                          "inventory_quantity": 2}, context={"inventory_mode": True})
    x(db, "stock.quant", "action_apply_inventory", [new])
    assert free(db, "LAMP-DESK-01", "WH2/Stock") == 2
    # in inventory mode a quant's keys are locked; a plain quantity write is a raw write on
    # Odoo 18 (no move, no event)
    with pytest.raises(UserError, match="Quant's editing is restricted"):
        x(db, "stock.quant", "write", [quant], {"location_id": location(db, "WH2/Stock")},
          context={"inventory_mode": True})
    mark = last_event(db)
    x(db, "stock.quant", "write", [quant], {"quantity": 100})
    assert free(db, "LAMP-DESK-01") == 100 and events_after(db, mark) == []


def test_validation_without_stock_is_refused_and_rolled_back() -> None:
    db = make()
    yoga = product(db, "YOGA-MAT-6MM")  # 0 in stock
    pid = picking(db, "YOGA-MAT-6MM", "outgoing", 2)
    x(db, "stock.picking", "action_assign", [pid])
    mark, pickings = last_event(db), x(db, "stock.picking", "search_count", [])
    with pytest.raises(UserError, match="You cannot validate a transfer if no quantities are reserved"):
        x(db, "stock.picking", "button_validate", [pid])
    [state] = x(db, "stock.picking", "read", [pid], fields=["state"])
    assert state["state"] == "confirmed" and last_event(db) == mark
    assert x(db, "stock.picking", "search_count", []) == pickings
    assert yoga


def test_failing_call_changes_nothing() -> None:
    db = make()
    before = x(db, "marketplace.listing", "search_count", [])
    with pytest.raises(ValueError):
        x(db, "marketplace.listing", "create", [
            {"channel_id": 1, "product_id": 1, "channel_sku": "OK-1"},
            {"channel_id": 1, "product_id": 1, "channel_sku": "BAD", "sync_state": "nonsense"},
        ])
    assert x(db, "marketplace.listing", "search_count", []) == before
    assert db.store.next_id["marketplace.listing"] >= before + 1


def test_one_event_per_product_and_reason_per_call() -> None:
    db = make()
    mug = product(db, "MUG-CER-350")
    ptype = one(db, "stock.picking.type", [("code", "=", "outgoing"), ("warehouse_id", "=", 1)])
    pid = x(db, "stock.picking", "create", {"picking_type_id": ptype, "move_ids": [
        (0, 0, {"product_id": mug, "product_uom_qty": 1}), (0, 0, {"product_id": mug, "product_uom_qty": 2})]})
    mark = last_event(db)
    x(db, "stock.picking", "action_assign", [pid])
    x(db, "stock.picking", "button_validate", [pid])
    assert events_after(db, mark) == [(mug, "reservation"), (mug, "move_done")]


def test_marketplace_contract_and_manual_resync() -> None:
    db = make()
    fields = x(db, "marketplace.listing", "fields_get", attributes=["type", "relation", "selection"])
    assert fields["channel_id"] == {"type": "many2one", "relation": "marketplace.channel"}
    assert fields["pack_size"]["type"] == "integer"
    assert fields["last_sync_at"]["type"] == "datetime"
    assert [k for k, _ in fields["sync_state"]["selection"]] == ["pending", "synced", "error", "deactivated", "locked"]
    chan = x(db, "marketplace.channel", "fields_get", attributes=["type", "relation"])
    assert chan["warehouse_ids"] == {"type": "many2many", "relation": "stock.warehouse"}
    [listing] = x(db, "marketplace.listing", "search", [("channel_sku", "=", "MUG-CER-350-6PK")])
    x(db, "marketplace.listing", "write", [listing], {"sync_state": "synced", "last_pushed_qty": 10,
                                                      "last_sync_at": "2026-01-02 03:04:05", "last_error": False})
    [row] = x(db, "marketplace.listing", "read", [listing], fields=["sync_state", "last_pushed_qty", "last_sync_at",
                                                                      "buffer_qty", "pack_size"])
    assert row == {"id": listing, "sync_state": "synced", "last_pushed_qty": 10.0,
                   "last_sync_at": "2026-01-02 03:04:05", "buffer_qty": 0.0, "pack_size": 6}
    mark = last_event(db)
    x(db, "marketplace.listing", "action_resync", [listing])
    x(db, "product.product", "action_marketplace_resync", [product(db, "PEN-GEL-BLK")])
    got = events_after(db, mark)
    assert got == [(product(db, "MUG-CER-350"), "manual"), (product(db, "PEN-GEL-BLK"), "manual")]
    mark = last_event(db)
    zalando = one(db, "marketplace.channel", [("code", "=", "zalando_de")])
    x(db, "marketplace.channel", "action_resync", [zalando])
    assert len(events_after(db, mark)) == 6


def test_read_group_sums_quants_by_product_and_location() -> None:
    db = make()
    rows = x(db, "stock.quant", "read_group", [("location_id", "child_of", location(db, "WH/Stock")),
                                               ("product_id.default_code", "=", "TSHIRT-BLK-M")],
             ["quantity:sum", "reserved_quantity:sum"], ["product_id", "location_id"], lazy=False)
    assert {(r["location_id"][1], r["quantity"]) for r in rows} == {("WH/Stock/Shelf A", 12.0),
                                                                     ("WH/Stock/Shelf B", 5.0)}
    assert all(r["__count"] == 1 for r in rows)


def test_partial_availability_backorder_wizard() -> None:
    db = make()
    pid = picking(db, "LAMP-DESK-01", "outgoing", 3)  # only 1 in stock
    x(db, "stock.picking", "action_confirm", [pid])
    action = x(db, "stock.picking", "button_validate", [pid])
    assert action["res_model"] == "stock.backorder.confirmation"
    wizard = x(db, "stock.backorder.confirmation", "create", {}, context=action["context"])
    assert x(db, "stock.backorder.confirmation", "process", [wizard], context=action["context"]) is True
    assert free(db, "LAMP-DESK-01") == 0
    [back] = x(db, "stock.picking", "search_read", [("backorder_id", "=", pid)], fields=["state", "move_ids"])
    [move] = x(db, "stock.move", "read", back["move_ids"], fields=["product_uom_qty"])
    assert back["state"] == "confirmed" and move["product_uom_qty"] == 2


def test_immediate_transfer_wizard_on_16() -> None:
    db = make("16.0")
    pid = picking(db, "PEN-GEL-BLK", "outgoing", 2)
    x(db, "stock.picking", "action_confirm", [pid])
    action = x(db, "stock.picking", "button_validate", [pid])
    assert action["res_model"] == "stock.immediate.transfer"
    wizard = x(db, "stock.immediate.transfer", "create", {}, context=action["context"])
    assert x(db, "stock.immediate.transfer", "process", [wizard]) is True
    assert free(db, "PEN-GEL-BLK") == 248


def test_formatted_read_group_on_19() -> None:
    db = make("19.0")
    rows = x(db, "stock.quant", "formatted_read_group", [("product_id.default_code", "=", "MUG-CER-350")],
             groupby=["location_id"], aggregates=["quantity:sum", "__count"])
    assert {(r["location_id"][1], r["quantity:sum"], r["__count"]) for r in rows} == {
        ("WH/Stock", 60.0, 1), ("WH2/Stock/Bin 1", 24.0, 1)}
