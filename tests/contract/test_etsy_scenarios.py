"""Issue 17 scenario: an Etsy listing whose variants get different numbers, over real HTTP
against the sandbox (its Etsy is written from the spec: connector/sandbox/etsy.py), with a
sale landing between the adapter's read and write, and the listing going offline at 0.

Spec, updateListingInventory: "The update fails if the supplied values for product sku,
offering quantity, and/or price are incompatible with values in `*_on_property_*` fields";
quantity_on_property: "the properties that change the quantity of the products".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from connector.marketplaces.base import Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.marketplaces.registry import build_adapter
from connector.sandbox.client import SandboxAdmin
from connector.sandbox.server import RunningSandbox, start_sandbox
from connector.stock.model import PushAction

CREDS = {"keystring": "etsykey", "shared_secret": "etsy-shared-1234", "refresh_token": "123.etsy-refresh",
         "shop_id": "5001"}


def variant(sku: str, product_id: int, value_id: int, name: str, quantity: int) -> dict[str, Any]:
    return {"sku": sku, "external_id": f"777/{product_id}", "quantity": quantity, "status": "active",
            "shop_id": "5001", "quantity_on_property": [],
            "property_values": [{"property_id": 200, "property_name": "Primary color", "scale_id": None,
                                 "value_ids": [value_id], "values": [name]}]}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_sandbox() as running:
        yield running


@pytest.fixture
def admin(sandbox: RunningSandbox) -> Iterator[SandboxAdmin]:
    client = SandboxAdmin(sandbox.url)
    client.reset(reseed=False)
    client.add_account("etsy", CREDS)
    client.set_faults("etsy", rate_limit=None)  # many calls in a moment; the ManualClock never waits
    client.add_listings("etsy", [variant("MUG-RED", 1, 1213, "Red", 5), variant("MUG-BLUE", 2, 1214, "Blue", 5)])
    yield client
    client.close()


def held(admin: SandboxAdmin) -> dict[str, tuple[int, bool]]:
    out = {}
    for sku in ("MUG-RED", "MUG-BLUE"):
        row = admin.listing("etsy", sku)
        assert row is not None
        out[sku] = (row["quantity"], row["active"])
    return out


def test_etsy_variants_get_different_numbers(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    adapter = build_adapter("etsy_shop", "etsy", {**sandbox.channel_urls("etsy"), **CREDS},
                            clock=ManualClock(start=time.time()))
    try:
        # 1. The variants get different numbers: the listing said no property varies the
        #    quantity, so the adapter names color (200) or Etsy (the sandbox) refuses.
        results = adapter.push([StockUpdate(1, "MUG-RED", 2, external_id="777/1"),
                                StockUpdate(2, "MUG-BLUE", 7, external_id="777/2")])
        assert [r.outcome for r in results] == [Outcome.OK, Outcome.OK], results
        assert held(admin) == {"MUG-RED": (2, True), "MUG-BLUE": (7, True)}
        blue = admin.listing("etsy", "MUG-BLUE")
        assert blue is not None and blue["extra"]["quantity_on_property"] == [200]

        # 2. A blue mug sells right after the adapter reads the inventory to push red:
        #    the write must not put the sold unit back.
        admin.add_listings("etsy", [{**variant("MUG-BLUE", 2, 1214, "Blue", 7), "quantity_on_property": [200],
                                     "sell_after_read": 1}])
        [red] = adapter.push([StockUpdate(1, "MUG-RED", 3, external_id="777/1")])
        assert red.outcome is Outcome.OK, red
        assert held(admin) == {"MUG-RED": (3, True), "MUG-BLUE": (6, True)}

        # 3. Both sell out: offline, and the placeholder is 1, not the old numbers.
        results = adapter.push([StockUpdate(1, "MUG-RED", 0, PushAction.DEACTIVATE, external_id="777/1"),
                                StockUpdate(2, "MUG-BLUE", 0, PushAction.DEACTIVATE, external_id="777/2")])
        assert [r.outcome for r in results] == [Outcome.OK, Outcome.OK], results
        assert held(admin) == {"MUG-RED": (1, False), "MUG-BLUE": (1, False)}

        # 4. Red comes back: active again, blue back to its real 0 (not the placeholder).
        [back] = adapter.push([StockUpdate(1, "MUG-RED", 4, PushAction.REACTIVATE, external_id="777/1")])
        assert back.outcome is Outcome.OK and back.active is True, back
        assert held(admin) == {"MUG-RED": (4, True), "MUG-BLUE": (0, True)}
    finally:
        adapter.close()
