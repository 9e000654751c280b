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
    # One fields_get per model both proves the model exists and lists its fields. The
    # bridge group may not read ir.model on real Odoo (AccessError), while fields_get
    # needs no model access right (odoo/models.py: fields_get only hides fields whose
    # groups the user lacks), so this works for the least-privilege user.
    seen = {model: _fields_or_none(client, model)
            for model in [*STOCK_FIELDS, *ADDON_FIELDS, "marketplace.stock.event"]}
    if seen["stock.quant"] is None:
        raise MissingModelError(missing_model_hint("stock.quant"))
    absent = [model for model in ADDON_FIELDS if seen[model] is None]
    if requested == "addon" and absent:
        raise MissingModelError(missing_model_hint(absent[0]))
    mode: Mode = "addon" if requested == "addon" or (requested == "auto" and not absent) \
        else "no_addon"
    if requested == "auto":
        log.info("ERP mode: %s (marketplace_stock_sync addon %s)", mode,
                 "installed" if not absent else "not installed; reading the config file")
    _require_fields(seen, STOCK_FIELDS)
    flag = None
    if mode == "addon":
        _require_fields(seen, ADDON_FIELDS)
        listing = seen["marketplace.listing"] or {}
        flag = next((f for f in BUFFER_FLAGS if listing.get(f, {}).get("type") == "boolean"), None)
    return Schema(mode=mode, has_event_model=seen["marketplace.stock.event"] is not None,
                  listing_buffer_flag=flag)


def _fields_or_none(client: OdooClient, model: str) -> dict[str, Any] | None:
    try:
        fields: dict[str, Any] = client.call(model, "fields_get", [], ["type"])
    except MissingModelError:
        return None
    return fields


def _require_fields(seen: dict[str, dict[str, Any] | None],
                    required: dict[str, tuple[str, ...]]) -> None:
    for model, names in required.items():
        fields = seen[model]
        if fields is None:
            raise MissingModelError(missing_model_hint(model))
        missing = [name for name in names if name not in fields]
        if missing:
            hint = ("upgrade the addon marketplace_stock_sync" if model.startswith("marketplace.")
                    else "check the Odoo version and installed apps")
            raise MissingModelError(f"{model} lacks field(s) {', '.join(missing)}: {hint}")
