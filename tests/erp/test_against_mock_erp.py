"""The ERP client end to end against the bundled mock ERP (real HTTP on 127.0.0.1).

Every ORM call the bridge makes goes over each transport (jsonrpc, xmlrpc, json2), and
the version handling is checked with the mock reporting 16.0, 17.0, 18.0 and 19.0.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from connector.config import BridgeConfig, parse_config
from connector.erp.changes import OutboxFeed, WriteDatePoller
from connector.erp.client import RpcClient, connect
from connector.erp.errors import AuthenticationError, MissingRecordError
from connector.erp.source import StockSource
from connector.erp.status import ListingStatus, ListingStatusWriter
from connector.erp.transport import RetryPolicy
from connector.stock.model import SyncState

mock_server = pytest.importorskip("connector.mock_erp.server",
                                  reason="mock ERP server not available yet")

pytestmark = pytest.mark.timeout(60)
API_KEY = "demo-bridge-api-key-0000000000000000"
FAST = RetryPolicy(attempts=2, initial_s=0.01, max_s=0.02, jitter_s=0.0)


@pytest.fixture(scope="module", params=["16.0", "17.0", "18.0", "19.0"])
def erp(request: pytest.FixtureRequest) -> Iterator[Any]:
    with mock_server.start_mock_erp(version=request.param) as server:
        yield server


def config_for(server: Any, protocol: str = "jsonrpc", **erp_extra: Any) -> BridgeConfig:
    erp: dict[str, Any] = {"url": server.url, "database": server.database,
                           "username": "bridge", "protocol": protocol, "timeout_s": 10}
    if protocol == "json2":
        erp["api_key"] = API_KEY
    else:
        erp["password"] = "bridge"
    erp.update(erp_extra)
    return parse_config({"erp": erp}, environ={})


def protocols(server: Any) -> list[str]:
    return ["jsonrpc", "xmlrpc"] + (["json2"] if server.version.startswith("19") else [])


def open_client(server: Any, protocol: str) -> RpcClient:
    return connect(config_for(server, protocol).erp, retry=FAST)


def test_version_is_detected_and_field_names_follow_it(erp: Any) -> None:
    for protocol in protocols(erp):
        client = open_client(erp, protocol)
        try:
            assert client.server_series == erp.version
            storable = client.call("product.product", "search_read",
                                   list(client.profile.storable_domain), ["default_code"])
            codes = {row["default_code"] for row in storable}
            assert "LAMP-DESK-01" in codes and len(codes) >= 20
            fields = client.call("product.product", "fields_get", [], ["type"])
            assert client.profile.product_type_field in fields
            move_fields = client.call("stock.move", "fields_get", [], ["type"])
            assert client.profile.move_quantity_field in move_fields
            assert ("quantity_done" in move_fields) == (erp.version == "16.0")
        finally:
            client.close()


def test_every_bridge_call_over_every_transport(erp: Any) -> None:
    for protocol in protocols(erp):
        client = open_client(erp, protocol)
        try:
            source = StockSource(client, config_for(erp, protocol))
            assert source.mode == "addon"
            listed = source.listed_product_ids()
            assert len(listed) >= 15
            snap = source.snapshot(listed, now=datetime.now(UTC))
            codes = {c.code for c in snap.channels.values()}
            assert {"amazon_de", "bol_nl", "kaufland_de", "etsy_shop", "shopee_sg"} <= codes
            names = {loc.name for loc in snap.locations.values()}
            assert "WH/Stock/Backroom" in names and "WH2/Stock/Bin 1" in names
            assert "WH/Quarantine" not in names and "WH/Output" not in names
            assert all(snap.locations[q.location_id].usage == "internal" for q in snap.quants)
            by_code = {p.default_code: p.id for p in snap.products.values()}
            lamp = sum(q.quantity - q.reserved_quantity for q in snap.quants
                       if q.product_id == by_code["LAMP-DESK-01"])
            assert lamp == 1
            assert {a.mode.value for a in snap.allocations} == {"allocation", "reservation"}
            packs = [item for item in snap.listings if item.pack_size == 6]
            assert packs and packs[0].channel_sku.startswith("MUG")
            assert source.product_ids_for_skus(["LAMP-DESK-01"]) == {
                "LAMP-DESK-01": by_code["LAMP-DESK-01"]}

            feed = OutboxFeed(client)
            latest = feed.latest_id()
            assert all(e.id > latest for e in feed.read(latest))
            _, mark = WriteDatePoller(client).poll(None)
            assert len(mark) == 19

            writer = ListingStatusWriter(client, enabled=True)
            listing = snap.listings[0]
            at = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
            assert writer.write([ListingStatus(listing.id, SyncState.SYNCED, 3, at, None)]) == 1
            (row,) = client.call("marketplace.listing", "read", [listing.id],
                                 ["sync_state", "last_pushed_qty", "last_sync_at"])
            assert (row["sync_state"], row["last_pushed_qty"]) == ("synced", 3)
            assert row["last_sync_at"].startswith("2025-03-01 12:00:00")
            with pytest.raises(MissingRecordError):
                client.call("marketplace.listing", "write", [999_999], {"sync_state": "error"})
        finally:
            client.close()


def test_snapshot_call_count_does_not_grow_with_products(erp: Any) -> None:
    client = open_client(erp, "jsonrpc")
    try:
        source = StockSource(client, config_for(erp))
        listed = source.listed_product_ids()
        source.snapshot(listed[:1])  # warm the configuration cache
        before = client.calls
        source.snapshot(listed[:1])
        one = client.calls - before
        before = client.calls
        big = source.snapshot([*listed, *range(100_000, 101_000)])
        assert client.calls - before == one == 4
        assert len(big.product_ids) >= 1000
    finally:
        client.close()


def test_no_addon_mode_reads_channels_from_the_file(erp: Any) -> None:
    config = parse_config({
        "erp": {"url": erp.url, "database": erp.database, "password": "bridge",
                "mode": "no_addon"},
        "channels": {"bol_nl": {"marketplace": "bol", "warehouses": ["WH", "WH2"],
                                "excluded_locations": ["WH/Stock/Shelf B"],
                                "listings": [{"sku": "LAMP-DESK-01"}]}},
    }, environ={})
    client = connect(config.erp, retry=FAST)
    try:
        source = StockSource(client, config)
        assert source.mode == "no_addon"
        (lamp_id,) = source.listed_product_ids()
        snap = source.snapshot([lamp_id])
        (channel,) = snap.channels.values()
        assert channel.id == 1 and snap.listings[0].id == 100_001
        assert snap.locations[channel.excluded_location_ids[0]].name == "WH/Stock/Shelf B"
        assert sum(q.quantity for q in snap.quants) == 1
        changed, mark = WriteDatePoller(client).poll("2000-01-01 00:00:00")
        assert lamp_id in changed and mark > "2000"
    finally:
        client.close()


def test_wrong_credentials_over_every_transport(erp: Any) -> None:
    for protocol in protocols(erp):
        secret = {"api_key": "wrong-key"} if protocol == "json2" else {"password": "wrong"}
        with pytest.raises(AuthenticationError):
            connect(config_for(erp, protocol, **secret).erp, retry=FAST)


def test_api_key_never_logged_in_a_real_json2_session(erp: Any,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    if not erp.version.startswith("19"):
        pytest.skip("json2 is 19.0+")
    import logging

    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    client = open_client(erp, "json2")
    try:
        source = StockSource(client, config_for(erp, "json2"))
        source.snapshot(source.listed_product_ids())
        texts.append(repr(client))
        try:
            client.call("marketplace.listing", "write", [999_999], {"sync_state": "error"})
        except MissingRecordError as exc:
            texts.append(str(exc))
    finally:
        client.close()
    with pytest.raises(AuthenticationError) as info:
        connect(config_for(erp, "json2", api_key=API_KEY[:-1] + "1").erp, retry=FAST)
    texts.append(str(info.value))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "connected to Odoo 19.0" in logged and len(texts) == 3
    for text in [logged, *texts]:
        assert API_KEY not in text and API_KEY[:-1] + "1" not in text
