"""README "Run with a real Odoo", proven on real Odoo 18: scripts/odoo_provision.py as a
user runs it (with and without --kit), the printed key logs in and expires in 90 days,
and the quick-start's inventory adjustment over RPC behaves as README says."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import xmlrpc.client
from typing import Any

import pytest
import requests

from tests.odoo_real.kit import REPO, OdooServer

PROVISION = REPO / "scripts" / "odoo_provision.py"


def provision(real_odoo: OdooServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ODOO_ADMIN_PASSWORD": "admin",
           "BRIDGE_WEBHOOK_SECRET": "odoo-ops-readme-secret-0001"}
    return subprocess.run([sys.executable, str(PROVISION), "--url", real_odoo.url, "--db", real_odoo.db,
                           *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300,
                          check=False)


def test_provision_with_kit_prints_a_key_that_logs_in(real_odoo: OdooServer) -> None:
    done = provision(real_odoo, "--login", "odoo_ops_readme", "--bridge-url", "http://bridge:8765",
                     "--kit", str(real_odoo.kit.script))
    assert done.returncode == 0, done.stderr
    match = re.search(r"API key \(shown once; expires (\S+ \S+) UTC\): ([0-9a-f]{40})$", done.stdout, re.M)
    assert match, done.stdout
    expires, key = dt.datetime.fromisoformat(match.group(1)), match.group(2)
    assert dt.timedelta(days=89) < expires - dt.datetime.now(dt.UTC).replace(tzinfo=None) <= dt.timedelta(days=90)
    assert key not in done.stderr
    bridge = real_odoo.rpc("odoo_ops_readme", key)  # logs in with the printed key
    admin = real_odoo.admin
    (row,) = admin.call("res.users", "read", [bridge.uid], ["groups_id", "share"])
    assert admin.ref("marketplace_stock_sync.group_marketplace_bridge") in row["groups_id"]
    assert admin.ref("stock.group_stock_user") not in row["groups_id"] and not row["share"]
    # As the bridge user: its own key's expiry is readable (what the bridge warns from).
    keys = bridge.call("res.users.apikeys", "search_read", [("user_id", "=", bridge.uid)],
                       ["name", "expiration_date"])
    assert [(k["name"], k["expiration_date"]) for k in keys] == [("stock-bridge", match.group(1))]
    params = {p["key"]: p["value"] for p in admin.call(
        "ir.config_parameter", "search_read", [("key", "like", "marketplace_stock_sync.")], ["key", "value"])}
    assert "http://bridge:8765" in params.values()
    assert "odoo-ops-readme-secret-0001" in params.values()


def test_provision_without_kit_says_what_to_click(real_odoo: OdooServer) -> None:
    done = provision(real_odoo, "--login", "odoo_ops_readme2")
    assert done.returncode == 0, done.stderr
    assert "Preferences › Account Security › New API Key" in done.stdout
    assert "3 Months" in done.stdout
    assert real_odoo.admin.call("res.users", "search_count", [("login", "=", "odoo_ops_readme2")]) == 1


def test_provision_refuses_a_key_longer_than_the_group_allows(real_odoo: OdooServer) -> None:
    done = provision(real_odoo, "--key-days", "91", "--kit", str(real_odoo.kit.script))
    assert done.returncode == 2 and "--key-days must be 1..90" in done.stderr


def _quant(real_odoo: OdooServer) -> tuple[int, int]:
    admin = real_odoo.admin
    product = admin.call("product.product", "create", {
        "name": "README mug", "default_code": f"README-{os.getpid()}", "type": "consu", "is_storable": True})
    stock = admin.ref("stock.stock_location_stock")
    quant = admin.call("stock.quant", "create", {
        "product_id": product, "location_id": stock, "inventory_quantity": 7})
    return int(product), int(quant)


def _on_hand(real_odoo: OdooServer, product: int) -> float:
    rows: list[dict[str, Any]] = real_odoo.admin.call(
        "stock.quant", "search_read", [("product_id", "=", product), ("location_id.usage", "=", "internal")],
        ["quantity"])
    return sum(r["quantity"] for r in rows)


def test_inventory_adjustment_over_xmlrpc_faults_although_committed(real_odoo: OdooServer) -> None:
    """README's tip: action_apply_inventory returns None, which XML-RPC cannot carry."""
    product, quant = _quant(real_odoo)
    with pytest.raises(xmlrpc.client.Fault) as fault:
        real_odoo.admin.call("stock.quant", "action_apply_inventory", [quant])
    assert "cannot marshal None" in fault.value.faultString
    assert _on_hand(real_odoo, product) == 7  # committed all the same


def test_inventory_adjustment_over_jsonrpc_answers_without_a_result(real_odoo: OdooServer) -> None:
    product, quant = _quant(real_odoo)
    body = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
        "service": "object", "method": "execute_kw",
        "args": [real_odoo.db, real_odoo.admin.uid, "admin", "stock.quant", "action_apply_inventory",
                 [[quant]], {}]}}
    reply = requests.post(f"{real_odoo.url}/jsonrpc", data=json.dumps(body),
                          headers={"Content-Type": "application/json"}, timeout=60).json()
    # Odoo 18 leaves "result" out of the reply when it is None (odoo/http.py _response).
    assert "error" not in reply and "result" not in reply
    assert _on_hand(real_odoo, product) == 7
