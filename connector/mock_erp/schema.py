"""The models and fields the mock ERP serves, with each Odoo series' field names.

`build_schema("17.0")` returns model name -> `ModelDef`; only the fields that series has
are present (16/17: product `type = 'product'`, 16: stock.move `quantity_done`, 18+:
`is_storable`, …), so `fields_get` and unknown-field errors behave per series.
Computed fields carry a getter `compute(env, row)` filled in by the module that owns the
behaviour (see `stock.py`). Usage::

    schema = build_schema("19.0"); schema["stock.quant"].fields["quantity"].type  # 'float'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import available_timezones

from connector.catalogue import selection

SUPPORTED_VERSIONS = ("16.0", "17.0", "18.0", "19.0")
# The series docker-compose runs (docker-compose.yml: odoo:18.0) and the kit's real Odoo.
DEFAULT_VERSION = "18.0"
# Packaged Odoo servers report "<series>-<build date>" as server_version (the kit's 18.0
# nightly says "18.0-20250702"); the mock reports its series with this build stamp.
BUILD = "20250702"

Compute = Callable[[Any, dict[str, Any]], Any]


@dataclass(slots=True)
class Field:
    """One field as fields_get describes it; `compute` set means not stored."""

    type: str
    string: str
    relation: str | None = None
    inverse: str | None = None  # one2many: the many2one on `relation` pointing back
    selection: tuple[tuple[str, str], ...] | None = None
    required: bool = False
    readonly: bool = False
    default: Any = None  # value or callable(env) -> value; None: the type's empty value
    compute: Compute | None = None
    help: str = ""
    name: str = ""

    @property
    def store(self) -> bool:
        return self.compute is None and self.type != "one2many"

    @property
    def relational(self) -> bool:
        return self.type in ("many2one", "one2many", "many2many")


@dataclass(slots=True)
class ModelDef:
    name: str
    description: str
    fields: dict[str, Field]
    order: str = "id"
    rec_name: str = "name"
    parent_name: str | None = None  # hierarchical models (child_of via parent_path)
    transient: bool = False
    display: Compute | None = None  # display_name getter when not the rec_name field


def _f(type_: str, string: str, **kw: Any) -> Field:
    return Field(type_, string, **kw)


def char(s: str, **kw: Any) -> Field:
    return _f("char", s, **kw)


def text(s: str, **kw: Any) -> Field:
    return _f("text", s, **kw)


def integer(s: str, **kw: Any) -> Field:
    return _f("integer", s, **kw)


def floatf(s: str, **kw: Any) -> Field:
    return _f("float", s, **kw)


def boolean(s: str, **kw: Any) -> Field:
    return _f("boolean", s, **kw)


def datetimef(s: str, **kw: Any) -> Field:
    return _f("datetime", s, **kw)


def m2o(rel: str, s: str, **kw: Any) -> Field:
    return _f("many2one", s, relation=rel, **kw)


def o2m(rel: str, inverse: str, s: str, **kw: Any) -> Field:
    return _f("one2many", s, relation=rel, inverse=inverse, **kw)


def m2m(rel: str, s: str, **kw: Any) -> Field:
    return _f("many2many", s, relation=rel, **kw)


def sel(s: str, options: list[tuple[str, str]], **kw: Any) -> Field:
    return _f("selection", s, selection=tuple(options), **kw)


MARKETPLACES = selection()
BUFFER_POLICIES = [("fixed", "Fixed"), ("advised", "Advised by the bridge")]
ZERO_STOCK_ACTIONS = [
    ("push_zero", "Push 0"),
    ("deactivate", "Deactivate the listing"),
    ("end_listing", "End the listing"),
]
SYNC_STATES = [
    ("pending", "Pending"),
    ("synced", "Synced"),
    ("error", "Error"),
    ("deactivated", "Deactivated"),
    ("locked", "Locked"),
]
EVENT_REASONS = [
    ("move_done", "Move done"),
    ("reservation", "Reservation"),
    ("adjustment", "Inventory adjustment"),
    ("receipt", "Receipt"),
    ("return", "Return"),
    ("cancel", "Cancellation"),
    ("manual", "Manual resync"),
]
LOCATION_USAGE = [
    ("supplier", "Vendor Location"),
    ("view", "View"),
    ("internal", "Internal Location"),
    ("customer", "Customer Location"),
    ("inventory", "Inventory Loss"),
    ("production", "Production"),
    ("transit", "Transit Location"),
]
PICKING_STATES = [
    ("draft", "Draft"),
    ("waiting", "Waiting Another Operation"),
    ("confirmed", "Waiting"),
    ("assigned", "Ready"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
]
MOVE_STATES = [
    ("draft", "New"),
    ("waiting", "Waiting Another Move"),
    ("confirmed", "Waiting Availability"),
    ("partially_available", "Partially Available"),
    ("assigned", "Available"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
]


def major(version: str) -> int:
    return int(version.split(".")[0].split("~")[-1].replace("saas", "") or 0)


def _models(v: int) -> list[ModelDef]:
    product_types = [("consu", "Goods" if v >= 18 else "Consumable"), ("service", "Service")]
    if v < 18:
        product_types.insert(1, ("product", "Storable Product"))
    if v >= 18:
        product_types.append(("combo", "Combo"))
    tmpl_fields: dict[str, Field] = {
        "name": char("Name", required=True),
        "default_code": char("Internal Reference"),
        "barcode": char("Barcode"),
        "type": sel("Product Type" if v < 18 else "Type", product_types, required=True, default="consu"),
        "list_price": floatf("Sales Price", default=1.0),
        "active": boolean("Active", default=True),
        "company_id": m2o("res.company", "Company"),
        "uom_id": m2o("uom.uom", "Unit", default=1),
        "product_variant_ids": o2m("product.product", "product_tmpl_id", "Products"),
    }
    if v < 18:
        tmpl_fields["detailed_type"] = sel("Product Type", product_types, default="consu")
    else:
        tmpl_fields["is_storable"] = boolean("Track Inventory", default=False)
    product_fields: dict[str, Field] = {
        "product_tmpl_id": m2o("product.template", "Product Template", required=True),
        "name": char("Name", readonly=True),
        "default_code": char("Internal Reference"),
        "barcode": char("Barcode"),
        "active": boolean("Active", default=True),
        "type": sel("Product Type", product_types, readonly=True),
        "company_id": m2o("res.company", "Company", readonly=True),
        "uom_id": m2o("uom.uom", "Unit", readonly=True),
        "qty_available": floatf("Quantity On Hand", readonly=True),
        "free_qty": floatf("Free To Use Quantity ", readonly=True),
        "virtual_available": floatf("Forecasted Quantity", readonly=True),
        "stock_quant_ids": o2m("stock.quant", "product_id", "Stock Quants"),
    }
    if v >= 18:
        product_fields["is_storable"] = boolean("Track Inventory", readonly=True)
    location_fields: dict[str, Field | None] = {
        "name": char("Location Name", required=True),
        "complete_name": char("Full Location Name", readonly=True),
        "location_id": m2o("stock.location", "Parent Location"),
        "child_ids": o2m("stock.location", "location_id", "Contains"),
        "parent_path": char("Parent Path", readonly=True),
        "usage": sel("Location Type", LOCATION_USAGE, required=True, default="internal"),
        "warehouse_id": m2o("stock.warehouse", "Warehouse", readonly=True),
        "company_id": m2o("res.company", "Company"),
        "active": boolean("Active", default=True),
        "return_location": boolean("Is a Return Location?", default=False) if v < 18 else None,
        "scrap_location": boolean("Is a Scrap Location?", default=False) if v < 18 else None,
        "replenish_location": boolean("Replenish Location", default=False),
        "barcode": char("Barcode"),
    }
    move_fields: dict[str, Field] = {
        "name": char("Description"),
        "product_id": m2o("product.product", "Product", required=True),
        "product_uom_qty": floatf("Demand", required=True, default=0.0),
        "product_uom": m2o("uom.uom", "UoM", default=1),
        "location_id": m2o("stock.location", "Source Location", required=True),
        "location_dest_id": m2o("stock.location", "Destination Location", required=True),
        "picking_id": m2o("stock.picking", "Transfer"),
        "picking_type_id": m2o("stock.picking.type", "Operation Type"),
        "state": sel("Status", MOVE_STATES, readonly=True, default="draft"),
        "origin_returned_move_id": m2o("stock.move", "Origin return move"),
        "returned_move_ids": o2m("stock.move", "origin_returned_move_id", "All returned moves"),
        "is_inventory": boolean("Inventory", default=False),
        "company_id": m2o("res.company", "Company", default=1),
        "date": datetimef("Date Scheduled"),
        "origin": char("Source Document"),
        "reference": char("Reference", readonly=True),
    }
    if v < 17:
        move_fields["quantity_done"] = floatf("Quantity Done", default=0.0)
        move_fields["reserved_availability"] = floatf("Quantity Reserved", readonly=True)
    else:
        move_fields["quantity"] = floatf("Quantity", default=0.0)
        move_fields["picked"] = boolean("Picked", default=False)
    models = [
        ModelDef("res.partner", "Contact", {
            "name": char("Name"),
            "is_company": boolean("Is a Company", default=False),
            "email": char("Email"),
            "company_id": m2o("res.company", "Company"),
            "active": boolean("Active", default=True),
        }, order="name, id"),
        ModelDef("res.company", "Companies", {
            "name": char("Company Name", required=True),
            "partner_id": m2o("res.partner", "Partner"),
            "active": boolean("Active", default=True),
        }, order="name, id"),
        ModelDef("res.users", "User", {
            "name": char("Name"),
            "login": char("Login", required=True),
            "partner_id": m2o("res.partner", "Related Partner"),
            "company_id": m2o("res.company", "Company", default=1),
            "company_ids": m2m("res.company", "Companies"),
            "lang": sel("Language", [("en_US", "English (US)")], default="en_US"),
            "tz": sel("Timezone", [(tz, tz) for tz in sorted(available_timezones())], default="Europe/Amsterdam"),
            "active": boolean("Active", default=True),
        }, order="name, login"),
        ModelDef("ir.model", "Models", {
            "name": char("Model Description", required=True),
            "model": char("Model", required=True),
            "transient": boolean("Transient Model"),
            **({"abstract": boolean("Abstract Model")} if v >= 19 else {}),
        }, order="model"),
        ModelDef("uom.uom", "Product Unit of Measure", {
            "name": char("Unit Name", required=True),
            "active": boolean("Active", default=True),
        }, order="name"),
        ModelDef("product.template", "Product", tmpl_fields, order="name, id"),
        ModelDef("product.product", "Product Variant", product_fields, order="default_code, name, id"),
        ModelDef("stock.location", "Inventory Locations", _drop_none(location_fields),
                 order="complete_name, id", rec_name="complete_name", parent_name="location_id"),
        ModelDef("stock.warehouse", "Warehouse", {
            "name": char("Warehouse", required=True),
            "code": char("Short Name", required=True),
            "company_id": m2o("res.company", "Company", required=True, default=1),
            "view_location_id": m2o("stock.location", "View Location", required=True),
            "lot_stock_id": m2o("stock.location", "Location Stock", required=True),
            "active": boolean("Active", default=True),
        }, order="id"),
        ModelDef("stock.picking.type", "Picking Type", {
            "name": char("Operation Type", required=True),
            "code": sel("Type of Operation", [("incoming", "Receipt"), ("outgoing", "Delivery"),
                                              ("internal", "Internal Transfer")], required=True),
            "sequence_code": char("Sequence Prefix", required=True),
            "warehouse_id": m2o("stock.warehouse", "Warehouse"),
            "company_id": m2o("res.company", "Company", default=1),
            "default_location_src_id": m2o("stock.location", "Default Source Location"),
            "default_location_dest_id": m2o("stock.location", "Default Destination Location"),
            "return_picking_type_id": m2o("stock.picking.type", "Operation Type for Returns"),
            "active": boolean("Active", default=True),
        }, order="id"),
        ModelDef("stock.picking", "Transfer", _drop_none({
            "name": char("Reference", readonly=True),
            "origin": char("Source Document"),
            "picking_type_id": m2o("stock.picking.type", "Operation Type", required=True),
            "picking_type_code": sel("Type of Operation", [("incoming", "Receipt"), ("outgoing", "Delivery"),
                                                            ("internal", "Internal Transfer")], readonly=True),
            "location_id": m2o("stock.location", "Source Location"),
            "location_dest_id": m2o("stock.location", "Destination Location"),
            "move_ids": o2m("stock.move", "picking_id", "Stock Moves"),
            "partner_id": m2o("res.partner", "Contact"),
            "company_id": m2o("res.company", "Company", readonly=True),
            "state": sel("Status", PICKING_STATES, readonly=True, default="draft"),
            "scheduled_date": datetimef("Scheduled Date"),
            "date_done": datetimef("Date of Transfer", readonly=True),
            "backorder_id": m2o("stock.picking", "Back Order of"),
            "return_id": m2o("stock.picking", "Return of") if v >= 17 else None,
        }), order="id desc"),
        ModelDef("stock.move", "Stock Move", {k: f for k, f in move_fields.items() if f},
                 order="id", rec_name="reference"),
        ModelDef("stock.lot", "Lot/Serial", {
            "name": char("Lot/Serial Number", required=True),
            "product_id": m2o("product.product", "Product", required=True),
            "company_id": m2o("res.company", "Company"),
        }, order="name, id"),
        ModelDef("stock.quant.package" if v < 19 else "stock.package", "Packages", {
            "name": char("Package Reference"),
        }, order="name"),
        ModelDef("stock.quant", "Quants", {
            "product_id": m2o("product.product", "Product", required=True),
            "location_id": m2o("stock.location", "Location", required=True),
            "lot_id": m2o("stock.lot", "Lot/Serial Number"),
            "package_id": m2o("stock.quant.package" if v < 19 else "stock.package", "Package"),
            "owner_id": m2o("res.partner", "Owner"),
            "company_id": m2o("res.company", "Company", readonly=True),
            "quantity": floatf("Quantity", readonly=True, default=0.0),
            "reserved_quantity": floatf("Reserved Quantity", readonly=True, default=0.0),
            "available_quantity": floatf("Available Quantity", readonly=True),
            "inventory_quantity": floatf("Counted Quantity", default=0.0),
            "inventory_diff_quantity": floatf("Difference", readonly=True, default=0.0),
            "inventory_quantity_set": boolean("Inventory Quantity Set", default=False),
            "in_date": datetimef("Incoming Date", readonly=True),
            # the rest of Odoo 18's stock.quant, so fields_get matches field for field; the
            # computed/related ones are filled in by stock.install_computes
            "product_tmpl_id": m2o("product.template", "Product Template", readonly=True),
            "product_uom_id": m2o("uom.uom", "Unit of Measure", readonly=True),
            "product_categ_id": m2o("product.category", "Product Category", readonly=True),
            "warehouse_id": m2o("stock.warehouse", "Warehouse", readonly=True),
            "tracking": sel("Tracking", [("serial", "By Unique Serial Number"), ("lot", "By Lots"),
                                         ("none", "By Quantity")], readonly=True),
            "on_hand": boolean("On Hand", readonly=True),
            "is_outdated": boolean("Quantity has been moved since last count", readonly=True),
            "is_favorite": boolean("Favorite", readonly=True),
            "sn_duplicated": boolean("Duplicated Serial Number", readonly=True),
            "lot_properties": _f("properties", "Properties", readonly=True),
            "storage_category_id": m2o("stock.storage.category", "Storage Category", readonly=True),
            "cyclic_inventory_frequency": integer("Inventory Frequency", readonly=True),
            "inventory_date": _f("date", "Scheduled Date"),
            "last_count_date": _f("date", "Last Count Date", readonly=True),
            "user_id": m2o("res.users", "Assigned To"),
        }, order="id", rec_name="id"),
        ModelDef("stock.return.picking", "Return Picking", {
            "picking_id": m2o("stock.picking", "Picking"),
            "product_return_moves": o2m("stock.return.picking.line", "wizard_id", "Moves"),
            "location_id": m2o("stock.location", "Return Location"),
        }, transient=True),
        ModelDef("stock.return.picking.line", "Return Picking Line", {
            "wizard_id": m2o("stock.return.picking", "Wizard"),
            "product_id": m2o("product.product", "Product", required=True),
            "quantity": floatf("Quantity", default=0.0),
            "move_id": m2o("stock.move", "Move"),
        }, transient=True, rec_name="product_id"),
        ModelDef("stock.backorder.confirmation", "Backorder Confirmation", {
            "pick_ids": m2m("stock.picking", "Pickings"),
        }, transient=True, rec_name="id"),
        *([ModelDef("stock.immediate.transfer", "Immediate Transfer", {
            "pick_ids": m2m("stock.picking", "Pickings"),
        }, transient=True, rec_name="id")] if v < 17 else []),
        # marketplace.*: the addon's models (addons/marketplace_stock_sync/models) field for
        # field; tests/addon/test_contract.py holds the two equal.
        ModelDef("marketplace.channel", "Marketplace Channel", {
            "name": char("Name", required=True),
            "code": char("Code", required=True, help="Unique technical code of the channel. The bridge keys "
                         "this shop's API credentials by it: [channels.<code>] in bridge.toml."),
            "marketplace": sel("Marketplace", MARKETPLACES, required=True),
            "active": boolean("Active", default=True),
            "company_id": m2o("res.company", "Company", required=True, default=1),
            "warehouse_ids": m2m("stock.warehouse", "Warehouses"),
            "excluded_location_ids": m2m("stock.location", "Excluded Locations"),
            "buffer_qty": floatf("Buffer", default=0.0),
            "buffer_policy": sel("Buffer Policy", BUFFER_POLICIES, required=True, default="fixed"),
            "advised_buffer_min": floatf("Advised Buffer Minimum", default=0.0),
            "advised_buffer_max": floatf("Advised Buffer Maximum", default=0.0),
            "max_qty": floatf("Cap", default=0.0, help="Never publish more than this many units per listing. "
                              "0 means no cap."),
            # No default, as in the addon: empty means the marketplace's own default
            # (Etsy deactivates, the others push 0).
            "zero_stock_action": sel("Zero Stock Action", ZERO_STOCK_ACTIONS,
                                     help="What the channel does when a listing reaches 0. Empty: the "
                                     "marketplace's default (Etsy deactivates, the others push 0)."),
            "listing_ids": o2m("marketplace.listing", "channel_id", "Listings"),
            "listing_count": integer("Listing Count", compute=_listing_count),
        }, order="name, id"),
        ModelDef("marketplace.listing", "Marketplace Listing", {
            "channel_id": m2o("marketplace.channel", "Channel", required=True),
            "product_id": m2o("product.product", "Product", required=True),
            "channel_sku": char("Channel SKU", required=True),
            "external_id": char("External ID"),
            # A Float is never empty on a real Odoo (NULL reads as 0.0), so "inherit the
            # channel's buffer" needs this flag; the mock stores 0.0 the same way.
            "buffer_override": boolean("Buffer Override", default=False, help=(
                "Use this listing's own buffer instead of the channel's rule. Odoo stores an empty "
                "number as 0, so this flag is what tells 'inherit' from 'no buffer'.")),
            "buffer_qty": floatf("Listing Buffer", default=0.0,
                                 help="Units held back for this listing only, when Buffer Override is ticked."),
            "max_qty": floatf("Cap", default=0.0, help="Never publish more than this. 0 means no cap; "
                              "the channel's cap also applies."),
            "pack_size": integer("Pack Size", default=1),
            "active": boolean("Active", default=True),
            "sync_state": sel("Sync State", SYNC_STATES, required=True, default="pending"),
            "last_pushed_qty": floatf("Last Pushed Quantity", readonly=True),
            "last_sync_at": datetimef("Last Sync", readonly=True),
            "last_error": text("Last Error", readonly=True),
        }, order="channel_id, channel_sku, id", rec_name="channel_sku"),
        ModelDef("marketplace.allocation", "Marketplace Stock Allocation", {
            "channel_id": m2o("marketplace.channel", "Channel", required=True),
            "product_id": m2o("product.product", "Product", required=True),
            "mode": sel("Mode", [("allocation", "Allocation"), ("reservation", "Reservation")],
                        required=True, default="allocation"),
            "quantity": floatf("Quantity", required=True, default=0.0),
            "date_start": datetimef("Start"),
            "date_end": datetimef("End"),
        }, order="date_start desc, id desc", rec_name="product_id"),
        ModelDef("marketplace.stock.event", "Marketplace Stock Event", {
            "product_id": m2o("product.product", "Product", required=True),
            "reason": sel("Reason", EVENT_REASONS, required=True),
            "move_id": m2o("stock.move", "Stock Move"),
        }, order="id desc", rec_name="product_id"),
    ]
    return models


def _listing_count(env: Any, row: dict[str, Any]) -> int:
    """marketplace.channel.listing_count: its active listings, as the addon's _read_group counts."""
    index = env.store.index("marketplace.listing", "channel_id") or {}
    table = env.store.table("marketplace.listing")
    return sum(1 for lid in index.get(row["id"], ()) if table[lid].get("active", True))


def _drop_none(fields: dict[str, Field | None]) -> dict[str, Field]:
    return {k: f for k, f in fields.items() if f is not None}


def build_schema(version: str) -> dict[str, ModelDef]:
    """All models for one series, with the magic fields every Odoo model has."""
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(f"unsupported Odoo version {version!r}; choose one of {', '.join(SUPPORTED_VERSIONS)}")
    schema: dict[str, ModelDef] = {}
    for model in _models(major(version)):
        magic = {
            "id": integer("ID", readonly=True),
            "display_name": char("Display Name", readonly=True),
            "create_date": datetimef("Created on", readonly=True),
            "create_uid": m2o("res.users", "Created by", readonly=True),
            "write_date": datetimef("Last Updated on", readonly=True),
            "write_uid": m2o("res.users", "Last Updated by", readonly=True),
        }
        model.fields = {**model.fields, **magic}
        for name, fld in model.fields.items():
            fld.name = name
        schema[model.name] = model
    return schema


def empty_value(fld: Field) -> Any:
    if fld.type in ("one2many", "many2many"):
        return []
    if fld.type == "boolean":
        return False
    return False
