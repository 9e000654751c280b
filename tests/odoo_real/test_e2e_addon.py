"""End to end against real Odoo 18 with the addon (issue 16 item 3).

One Odoo (the kit, the addon installed) for the module; per protocol (jsonrpc, xmlrpc) the
sandbox and `stock-bridge run` in its own process as the README's bridge user (Internal
User + Marketplace Bridge, an API key). Real stock operations are made over RPC as admin;
after each, every listing at the sandbox equals the number computed in the test from
Odoo's quants and the channel/listing/allocation config (tests/odoo_real/e2e_stack.py),
the bridge has read the whole outbox and its status write-back landed. At the end, the
bridge user wrote nothing in the database but listing sync status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.odoo_real.e2e_stack import (
    LATE_LISTING,
    LISTINGS,
    ODOO_OWN_RECORDS,
    AdminRpc,
    BridgeRun,
    ListingSpec,
    Shop,
    add_listing,
    bridge_writes,
    seed_shop,
)
from tests.odoo_real.kit import BridgeUser, OdooKit, OdooServer, unique_db

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def shop_odoo(kit: OdooKit) -> Iterator[OdooServer]:
    with kit.server(unique_db("odoo_e2e_addon")) as server:
        yield server


@pytest.fixture(scope="module")
def admin(shop_odoo: OdooServer) -> AdminRpc:
    return AdminRpc(shop_odoo.url, shop_odoo.db)


@pytest.fixture(scope="module")
def shop(admin: AdminRpc) -> Shop:
    return seed_shop(admin)


@pytest.fixture(scope="module")
def shop_bridge(shop_odoo: OdooServer, shop: Shop) -> BridgeUser:
    return shop_odoo.provision_bridge()


def _late_listing(protocol: str) -> ListingSpec:
    """Each run adds its own listing (the other run's already exists in Odoo)."""
    n = 42 if protocol == "jsonrpc" else 59
    return ListingSpec(LATE_LISTING.channel, LATE_LISTING.sku, f"{LATE_LISTING.channel_sku}-{protocol}",
                       f"gid://shopify/InventoryItem/531000000{n}")


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc"])
def test_stock_flows_reach_every_marketplace_as_odoo_computes_them(
        tmp_path: Path, shop_odoo: OdooServer, admin: AdminRpc, shop: Shop, shop_bridge: BridgeUser,
        protocol: str) -> None:
    late = _late_listing(protocol)
    specs = list(shop.specs)
    with BridgeRun.start(tmp_path, shop_odoo, shop_bridge, admin, specs, protocol,
                         sandbox_listings=[*specs, late]) as run:
        before = run.settle("first full sync")

        counted = admin.quants("E2E-MUG")["WH/Stock/Shelf A"][0]
        admin.set_quantity("E2E-MUG", "WH/Stock/Shelf A", counted - 5)
        after = run.settle("inventory adjustment")
        assert after[("amazon_de", "E2E-MUG")] == before[("amazon_de", "E2E-MUG")] - 5

        pid, backorder = admin.deliver_with_backorder("E2E-TEE", 5, 3)
        run.settle("delivery of 5 with 3 shipped and a backorder of 2")
        admin.validate(backorder)
        run.settle("the backorder shipped")

        admin.receive("E2E-LAMP", 4)
        run.settle("receipt")

        shipped = admin.deliver("E2E-LAMP", 2)
        out = run.settle("delivery before the return")
        admin.return_to(shipped, "WH/Quarantine")
        back = run.settle("return into quarantine (not sellable)")
        assert back == out, "a return into quarantine must not be offered"
        admin.transfer("E2E-LAMP", 2, "WH/Quarantine", "WH/Stock")
        released = run.settle("quarantine released to stock")
        assert released[("shopify_eu", "E2E-LAMP")] == out[("shopify_eu", "E2E-LAMP")] + 2

        ordered = admin.order("E2E-MUG", 4)
        held = run.settle("delivery confirmed and reserved")
        admin.cancel(ordered)
        freed = run.settle("delivery cancelled")
        assert freed[("shopify_eu", "E2E-MUG")] == held[("shopify_eu", "E2E-MUG")] + 4

        ordered = admin.order("E2E-MUG", 3)
        run.settle("another delivery reserved")
        admin.unreserve(ordered)
        unreserved = run.settle("delivery unreserved")
        assert unreserved[("shopify_eu", "E2E-MUG")] == held[("shopify_eu", "E2E-MUG")] + 4
        admin.cancel(ordered)
        run.settle("the unreserved delivery cancelled")

        allocation = admin.allocate("shopify_eu", "E2E-MUG", "allocation", 5)
        started = run.settle("allocation to Shopify started")
        assert started[("shopify_eu", "E2E-MUG")] == 5
        end = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
        admin("marketplace.allocation", "write", [allocation], {"date_end": end})
        ended = run.settle("allocation ended")
        assert ended[("shopify_eu", "E2E-MUG")] > 5

        admin("marketplace.channel", "write", [shop.channels["shopify_eu"]], {"buffer_qty": 3})
        buffered = run.settle("Shopify's buffer raised to 3")
        assert buffered[("shopify_eu", "E2E-MUG")] == ended[("shopify_eu", "E2E-MUG")] - 3
        admin("marketplace.channel", "write", [shop.channels["shopify_eu"]], {"buffer_qty": 0})
        run.settle("Shopify's buffer back to 0")

        add_listing(admin, shop, late)
        run.refs[(late.channel, late.channel_sku)] = "shopify"
        added = run.settle("a listing added")
        assert added[(late.channel, late.channel_sku)] > 0

        base = run.settle("before the multi-warehouse moves", outbox=False)
        admin.receive("E2E-MUG", 6, dest="WH2/Stock", warehouse="WH2")
        wh2 = run.settle("receipt into the second warehouse")
        assert wh2[("amazon_de", "E2E-MUG")] == base[("amazon_de", "E2E-MUG")] + 6
        assert wh2[("bol_nl", "8719990000011")] == base[("bol_nl", "8719990000011")]  # bol sells WH only
        admin.set_quantity("E2E-MUG", "WH/Stock/Shelf B", admin.quants("E2E-MUG")["WH/Stock/Shelf B"][0] + 7)
        shelf = run.settle("count in Shelf B (excluded on bol)")
        assert shelf[("bol_nl", "8719990000011")] == wh2[("bol_nl", "8719990000011")]
        assert shelf[("shopify_eu", "E2E-MUG")] > wh2[("shopify_eu", "E2E-MUG")]

    _assert_bridge_wrote_only_status(shop_odoo, admin, shop, shop_bridge)


def _assert_bridge_wrote_only_status(odoo: OdooServer, admin: AdminRpc, shop: Shop, user: BridgeUser) -> None:
    written = {t: n for t, n in bridge_writes(odoo, user.uid).items() if t not in ODOO_OWN_RECORDS}
    assert set(written) == {"marketplace_listing"}, f"the bridge user wrote: {written}"
    # ...and of the listings, nothing the admin set: their configuration is as created.
    rows = admin("marketplace.listing", "search_read", [], ["channel_id", "channel_sku", "external_id",
                                                            "pack_size", "buffer_override", "max_qty", "active"])
    codes = {cid: code for code, cid in shop.channels.items()}
    made = {(s.channel, s.channel_sku): s for s in shop.specs}
    assert len(rows) == len(made) >= len(LISTINGS)
    for row in rows:
        spec = made[(codes[row["channel_id"][0]], row["channel_sku"])]
        assert (row["external_id"] or None, row["pack_size"], row["buffer_override"], row["max_qty"],
                row["active"]) == (spec.external_id, spec.pack_size, False, 0, True)
