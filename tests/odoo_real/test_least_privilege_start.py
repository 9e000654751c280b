"""The bridge starts and reads stock on real Odoo 18 as the README's bridge user."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import SecretStr

from connector.config import BridgeConfig, ErpConfig
from connector.erp.client import connect
from connector.erp.errors import AccessError
from connector.erp.source import StockSource
from tests.odoo_real.kit import BridgeUser, OdooServer


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc"])
def test_bridge_user_starts_in_addon_mode(real_odoo: OdooServer, bridge_user: BridgeUser,
                                          protocol: str) -> None:
    erp = ErpConfig(url=real_odoo.url, database=real_odoo.db, username=bridge_user.login,
                    password=SecretStr(bridge_user.password), protocol=protocol,  # type: ignore[arg-type]
                    mode="addon")
    client = connect(erp)
    try:
        source = StockSource(client, BridgeConfig(erp=erp))
        assert source.mode == "addon"
        # The right the old start-up needed, which this user does not have.
        with pytest.raises(AccessError, match="ir.model"):
            client.call("ir.model", "search_read", [], ["model"], limit=1)
    finally:
        client.close()


def test_bridge_key_lives_90_days_not_odoos_default_one(bridge_user: BridgeUser) -> None:
    assert bridge_user.key_expires is not None
    expires = dt.datetime.fromisoformat(bridge_user.key_expires)
    assert expires - dt.datetime.now() > dt.timedelta(days=89)


def test_bridge_user_has_exactly_the_readme_groups(real_odoo: OdooServer,
                                                   bridge_user: BridgeUser) -> None:
    admin = real_odoo.admin
    wanted = {admin.ref("base.group_user"), admin.ref("marketplace_stock_sync.group_marketplace_bridge")}
    (row,) = admin.call("res.users", "read", [bridge_user.uid], ["groups_id"])
    assert wanted <= set(row["groups_id"])
    # No Inventory right: everything the bridge reads comes from the Marketplace Bridge group.
    assert admin.ref("stock.group_stock_user") not in row["groups_id"]
    assert admin.ref("base.group_system") not in row["groups_id"]
