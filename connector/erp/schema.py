"""Which models and fields the server has, checked once at start: picks addon or no-addon
mode and turns a missing model or field into one line saying what to do.

Usage::

    schema = check_schema(client, requested="auto")   # schema.mode == "addon" | "no_addon"
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from connector.erp.client import OdooClient
from connector.erp.errors import MissingModelError, missing_model_hint

log = logging.getLogger(__name__)

Mode = Literal["addon", "no_addon"]

STOCK_FIELDS: dict[str, tuple[str, ...]] = {
    "stock.quant": ("product_id", "location_id", "quantity", "reserved_quantity", "lot_id",
                    "package_id", "owner_id", "company_id"),
    "stock.location": ("complete_name", "location_id", "usage", "company_id", "active"),
    "stock.warehouse": ("code", "lot_stock_id", "company_id"),
}
ADDON_FIELDS: dict[str, tuple[str, ...]] = {
    "marketplace.channel": ("code", "marketplace", "active", "company_id", "warehouse_ids",
                            "excluded_location_ids", "buffer_qty", "max_qty",
                            "zero_stock_action"),
    "marketplace.listing": ("channel_id", "product_id", "channel_sku", "external_id",
                            "buffer_qty", "max_qty", "pack_size", "active", "sync_state",
                            "last_pushed_qty", "last_sync_at", "last_error"),
    "marketplace.allocation": ("channel_id", "product_id", "mode", "quantity", "date_start",
                               "date_end"),
}
# An explicit "the listing overrides the buffer" flag, if the addon has one: Odoo stores
# an empty Float as 0.0, so buffer_qty alone cannot say "inherit" on a real server.
BUFFER_FLAGS = ("buffer_override", "use_buffer_override")


@dataclass(frozen=True, slots=True)
class Schema:
    mode: Mode
    has_event_model: bool
    listing_buffer_flag: str | None = None


def check_schema(client: OdooClient, requested: Literal["auto", "addon", "no_addon"]) -> Schema:
    """Resolve the mode from `requested` and the installed models; verify required fields."""
    wanted = ["stock.quant", *ADDON_FIELDS, "marketplace.stock.event"]
    rows = client.call("ir.model", "search_read", [("model", "in", wanted)], ["model"])
    present = {row["model"] for row in rows}
    if "stock.quant" not in present:
        raise MissingModelError(missing_model_hint("stock.quant"))
    addon_present = all(model in present for model in ADDON_FIELDS)
    if requested == "addon" and not addon_present:
        missing = next(m for m in ADDON_FIELDS if m not in present)
        raise MissingModelError(missing_model_hint(missing))
    mode: Mode = "addon" if requested == "addon" or (requested == "auto" and addon_present) \
        else "no_addon"
    if requested == "auto":
        log.info("ERP mode: %s (marketplace_stock_sync addon %s)", mode,
                 "installed" if addon_present else "not installed; reading the config file")
    _require_fields(client, STOCK_FIELDS)
    flag = None
    if mode == "addon":
        fields = _require_fields(client, ADDON_FIELDS)
        listing = fields["marketplace.listing"]
        flag = next((f for f in BUFFER_FLAGS if listing.get(f, {}).get("type") == "boolean"), None)
    return Schema(mode=mode, has_event_model="marketplace.stock.event" in present,
                  listing_buffer_flag=flag)


def _require_fields(client: OdooClient,
                    required: dict[str, tuple[str, ...]]) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for model, names in required.items():
        fields = client.call(model, "fields_get", [], ["type"])
        missing = [name for name in names if name not in fields]
        if missing:
            hint = ("upgrade the addon marketplace_stock_sync" if model.startswith("marketplace.")
                    else "check the Odoo version and installed apps")
            raise MissingModelError(f"{model} lacks field(s) {', '.join(missing)}: {hint}")
        seen[model] = fields
    return seen
