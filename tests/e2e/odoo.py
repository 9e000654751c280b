"""Odoo-style RPC driving of the ERP, the way a warehouse user's actions reach it.

Everything goes through XML-RPC `execute_kw` as the `admin` user (no shortcut into the
mock's memory), so the same helpers would drive a real Odoo. Usage::

    erp = OdooRpc(url, "demo", "admin", "admin")
    picking = erp.deliver("LAMP-DESK-01", 1)        # confirm, reserve, validate
    erp.receive("LAMP-DESK-01", 5)                  # a receipt into WH/Stock
"""

from __future__ import annotations

import xmlrpc.client
from typing import Any


MARSHAL_NONE = "cannot marshal None unless allow_none is enabled"


class OdooRpc:
    """A thin XML-RPC client plus the stock flows the seed scenarios need."""

    def __init__(self, url: str, database: str, login: str, password: str) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.password = password
        common = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/common", allow_none=True)
        uid = common.authenticate(database, login, password, {})
        if not uid:
            raise RuntimeError(f"cannot log in to {url} as {login}")
        self.uid = int(uid)
        self._object = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object", allow_none=True)
        self.calls = 0
        self._ids: dict[tuple[str, str], int] = {}

    def __call__(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        try:
            return self._object.execute_kw(self.database, self.uid, self.password, model, method,
                                           list(args), kwargs)
        except xmlrpc.client.Fault as fault:
            # Odoo 18 (and the mock) cannot marshal a method's None result (action_apply_inventory,
            # do_unreserve): fault 1 after the work is committed. It did what was asked.
            if fault.faultCode == 1 and MARSHAL_NONE in str(fault.faultString):
                return None
            raise

    # -- lookups ---------------------------------------------------------------------------
    def _one(self, model: str, field: str, value: str) -> int:
        key = (model, value)
        if key not in self._ids:
            found = self(model, "search", [[field, "=", value]])
            if len(found) != 1:
                raise LookupError(f"{model} {field}={value!r}: {len(found)} records")
            self._ids[key] = int(found[0])
        return self._ids[key]

    def product(self, sku: str) -> int:
        return self._one("product.product", "default_code", sku)

    def location(self, complete_name: str) -> int:
        return self._one("stock.location", "complete_name", complete_name)

    def channel(self, code: str) -> int:
        return self._one("marketplace.channel", "code", code)

    def picking_type(self, warehouse_code: str, code: str) -> int:
        found = self("stock.picking.type", "search",
                     [["code", "=", code], ["warehouse_id.code", "=", warehouse_code]])
        if not found:  # a mock without dotted paths in domains: go through the warehouse
            [wh] = self("stock.warehouse", "search", [["code", "=", warehouse_code]])
            found = self("stock.picking.type", "search", [["code", "=", code], ["warehouse_id", "=", wh]])
        return int(found[0])

    def quants(self, sku: str) -> dict[str, tuple[float, float]]:
        """complete_name -> (quantity, reserved) of a product's internal quants."""
        rows = self("stock.quant", "search_read",
                    [["product_id", "=", self.product(sku)], ["location_id.usage", "=", "internal"]],
                    ["location_id", "quantity", "reserved_quantity"])
        return {r["location_id"][1]: (r["quantity"], r["reserved_quantity"]) for r in rows}

    def last_event_id(self) -> int:
        rows = self("marketplace.stock.event", "search_read", [], ["id"], order="id desc", limit=1)
        return int(rows[0]["id"]) if rows else 0

    # -- flows -----------------------------------------------------------------------------
    def _picking(self, sku: str, qty: float, src: str, dest: str, type_code: str, warehouse: str) -> int:
        src_id, dest_id = self.location(src), self.location(dest)
        pid = self("stock.picking", "create", {
            "picking_type_id": self.picking_type(warehouse, type_code),
            "location_id": src_id, "location_dest_id": dest_id,
            "move_ids": [[0, 0, {"name": sku, "product_id": self.product(sku), "product_uom_qty": qty,
                                 "location_id": src_id, "location_dest_id": dest_id}]],
        })
        return int(pid[0] if isinstance(pid, list) else pid)

    def order(self, sku: str, qty: float, src: str = "WH/Stock", warehouse: str = "WH") -> int:
        """A sale: a delivery confirmed and reserved (free stock goes down); returns the picking."""
        pid = self._picking(sku, qty, src, "Partners/Customers", "outgoing", warehouse)
        self("stock.picking", "action_confirm", [pid])
        self("stock.picking", "action_assign", [pid])
        return pid

    def validate(self, picking_id: int) -> None:
        result = self("stock.picking", "button_validate", [picking_id])
        if result is not True:
            raise AssertionError(f"validate of picking {picking_id} asked for a wizard: {result}")

    def deliver(self, sku: str, qty: float, src: str = "WH/Stock", warehouse: str = "WH") -> int:
        """A sale shipped: order + validate."""
        pid = self.order(sku, qty, src, warehouse)
        self.validate(pid)
        return pid

    def force_deliver(self, sku: str, qty: float, src: str = "WH/Stock", warehouse: str = "WH") -> int:
        """A delivery validated with quantities typed in, without a reservation (Odoo 17+)."""
        pid = self._picking(sku, qty, src, "Partners/Customers", "outgoing", warehouse)
        self("stock.picking", "action_confirm", [pid])
        moves = self("stock.picking", "read", [pid], ["move_ids"])[0]["move_ids"]
        self("stock.move", "write", moves, {"quantity": qty})
        self.validate(pid)
        return pid

    def cancel(self, picking_id: int) -> None:
        self("stock.picking", "action_cancel", [picking_id])

    def receive(self, sku: str, qty: float, dest: str = "WH/Stock", warehouse: str = "WH") -> int:
        pid = self._picking(sku, qty, "Partners/Vendors", dest, "incoming", warehouse)
        self("stock.picking", "action_confirm", [pid])
        self("stock.picking", "action_assign", [pid])
        self.validate(pid)
        return pid

    def transfer(self, sku: str, qty: float, src: str, dest: str, warehouse: str = "WH") -> int:
        """An internal transfer (e.g. quarantine -> stock), reserved and validated."""
        pid = self._picking(sku, qty, src, dest, "internal", warehouse)
        self("stock.picking", "action_confirm", [pid])
        self("stock.picking", "action_assign", [pid])
        self.validate(pid)
        return pid

    def return_to(self, picking_id: int, location: str) -> int:
        """Return a done delivery into `location` (the return wizard); returns the new picking."""
        wizard = self("stock.return.picking", "create", {"picking_id": picking_id,
                                                         "location_id": self.location(location)},
                      context={"active_id": picking_id, "active_model": "stock.picking"})
        wid = int(wizard[0] if isinstance(wizard, list) else wizard)
        # Odoo 18 proposes 0 per line: return everything that was done
        for line in self("stock.return.picking.line", "search_read", [["wizard_id", "=", wid]],
                         ["quantity", "move_id"]):
            if not line["quantity"] and line["move_id"]:
                [move] = self("stock.move", "read", [line["move_id"][0]], ["quantity"])
                self("stock.return.picking.line", "write", [line["id"]], {"quantity": move["quantity"]})
        action = self("stock.return.picking", "action_create_returns", [wid])
        new_pid = int(action["res_id"])
        self.validate(new_pid)
        return new_pid

    def set_quantity(self, sku: str, location: str, qty: float) -> None:
        """An inventory adjustment: count `qty` at `location` and apply it."""
        product, loc = self.product(sku), self.location(location)
        found = self("stock.quant", "search", [["product_id", "=", product], ["location_id", "=", loc]])
        if found:
            self("stock.quant", "write", found, {"inventory_quantity": qty})
            qid = found
        else:
            created = self("stock.quant", "create", {"product_id": product, "location_id": loc,
                                                     "inventory_quantity": qty})
            qid = created if isinstance(created, list) else [created]
        self("stock.quant", "action_apply_inventory", qid)

    def allocate(self, channel: str, sku: str, mode: str, qty: float) -> int:
        rid = self("marketplace.allocation", "create", {"channel_id": self.channel(channel),
                                                        "product_id": self.product(sku),
                                                        "mode": mode, "quantity": qty})
        return int(rid[0] if isinstance(rid, list) else rid)
