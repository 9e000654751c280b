"""Issue 17 scenarios for eBay, over real HTTP against the sandbox (whose eBay is written
from eBay's docs, connector/sandbox/ebay.py): two eBay channels (two marketplaces) share
one inventory SKU, and a seller whose Out-of-Stock Control is off sells out.

eBay's Inventory API reference: ShipToLocationAvailability.quantity is "the total quantity
of the item that is available for sale across all marketplaces"; OfferPriceQuantity.
availableQuantity "the quantity of the item that is available in the marketplace
specified within the offer"; a listing shows "the minimum value between" the two.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from connector.marketplaces.base import MarketplaceAdapter, Outcome, StockUpdate
from tests.support.clock import ManualClock
from connector.marketplaces.registry import build_adapter
from connector.sandbox.client import SandboxAdmin
from connector.sandbox.server import RunningSandbox, start_sandbox

CREDS = {"client_id": "ebay-client", "client_secret": "ebay-secret-1234", "refresh_token": "v^1.1#refresh"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with start_sandbox() as running:
        yield running


@pytest.fixture
def admin(sandbox: RunningSandbox) -> Iterator[SandboxAdmin]:
    client = SandboxAdmin(sandbox.url)
    client.reset(reseed=False)
    yield client
    client.close()


def channel(sandbox: RunningSandbox, code: str, marketplace_id: str) -> MarketplaceAdapter:
    settings = {**sandbox.channel_urls("ebay"), **CREDS, "marketplace_id": marketplace_id}
    return build_adapter(code, "ebay", settings, clock=ManualClock(start=time.time()))


def shown(admin: SandboxAdmin, sku: str) -> dict[str, Any]:
    listing = admin.listing("ebay", sku)
    assert listing is not None
    return {oid: (e["shown"], e["status"]) for oid, e in listing["extra"]["offer_table"].items()}


def test_two_ebay_channels_sharing_a_sku_keep_their_own_numbers(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    admin.add_account("ebay", CREDS)
    admin.add_listings("ebay", [{"sku": "MUG-RED", "external_id": "DE-1", "quantity": 5, "marketplace_id": "EBAY_DE",
                                 "offers": [{"offerId": "GB-1", "marketplaceId": "EBAY_GB", "availableQuantity": 5}]}])
    de, gb = channel(sandbox, "ebay_de", "EBAY_DE"), channel(sandbox, "ebay_gb", "EBAY_GB")
    try:
        # The ERP gives ebay_de 7 (buffer 1) and ebay_gb 3 (a bigger buffer), pushed in either order.
        [r1] = gb.push([StockUpdate(2, "MUG-RED", 3, external_id="GB-1")])
        [r2] = de.push([StockUpdate(1, "MUG-RED", 7, external_id="DE-1")])
        assert r1.outcome is Outcome.OK and r2.outcome is Outcome.OK, (r1, r2)
        assert shown(admin, "MUG-RED") == {"DE-1": (7, "PUBLISHED"), "GB-1": (3, "PUBLISHED")}
        # ebay_gb pushes again after ebay_de: it must not cut DE down to 3 (the old bug:
        # each channel set the item total to its own number).
        [r3] = gb.push([StockUpdate(2, "MUG-RED", 2, external_id="GB-1")])
        assert r3.outcome is Outcome.OK
        assert shown(admin, "MUG-RED") == {"DE-1": (7, "PUBLISHED"), "GB-1": (2, "PUBLISHED")}
        # DE sells down to 1: the total follows the largest offer, GB keeps its 2.
        de.push([StockUpdate(1, "MUG-RED", 1, external_id="DE-1")])
        listing = admin.listing("ebay", "MUG-RED")
        assert listing is not None and listing["extra"]["ship_quantity"] == 2
        assert shown(admin, "MUG-RED") == {"DE-1": (1, "PUBLISHED"), "GB-1": (2, "PUBLISHED")}
        # each channel reads back its own marketplace's offer
        assert de.read([("MUG-RED", "DE-1")])[0].quantity == 1
        assert gb.read([("MUG-RED", "GB-1")])[0].quantity == 2
    finally:
        de.close()
        gb.close()


def test_out_of_stock_control_off_ends_at_zero_and_relists(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    admin.add_account("ebay", {**CREDS, "out_of_stock_control": False})
    admin.add_listings("ebay", [{"sku": "MUG-RED", "external_id": "DE-1", "quantity": 5, "marketplace_id": "EBAY_DE"}])
    de = channel(sandbox, "ebay_de", "EBAY_DE")
    try:
        [zero] = de.push([StockUpdate(1, "MUG-RED", 0, external_id="DE-1")])
        assert (zero.outcome, zero.active) == (Outcome.OK, False), zero
        assert shown(admin, "MUG-RED")["DE-1"][1] == "UNPUBLISHED", "the 5 must not stay live"
        assert "out_of_stock_control" in de.warnings()
        [back] = de.push([StockUpdate(1, "MUG-RED", 4, external_id="DE-1")])
        assert (back.outcome, back.active) == (Outcome.OK, True), back
        assert shown(admin, "MUG-RED") == {"DE-1": (4, "PUBLISHED")}
    finally:
        de.close()


def test_the_sandbox_refuses_zero_with_the_control_off(sandbox: RunningSandbox, admin: SandboxAdmin) -> None:
    """The sandbox side of the scenario above: writing 0 (what the adapter did before)
    is refused with the control off and the old positive number stays live."""
    admin.add_account("ebay", {**CREDS, "out_of_stock_control": False})
    admin.add_listings("ebay", [{"sku": "MUG-RED", "external_id": "DE-1", "quantity": 5, "marketplace_id": "EBAY_DE"}])
    de = channel(sandbox, "ebay_de", "EBAY_DE")
    try:
        de.token.value()  # type: ignore[attr-defined]
        response = de.session.send(  # type: ignore[attr-defined]
            "POST", f"{de.api}/bulk_update_price_quantity", auth=de.token,  # type: ignore[attr-defined]
            json={"requests": [{"sku": "MUG-RED", "shipToLocationAvailability": {"quantity": 0},
                                "offers": [{"offerId": "DE-1", "availableQuantity": 0}]}]})
        assert response.status_code == 207 and response.json()["responses"][0]["errors"][0]["errorId"] == 25019
        assert shown(admin, "MUG-RED") == {"DE-1": (5, "PUBLISHED")}
    finally:
        de.close()
