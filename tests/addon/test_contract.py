"""Must show 2: the addon's models (read from its source) equal DESIGN.md's data contract,
the mock ERP's marketplace.* models and the fields the bridge reads and writes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from tests.addon.addon_source import (
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
    # channel's buffer" (connector.erp.schema.BUFFER_FLAGS); the mock ERP lacks it
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


@contextmanager
def mock_erp_fields() -> Iterator[dict[str, dict[str, Any]]]:
    """fields_get of the mock ERP's marketplace.* models: over JSON-RPC when its server
    exists, else from the schema module the server serves from."""
    try:
        from connector.mock_erp.server import start_mock_erp
    except ImportError:
        try:
            from connector.mock_erp.schema import build_schema
        except ImportError:
            pytest.skip("connector.mock_erp is not there yet")
        schema = build_schema("18.0")
        yield {
            model: {
                name: {"type": f.type, "relation": getattr(f, "relation", None) or False,
                       "store": f.store, "selection": getattr(f, "selection", None) or []}
                for name, f in schema[model].fields.items()
            }
            for model in DESIGN
        }
        return
    server = start_mock_erp()
    try:
        yield {model: _rpc_fields_get(server.url, model) for model in DESIGN}
    finally:
        for stop in ("stop", "shutdown", "close"):
            if callable(getattr(server, stop, None)):
                getattr(server, stop)()
                break


def _rpc(url: str, service: str, method: str, *args: Any) -> Any:
    payload = {"jsonrpc": "2.0", "method": "call", "id": 1,
               "params": {"service": service, "method": method, "args": list(args)}}
    reply = requests.post(url.rstrip("/") + "/jsonrpc", json=payload, timeout=10).json()
    assert "error" not in reply, reply
    return reply["result"]


def _rpc_fields_get(url: str, model: str) -> dict[str, Any]:
    uid = _rpc(url, "common", "login", "demo", "admin", "admin")
    result: dict[str, Any] = _rpc(url, "object", "execute_kw", "demo", uid, "admin", model,
                                  "fields_get", [], {"attributes": ["type", "relation",
                                                                    "store", "selection"]})
    return result


def test_addon_models_equal_the_mock_erp():
    ours = addon_fields()
    with mock_erp_fields() as theirs:
        for model in DESIGN:
            mock = {n: d for n, d in theirs[model].items() if n not in MAGIC_FIELDS}
            mock_stored = {n for n, d in mock.items() if d.get("store", True)}
            only_ours = set(ours[model]) - mock_stored
            assert only_ours <= {f for m, f in EXTRAS if m == model}, (model, only_ours)
            assert mock_stored - set(ours[model]) == set(), model
            for name in mock_stored:
                assert mock[name]["type"] == ours[model][name].type, (model, name)
                assert (mock[name].get("relation") or None) == ours[model][name].relation, (
                    model, name)
                if ours[model][name].selection:
                    keys = {key for key, _label in mock[name]["selection"]}
                    assert keys == set(ours[model][name].selection), (model, name)


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
