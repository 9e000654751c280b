"""Must show 2: the addon's models (read from its source) equal DESIGN.md's data contract,
the mock ERP's marketplace.* models and the fields the bridge reads and writes."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from tests.addon.addon_source import (
    ADDON,
    MAGIC_FIELDS,
    ROOT,
    FieldDef,
    module_constant,
    read_models,
)

# DESIGN.md, "The addon's data contract": model -> field -> (type, relation).
DESIGN: dict[str, dict[str, tuple[str, str | None]]] = {
    "marketplace.channel": {
        "name": ("char", None),
        "code": ("char", None),
        "marketplace": ("selection", None),
        "active": ("boolean", None),
        "company_id": ("many2one", "res.company"),
        "warehouse_ids": ("many2many", "stock.warehouse"),
        "excluded_location_ids": ("many2many", "stock.location"),
        "buffer_qty": ("float", None),
        "buffer_policy": ("selection", None),
        "advised_buffer_min": ("float", None),
        "advised_buffer_max": ("float", None),
        "max_qty": ("float", None),
        "zero_stock_action": ("selection", None),
    },
    "marketplace.listing": {
        "channel_id": ("many2one", "marketplace.channel"),
        "product_id": ("many2one", "product.product"),
        "channel_sku": ("char", None),
        "external_id": ("char", None),
        "buffer_qty": ("float", None),
        "max_qty": ("float", None),
        "pack_size": ("integer", None),
        "active": ("boolean", None),
        "sync_state": ("selection", None),
        "last_pushed_qty": ("float", None),
        "last_sync_at": ("datetime", None),
        "last_error": ("text", None),
    },
    "marketplace.allocation": {
        "channel_id": ("many2one", "marketplace.channel"),
        "product_id": ("many2one", "product.product"),
        "mode": ("selection", None),
        "quantity": ("float", None),
        "date_start": ("datetime", None),
        "date_end": ("datetime", None),
    },
    "marketplace.stock.event": {
        "product_id": ("many2one", "product.product"),
        "reason": ("selection", None),
        "move_id": ("many2one", "stock.move"),
    },
}
SELECTIONS = {
    ("marketplace.channel", "marketplace"): {
        "amazon", "bol", "zalando", "kaufland", "ebay", "shopify", "etsy", "woocommerce",
        "lazada", "shopee",
    },
    ("marketplace.channel", "zero_stock_action"): {"push_zero", "deactivate", "end_listing"},
    ("marketplace.listing", "sync_state"): {"pending", "synced", "error", "deactivated", "locked"},
    ("marketplace.allocation", "mode"): {"allocation", "reservation"},
    ("marketplace.stock.event", "reason"): {
        "move_done", "reservation", "adjustment", "receipt", "return", "cancel", "manual",
    },
}
# Stored fields beyond DESIGN.md, each with its reason:
EXTRAS = {
    # the inverse of listing.channel_id, which the mock ERP serves too
    ("marketplace.channel", "listing_ids"),
    # a real Odoo stores an empty Float as 0.0: this flag says "the listing overrides the
    # channel's buffer" (connector.erp.schema.BUFFER_FLAGS)
    ("marketplace.listing", "buffer_override"),
}


def addon_fields() -> dict[str, dict[str, FieldDef]]:
    models = read_models()
    return {
        name: {f: d for f, d in models[name].fields.items() if d.stored}
        for name in DESIGN
    }


def test_addon_models_are_the_design_contract():
    for model, fields in addon_fields().items():
        contract = DESIGN[model]
        extras = {f for f in fields if (model, f) in EXTRAS}
        assert set(fields) - extras == set(contract), model
        for name, (ftype, relation) in contract.items():
            assert (fields[name].type, fields[name].relation) == (ftype, relation), (model, name)
    for (model, name), keys in SELECTIONS.items():
        assert set(addon_fields()[model][name].selection) == keys, (model, name)


def addon_required() -> dict[str, set[str]]:
    """model -> the fields the addon declares required=True (addon_source does not keep it)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ADDON / "models").glob("*.py")):
        for cls in ast.walk(ast.parse(path.read_text())):
            if not isinstance(cls, ast.ClassDef):
                continue
            assigns = {stmt.targets[0].id: stmt.value for stmt in cls.body
                       if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                       and isinstance(stmt.targets[0], ast.Name)}
            name = next((node.value for key, node in assigns.items()
                         if key in ("_name", "_inherit") and isinstance(node, ast.Constant)), None)
            if name not in DESIGN:
                continue
            for fname, call in assigns.items():
                if isinstance(call, ast.Call) and any(
                        kw.arg == "required" and ast.literal_eval(kw.value) is True
                        for kw in call.keywords):
                    found.setdefault(name, set()).add(fname)
    return found


@contextmanager
def mock_erp_fields() -> Iterator[dict[str, dict[str, dict[str, Any]]]]:
    """fields_get of the mock ERP's marketplace.* models (magic fields left out), over
    JSON-RPC from a running mock ERP."""
    from connector.mock_erp.server import start_mock_erp

    server = start_mock_erp()
    try:
        yield {model: {name: attrs for name, attrs in _rpc_fields_get(server.url, model).items()
                       if name not in MAGIC_FIELDS}
               for model in DESIGN}
    finally:
        server.stop()


def _rpc(url: str, service: str, method: str, *args: Any) -> Any:
    payload = {"jsonrpc": "2.0", "method": "call", "id": 1,
               "params": {"service": service, "method": method, "args": list(args)}}
    reply = requests.post(url.rstrip("/") + "/jsonrpc", json=payload, timeout=10).json()
    assert "error" not in reply, reply
    return reply["result"]


def _rpc_fields_get(url: str, model: str) -> dict[str, Any]:
    uid = _rpc(url, "common", "login", "demo", "admin", "admin")
    result: dict[str, Any] = _rpc(
        url, "object", "execute_kw", "demo", uid, "admin", model, "fields_get", [],
        {"attributes": ["type", "relation", "store", "selection", "required"]})
    return result


def test_addon_models_equal_the_mock_erp():
    """Every field of the addon's marketplace.* models, computed ones included, is in the
    mock ERP with the same type, relation, selection keys, required flag and storage, and
    the mock ERP has no field the addon lacks."""
    models = read_models()
    required = addon_required()
    with mock_erp_fields() as theirs:
        for model in DESIGN:
            ours = models[model].fields
            mock = theirs[model]
            assert set(mock) == set(ours), (model, set(mock) ^ set(ours))
            for name, ofield in ours.items():
                got = mock[name]
                assert got["type"] == ofield.type, (model, name)
                assert (got.get("relation") or None) == ofield.relation, (model, name)
                keys = {key for key, _label in got.get("selection") or []}
                assert keys == set(ofield.selection), (model, name)
                assert got["required"] == (name in required.get(model, set())), (model, name)
                if ofield.type != "one2many":  # the mock reports o2m as not stored
                    assert got["store"] == ofield.stored, (model, name)


def test_contract_sees_required_and_defaults_where_they_matter():
    """Guards the parsing above: a broken addon_required() would make the test vacuous."""
    required = addon_required()
    assert {"name", "code", "marketplace", "company_id"} <= required["marketplace.channel"]
    assert "sync_state" in required["marketplace.listing"]
    assert "zero_stock_action" not in required["marketplace.channel"]
    listing = read_models()["marketplace.listing"].fields
    assert listing["buffer_override"].type == "boolean"


def test_bridge_reads_only_fields_the_addon_has():
    try:
        from connector.erp import changes, schema
    except ImportError:
        pytest.skip("connector.erp is not there yet")
    ours = addon_fields()
    for model, names in schema.ADDON_FIELDS.items():
        assert set(names) <= set(ours[model]), model
    assert "buffer_override" in schema.BUFFER_FLAGS
    event_reads = re.findall(r'\["product_id", "reason", "create_date"\]',
                             (ROOT / "connector/erp/changes.py").read_text())
    assert event_reads, "the outbox feed's field list moved: update this test"
    assert {"product_id", "reason"} <= set(ours[changes.EVENT_MODEL])


def test_bridge_writes_only_what_its_group_may_write():
    status_py = ROOT / "connector/erp/status.py"
    if not status_py.exists():
        pytest.skip("connector/erp/status.py is not there yet")
    listing = set(addon_fields()["marketplace.listing"])
    written = {k for k in re.findall(r'"(\w+)":', status_py.read_text()) if k in listing}
    allowed = module_constant("models/marketplace_listing.py", "BRIDGE_WRITABLE_FIELDS")
    assert written and written <= allowed, written - allowed
