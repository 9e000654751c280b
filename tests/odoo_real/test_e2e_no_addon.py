"""End to end against real Odoo 18 without the addon (issue 16 item 3, no-addon mode).

A database from the kit's template (stock, no addon), base_automation installed as an
administrator would from Apps. The bridge runs in `mode = "no_addon"` with the channels and
listings in its config file, as a user with Internal User + Inventory User (no addon, so
no Marketplace Bridge group). Two runs: write_date polling alone finds the changes; and
with a long poll interval, Odoo 18's automation rule "Send Webhook Notification" on
stock.quant (`?token=` in the URL) wakes the bridge well before the next poll.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.odoo_real.e2e_stack import (
    AUTOMATION_TOKEN,
    LISTINGS,
    AdminRpc,
    BridgeRun,
    expected_from_file,
    file_channels,
    seed_stock,
)
from tests.odoo_real.kit import BridgeUser, OdooKit, OdooServer, unique_db

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SLOW_POLL_S = 300  # the automation run: no poll can explain a change seen within WAIT_S


@pytest.fixture(scope="module")
def plain_odoo(kit: OdooKit) -> Iterator[OdooServer]:
    with kit.server(unique_db("odoo_e2e_noaddon"), addon=False) as server:
        yield server


@pytest.fixture(scope="module")
def admin(plain_odoo: OdooServer) -> AdminRpc:
    rpc = AdminRpc(plain_odoo.url, plain_odoo.db)
    [module] = rpc("ir.module.module", "search", [["name", "=", "base_automation"]])
    rpc("ir.module.module", "button_immediate_install", [module])
    seed_stock(rpc)
    return rpc


@pytest.fixture(scope="module")
def stock_reader(plain_odoo: OdooServer, admin: AdminRpc) -> BridgeUser:
    """Without the addon there is no bridge group: an Internal User with Inventory User
    (read stock), its API key for the default 1 day Odoo allows such a user."""
    groups = [_ref(admin, "base.group_user"), _ref(admin, "stock.group_stock_user")]
    uid = admin.create("res.users", {"name": "Stock Bridge", "login": "bridge", "groups_id": [(6, 0, groups)]})
    key, expires = plain_odoo.kit.make_api_key(plain_odoo.db, uid, 1)
    return BridgeUser(login="bridge", password=key, uid=uid, key_expires=expires)


def _ref(admin: AdminRpc, xmlid: str) -> int:
    module, name = xmlid.split(".", 1)
    [row] = admin("ir.model.data", "search_read", [["module", "=", module], ["name", "=", name]], ["res_id"])
    return int(row["res_id"])


def _run(tmp: Path, odoo: OdooServer, user: BridgeUser, admin: AdminRpc,
         poll_s: float) -> AbstractContextManager[BridgeRun]:
    config = {"channels": file_channels(list(LISTINGS)), "bridge": {"poll_interval_s": poll_s}}
    return BridgeRun.start(tmp, odoo, user, admin, list(LISTINGS), "jsonrpc", mode="no_addon", config=config,
                           expect=lambda: expected_from_file(admin, list(LISTINGS)))


def test_write_date_polling_finds_stock_changes(tmp_path: Path, plain_odoo: OdooServer, admin: AdminRpc,
                                                stock_reader: BridgeUser) -> None:
    with _run(tmp_path, plain_odoo, stock_reader, admin, poll_s=1) as run:
        before = run.settle("first full sync", outbox=False, status=False)
        counted = admin.quants("E2E-MUG")["WH/Stock/Shelf A"][0]
        admin.set_quantity("E2E-MUG", "WH/Stock/Shelf A", counted - 4)
        after = run.settle("inventory adjustment found by polling", outbox=False, status=False)
        assert after[("shopify_eu", "E2E-MUG")] == before[("shopify_eu", "E2E-MUG")] - 4
        admin.deliver("E2E-TEE", 2)
        run.settle("delivery found by polling", outbox=False, status=False)
        admin.receive("E2E-MUG", 5, dest="WH2/Stock", warehouse="WH2")
        wh2 = run.settle("receipt into the second warehouse found by polling", outbox=False, status=False)
        assert wh2[("bol_nl", "8719990000011")] == after[("bol_nl", "8719990000011")]  # bol sells WH only


def test_odoo_automation_rule_webhook_wakes_the_bridge(tmp_path: Path, plain_odoo: OdooServer, admin: AdminRpc,
                                                       stock_reader: BridgeUser) -> None:
    with _run(tmp_path, plain_odoo, stock_reader, admin, poll_s=SLOW_POLL_S) as run:
        rule = _automation_rule(admin, f"{run.url}/v1/triggers?token={AUTOMATION_TOKEN}")
        try:
            before = run.settle("first full sync", outbox=False, status=False)
            counted = admin.quants("E2E-LAMP")["WH/Stock"][0]
            admin.set_quantity("E2E-LAMP", "WH/Stock", counted + 3)
            after = run.settle("inventory adjustment, woken by the automation rule", outbox=False, status=False)
            assert after[("shopify_eu", "E2E-LAMP")] == before[("shopify_eu", "E2E-LAMP")] + 3
            admin.deliver("E2E-LAMP", 1)
            run.settle("delivery, woken by the automation rule", outbox=False, status=False)
        finally:
            admin("base.automation", "unlink", [rule])


def _automation_rule(admin: AdminRpc, url: str) -> int:
    """Automation › New: on stock.quant, "On save", action "Send Webhook Notification"
    with the product in the payload."""
    [model] = admin("ir.model", "search", [["model", "=", "stock.quant"]])
    [product_field] = admin("ir.model.fields", "search", [["model", "=", "stock.quant"], ["name", "=", "product_id"]])
    return admin.create("base.automation", {
        "name": "Wake the stock bridge", "model_id": model, "trigger": "on_create_or_write",
        "action_server_ids": [(0, 0, {"name": "Tell the stock bridge", "model_id": model, "state": "webhook",
                                      "webhook_url": url, "webhook_field_ids": [(6, 0, [product_field])]})],
    })
