"""An in-memory OdooClient for StockSource unit tests: search_read / fields_get / write over
plain rows, with a small domain evaluator (=, !=, in, >, >=, <, child_of, dotted paths,
'|', '&'). Many2one values are stored as ids and read back as [id, name] pairs.

Usage::

    fake = FakeOdoo(demo_rows())
    fake.call("stock.quant", "search_read", [("product_id", "in", [1])], ["quantity"])
"""

from __future__ import annotations

import operator
from collections import Counter
from typing import Any

from connector.erp.errors import AccessError, MissingModelError, missing_model_hint

Row = dict[str, Any]

# field -> comodel for the many2one/many2many fields the bridge reads
RELATIONS: dict[str, dict[str, str]] = {
    "stock.quant": {"product_id": "product.product", "location_id": "stock.location",
                    "lot_id": "stock.lot", "package_id": "stock.quant.package",
                    "owner_id": "res.partner", "company_id": "res.company"},
    "stock.location": {"location_id": "stock.location", "company_id": "res.company"},
    "stock.warehouse": {"lot_stock_id": "stock.location", "company_id": "res.company"},
    "stock.move": {"product_id": "product.product"},
    "product.product": {"company_id": "res.company"},
    "res.company": {"partner_id": "res.partner"},
    "marketplace.channel": {"company_id": "res.company", "warehouse_ids": "stock.warehouse",
                            "excluded_location_ids": "stock.location"},
    "marketplace.listing": {"channel_id": "marketplace.channel",
                            "product_id": "product.product"},
    "marketplace.allocation": {"channel_id": "marketplace.channel",
                               "product_id": "product.product"},
    "marketplace.stock.event": {"product_id": "product.product"},
}
MANY2MANY = {"warehouse_ids", "excluded_location_ids"}
OPS = {"=": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
       "<": operator.lt, "<=": operator.le}


# Models an app installs (Inventory, the addon); a test removes one from the "ir.model"
# table to play a server without it.
OPTIONAL_MODELS = ("stock.quant", "stock.location", "stock.warehouse", "product.product",
                   "marketplace.channel", "marketplace.listing", "marketplace.allocation",
                   "marketplace.stock.event")


class FakeOdoo:
    """Counts every call like RpcClient (`calls`, `calls_by`, `log`)."""

    server_series = "18.0"

    def __init__(self, tables: dict[str, list[Row]], extra_fields: dict[str, list[str]] | None = None
                 ) -> None:
        self.tables = tables
        self.extra_fields = extra_fields or {}
        self.calls = 0
        self.calls_by: Counter[str] = Counter()
        self.log: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = []
        self.has_report_sync_status = True  # False: an addon older than that method

    def close(self) -> None:
        pass

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.calls_by[f"{model}.{method}"] += 1
        self.log.append((model, method, args, kwargs))
        if model == "ir.model":
            # As on real Odoo 18 for the addon's bridge group (Internal User + Marketplace
            # Bridge): ir.model is the list of installed models, not readable by that user.
            raise AccessError("You are not allowed to access 'Models' (ir.model) records.")
        installed = {row["model"] for row in self.tables.get("ir.model", [])} \
            if "ir.model" in self.tables else set(OPTIONAL_MODELS)
        if model in OPTIONAL_MODELS and model not in installed:
            # What Odoo's RPC answers for a model no installed app defines.
            raise MissingModelError(missing_model_hint(model))
        if method == "search_read":
            return self._search_read(model, *args, **kwargs)
        if method == "search_count":
            return len(self._search_read(model, *args, **kwargs))
        if method == "fields_get":
            names = {k for row in self.tables.get(model, []) for k in row}
            names |= set(self.extra_fields.get(model, []))
            return {name: {"type": "boolean" if name.startswith("buffer_override") else "char"}
                    for name in names | {"id"}}
        if method == "write":
            ids, vals = args
            for row in self.tables.get(model, []):
                if row["id"] in ids:
                    row.update(vals)
            return True
        if (model, method) == ("marketplace.listing", "report_sync_status"):
            if not self.has_report_sync_status:
                raise MissingModelError(f"The method '{model}.{method}' does not exist")
            (statuses,) = args
            rows = {row["id"]: row for row in self.tables.get(model, [])}
            for status in statuses:
                if status["id"] in rows:
                    rows[status["id"]].update({k: v for k, v in status.items() if k != "id"})
            return [status["id"] for status in statuses if status["id"] in rows]
        raise AssertionError(f"unexpected call {model}.{method}")

    # -- search_read ------------------------------------------------------------------
    def _search_read(self, model: str, domain: list[Any] | None = None,
                     fields: list[str] | None = None, offset: int = 0, limit: int | None = None,
                     order: str | None = None, context: dict[str, Any] | None = None) -> list[Row]:
        rows = self.tables.get(model, [])
        active_test = (context or {}).get("active_test", True)
        if active_test:
            rows = [r for r in rows if r.get("active", True)]
        rows = [r for r in rows if self._match(model, r, list(domain or []))]
        for term in reversed((order or "id asc").split(",")):
            name, _, direction = term.strip().partition(" ")
            rows = sorted(rows, key=lambda r: (not r.get(name), r.get(name) or ""),
                          reverse=direction.strip().lower() == "desc")
        rows = rows[offset:offset + limit if limit else None]
        return [self._project(model, r, fields) for r in rows]

    def _project(self, model: str, row: Row, fields: list[str] | None) -> Row:
        out: Row = {"id": row["id"]}
        for name in fields or list(row):
            value = row.get(name, False)
            comodel = RELATIONS.get(model, {}).get(name)
            if comodel and name not in MANY2MANY and value:
                value = [value, f"{comodel},{value}"]
            out[name] = value
        return out

    def _value(self, model: str, row: Row, path: str) -> Any:
        head, _, rest = path.partition(".")
        value = row.get(head, False)
        if not rest:
            return value
        comodel = RELATIONS[model][head]
        target = next((r for r in self.tables.get(comodel, []) if r["id"] == value), None)
        return self._value(comodel, target, rest) if target else False

    def _children(self, roots: list[int]) -> set[int]:
        found = set(roots)
        changed = True
        while changed:
            changed = False
            for loc in self.tables.get("stock.location", []):
                if loc.get("location_id") in found and loc["id"] not in found:
                    found.add(loc["id"])
                    changed = True
        return found

    def _term(self, model: str, row: Row, term: Any) -> bool:
        path, op, value = term
        got = self._value(model, row, path)
        if op == "in":
            return bool(got in value)
        if op == "not in":
            return bool(got not in value)
        if op == "child_of":
            return bool(got in self._children(value if isinstance(value, list) else [value]))
        if got is False and op in (">", ">=", "<", "<="):
            return False
        return bool(OPS[op](got, value))

    def _match(self, model: str, row: Row, domain: list[Any]) -> bool:
        def walk(pos: int) -> tuple[bool, int]:
            item = domain[pos]
            if item == "|":
                a, nxt = walk(pos + 1)
                b, end = walk(nxt)
                return a or b, end
            if item == "&":
                a, nxt = walk(pos + 1)
                b, end = walk(nxt)
                return a and b, end
            if item == "!":
                a, nxt = walk(pos + 1)
                return not a, nxt
            return self._term(model, row, item), pos + 1

        pos, result = 0, True
        while pos < len(domain):
            ok, pos = walk(pos)
            result = result and ok
        return result


def demo_tables() -> dict[str, list[Row]]:
    """A small demo shop: WH (Stock, Shelf A, Shelf B, Backroom; Quarantine, Output outside
    Stock), BACK (lot stock = Backroom), WH2, and Other Co's OC; three channels."""
    loc = [
        (1, "WH", False, "view", 1), (2, "WH/Stock", 1, "internal", 1),
        (3, "WH/Stock/Shelf A", 2, "internal", 1), (4, "WH/Stock/Shelf B", 2, "internal", 1),
        (5, "WH/Stock/Backroom", 2, "internal", 1), (6, "WH/Quarantine", 1, "internal", 1),
        (7, "WH/Output", 1, "internal", 1), (8, "WH2", False, "view", 1),
        (9, "WH2/Stock", 8, "internal", 1), (10, "WH2/Stock/Bin 1", 9, "internal", 1),
        (11, "OC", False, "view", 2), (12, "OC/Stock", 11, "internal", 2),
        (13, "Partners/Customers", False, "customer", False),
    ]
    stamp = "2025-01-01 00:00:00"
    return {
        # Tests uninstall a model by removing its row here (see OPTIONAL_MODELS).
        "ir.model": [{"id": i, "model": m} for i, m in enumerate(OPTIONAL_MODELS, start=1)],
        "res.company": [{"id": 1, "partner_id": 1, "write_date": stamp},
                        {"id": 2, "partner_id": 2, "write_date": stamp}],
        "stock.location": [{"id": i, "complete_name": n, "location_id": p, "usage": u,
                            "company_id": c, "active": True, "write_date": stamp}
                           for i, n, p, u, c in loc],
        "stock.warehouse": [
            {"id": 1, "code": "WH", "lot_stock_id": 2, "company_id": 1, "write_date": stamp},
            {"id": 2, "code": "BACK", "lot_stock_id": 5, "company_id": 1, "write_date": stamp},
            {"id": 3, "code": "WH2", "lot_stock_id": 9, "company_id": 1, "write_date": stamp},
            {"id": 4, "code": "OC", "lot_stock_id": 12, "company_id": 2, "write_date": stamp},
        ],
        "product.product": [
            {"id": 1, "default_code": "MUG", "barcode": "8712345678906", "display_name": "Mug",
             "company_id": False, "active": True, "write_date": stamp},
            {"id": 2, "default_code": "LAMP", "barcode": False, "display_name": "Lamp",
             "company_id": False, "active": True, "write_date": stamp},
            {"id": 3, "default_code": "TEA", "barcode": False, "display_name": "Tea",
             "company_id": 1, "active": True, "write_date": stamp},
        ],
        "stock.quant": [
            {"id": 1, "product_id": 1, "location_id": 3, "quantity": 10.0,
             "reserved_quantity": 2.0, "lot_id": False, "package_id": False, "owner_id": False,
             "company_id": 1, "write_date": stamp},
            {"id": 2, "product_id": 1, "location_id": 5, "quantity": 4.0,
             "reserved_quantity": 0.0, "lot_id": 7, "package_id": False, "owner_id": False,
             "company_id": 1, "write_date": stamp},
            {"id": 3, "product_id": 1, "location_id": 6, "quantity": 50.0,
             "reserved_quantity": 0.0, "lot_id": False, "package_id": False, "owner_id": False,
             "company_id": 1, "write_date": stamp},
            {"id": 4, "product_id": 1, "location_id": 12, "quantity": 70.0,
             "reserved_quantity": 0.0, "lot_id": False, "package_id": False, "owner_id": False,
             "company_id": 2, "write_date": stamp},
            {"id": 5, "product_id": 2, "location_id": 10, "quantity": 1.0,
             "reserved_quantity": 0.0, "lot_id": False, "package_id": False, "owner_id": 9,
             "company_id": 1, "write_date": stamp},
            {"id": 6, "product_id": 1, "location_id": 13, "quantity": -3.0,
             "reserved_quantity": 0.0, "lot_id": False, "package_id": False, "owner_id": False,
             "company_id": 1, "write_date": stamp},
        ],
        "marketplace.channel": [
            {"id": 1, "code": "amazon_de", "marketplace": "amazon", "active": True,
             "company_id": 1, "warehouse_ids": [1, 3], "excluded_location_ids": [],
             "buffer_qty": 2.0, "max_qty": 0.0, "zero_stock_action": "push_zero",
             "write_date": stamp},
            {"id": 2, "code": "bol_nl", "marketplace": "bol", "active": True, "company_id": 1,
             "warehouse_ids": [1, 3], "excluded_location_ids": [4], "buffer_qty": 1.0,
             "max_qty": 0.0, "zero_stock_action": False, "write_date": stamp},
            {"id": 3, "code": "kaufland_de", "marketplace": "kaufland", "active": True,
             "company_id": 1, "warehouse_ids": [1, 2, 3], "excluded_location_ids": [],
             "buffer_qty": 0.0, "max_qty": 50.0, "zero_stock_action": "deactivate",
             "write_date": stamp},
        ],
        "marketplace.listing": [
            {"id": 10, "channel_id": 1, "product_id": 1, "channel_sku": "MUG", "external_id": False,
             "buffer_qty": False, "max_qty": 0.0, "pack_size": 1, "active": True,
             "sync_state": "pending", "last_pushed_qty": False, "last_sync_at": False,
             "last_error": False},
            {"id": 11, "channel_id": 1, "product_id": 3, "channel_sku": "TEA-AMZ",
             "external_id": False, "buffer_qty": 0.0, "max_qty": 0.0, "pack_size": 6,
             "active": True},
            {"id": 12, "channel_id": 2, "product_id": 1, "channel_sku": "8712345678906",
             "external_id": "1234567", "buffer_qty": False, "max_qty": 5.0, "pack_size": 1,
             "active": True},
            {"id": 13, "channel_id": 3, "product_id": 2, "channel_sku": "LAMP",
             "external_id": "99", "buffer_qty": False, "max_qty": 0.0, "pack_size": 1,
             "active": False},
        ],
        "marketplace.allocation": [
            {"id": 1, "channel_id": 1, "product_id": 1, "mode": "allocation", "quantity": 3.0,
             "date_start": "2025-01-01 00:00:00", "date_end": False},
            {"id": 2, "channel_id": 2, "product_id": 1, "mode": "reservation", "quantity": 2.0,
             "date_start": False, "date_end": "2025-02-01 00:00:00"},
        ],
        "marketplace.stock.event": [
            {"id": i, "product_id": 1 + i % 3, "reason": "move_done",
             "create_date": f"2025-01-01 00:00:{i:02d}"} for i in range(1, 8)
        ],
        "stock.move": [],
    }
