"""The mock ERP's marketplace.* fields behave as the addon's on a real Odoo: an empty Float
reads 0.0, so `buffer_override` tells "inherit" from "no buffer"; an empty
`zero_stock_action` means the marketplace's own default. The bridge reads the demo the
same as before the flag existed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connector.config import parse_config
from connector.erp.client import connect
from connector.erp.source import StockSource
from connector.erp.transport import RetryPolicy
from connector.mock_erp.server import start_mock_erp
from connector.stock.model import ZeroStockAction
from tests.mock_erp.test_flows import make, x

pytestmark = pytest.mark.timeout(60)


def test_new_records_default_as_the_addon_does() -> None:
    db = make()
    chan = x(db, "marketplace.channel", "create",
             {"name": "Etsy 2", "code": "etsy_2", "marketplace": "etsy"})
    [crow] = x(db, "marketplace.channel", "read", [chan], fields=["zero_stock_action", "listing_count"])
    assert crow["zero_stock_action"] is False  # no push_zero default: the marketplace decides
    assert crow["listing_count"] == 0
    [mug] = x(db, "product.product", "search", [("default_code", "=", "MUG-CER-350")])
    lid = x(db, "marketplace.listing", "create", {"channel_id": chan, "product_id": mug, "channel_sku": "M"})
    [row] = x(db, "marketplace.listing", "read", [lid],
              fields=["buffer_override", "buffer_qty", "sync_state", "pack_size"])
    assert row["buffer_override"] is False
    assert row["buffer_qty"] == 0.0 and row["buffer_qty"] is not False  # a Float is never empty
    assert (row["sync_state"], row["pack_size"]) == ("pending", 1)
    [crow] = x(db, "marketplace.channel", "read", [chan], fields=["listing_count"])
    assert crow["listing_count"] == 1


def test_fields_get_describes_the_flag_and_the_empty_zero_action() -> None:
    db = make()
    listing = x(db, "marketplace.listing", "fields_get", ["buffer_override", "sync_state"],
                attributes=["type", "string", "required"])
    assert listing["buffer_override"] == {"type": "boolean", "string": "Buffer Override", "required": False}
    assert listing["sync_state"]["required"] is True
    chan = x(db, "marketplace.channel", "fields_get", ["zero_stock_action"],
             attributes=["required", "selection"])
    assert chan["zero_stock_action"]["required"] is False
    assert [k for k, _ in chan["zero_stock_action"]["selection"]] == ["push_zero", "deactivate", "end_listing"]


def test_the_bridge_reads_the_demo_buffers_and_zero_actions_as_before() -> None:
    with start_mock_erp() as server:
        config = parse_config({"erp": {"url": server.url, "database": server.database,
                                       "username": "bridge", "password": "bridge",
                                       "protocol": "jsonrpc", "timeout_s": 10}}, environ={})
        client = connect(config.erp, retry=RetryPolicy(attempts=2, initial_s=0.01, max_s=0.02,
                                                        jitter_s=0.0))
        try:
            source = StockSource(client, config)
            assert source.schema.listing_buffer_flag == "buffer_override"
            snap = source.snapshot(source.listed_product_ids(), now=datetime.now(UTC))
        finally:
            client.close()
    channels = {c.id: c for c in snap.channels.values()}
    buffers: dict[tuple[str, str], Any] = {
        (channels[item.channel_id].code, item.channel_sku): item.buffer_qty for item in snap.listings}
    assert buffers.pop(("amazon_de", "TEA-GREEN-100")) == 0.0  # overrides the channel's 2
    assert buffers.pop(("shopify_eu", "COFFEE-BEANS-1K")) == 3.0
    assert buffers.pop(("etsy_shop", "CANDLE-SOY-L")) == 2.0
    assert buffers and set(buffers.values()) == {None}  # all others inherit the channel's rule
    actions = {c.code: c.zero_stock_action for c in snap.channels.values()}
    assert actions.pop("etsy_shop") is ZeroStockAction.DEACTIVATE
    assert set(actions.values()) == {ZeroStockAction.PUSH_ZERO}
