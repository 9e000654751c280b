"""Configuration changes reach the marketplaces without a resync (issue: config events).

A flash-sale allocation created over RPC, one that starts a moment later without any
write, and a listing's own buffer: each writes a "manual" outbox event in the ERP, the
webhook wakes the bridge, and the sandbox shows the new numbers within a bounded wait,
with the safety-net resync an hour away (TEST_BRIDGE) and nobody pressing "resync".
Numbers from fixtures/demo, as in test_scenarios.py scenario 7.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.harness import Stack

pytestmark = pytest.mark.timeout(60)

SKU = "BOTTLE-STEEL-750"
# free 55; amazon_de's allocation of 10: amazon min(10, 55) - 2 = 8, the others 45 - buffer.
BEFORE = {"amazon_de": 8, "bol_nl": 44, "kaufland_de": 45, "ebay_de": 44, "shopify_eu": 45,
          "lazada_sg": 43, "shopee_sg": 43}
# + a Shopee reservation of 20: shopee still sees 55 - 10 - 2 = 43, the others 25 - buffer.
RESERVED = {"amazon_de": 8, "bol_nl": 24, "kaufland_de": 25, "ebay_de": 24, "shopify_eu": 25,
            "lazada_sg": 23, "shopee_sg": 43}
WAIT_S = 5.0  # the webhook makes it milliseconds; the outbox poll (0.25 s) is the backstop


def _manual_events(stack: Stack, after: int) -> list[int]:
    rows = stack.rpc("marketplace.stock.event", "search_read", [["id", ">", after], ["reason", "=", "manual"]],
                     ["product_id"])
    return [r["product_id"][0] for r in rows]


def test_allocation_created_over_rpc_reaches_the_other_channels(stack: Stack) -> None:
    assert stack.qty(SKU) == BEFORE
    mark = stack.rpc.last_event_id()
    stack.rpc.allocate("shopee_sg", SKU, "reservation", 20)
    assert _manual_events(stack, mark) == [stack.rpc.product(SKU)]
    stack.wait_for(lambda: stack.qty(SKU) == RESERVED, timeout=WAIT_S, what="the reservation on every channel")

    # Ending the flash sale (unlink) gives the units back.
    [aid] = stack.rpc("marketplace.allocation", "search", [["channel_id", "=", stack.rpc.channel("shopee_sg")]])
    stack.rpc("marketplace.allocation", "unlink", [aid])
    stack.wait_for(lambda: stack.qty(SKU) == BEFORE, timeout=WAIT_S, what="the units back after the sale")


def test_allocation_starting_later_applies_without_a_write(stack: Stack) -> None:
    start = datetime.now(UTC) + timedelta(seconds=2)
    stack.rpc("marketplace.allocation", "create", {
        "channel_id": stack.rpc.channel("shopee_sg"), "product_id": stack.rpc.product(SKU),
        "mode": "reservation", "quantity": 20, "date_start": start.strftime("%Y-%m-%d %H:%M:%S")})
    stack.settle()
    assert stack.qty(SKU) == BEFORE, "not started yet"
    mark = stack.rpc.last_event_id()
    # Nothing writes again: the bridge's own outbox polls let the ERP notice the start.
    stack.wait_for(lambda: stack.qty(SKU) == RESERVED, timeout=3.0 + WAIT_S, what="the reservation at its start")
    assert stack.rpc.product(SKU) in _manual_events(stack, mark)


def test_listing_buffer_change_updates_that_listing(stack: Stack) -> None:
    [lid] = stack.rpc("marketplace.listing", "search", [["channel_id", "=", stack.rpc.channel("shopify_eu")],
                                                        ["product_id", "=", stack.rpc.product(SKU)]])
    stack.rpc("marketplace.listing", "write", [lid], {"buffer_override": True, "buffer_qty": 5})
    stack.wait_for(lambda: stack.qty(SKU)["shopify_eu"] == 40, timeout=WAIT_S, what="shopify's own buffer")
    stack.settle()
    assert stack.qty(SKU) == {**BEFORE, "shopify_eu": 40}
    # The bridge's sync-status write-back after that push queued no event (no loop).
    mark = stack.rpc.last_event_id()
    stack.settle()
    assert stack.rpc.last_event_id() == mark


def test_channel_buffer_change_over_rpc_reaches_that_channel_without_a_resync(stack: Stack) -> None:
    # The channel record sits in the bridge's cached ERP config view (erp.cache_ttl_s, a
    # minute): only the "manual" outbox events make it read the channels again at once.
    assert stack.qty(SKU) == BEFORE
    mark = stack.rpc.last_event_id()
    stack.rpc("marketplace.channel", "write", [stack.rpc.channel("bol_nl")], {"buffer_qty": 6})
    assert stack.rpc.product(SKU) in _manual_events(stack, mark)
    stack.wait_for(lambda: stack.qty(SKU)["bol_nl"] == 39, timeout=WAIT_S, what="bol's new channel buffer")
    stack.settle()
    assert stack.qty(SKU) == {**BEFORE, "bol_nl": 39}  # 45 - 6 there, nothing else moved
