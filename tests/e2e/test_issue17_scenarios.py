"""Issue 17 "Must show", through the whole bridge (mock ERP + sandbox + bridge over HTTP):
an Amazon patch is accepted and later rejected. `status` shows it as accepted, not applied,
while Amazon has it queued; the confirmation (the retry queue brings it back after the
channel's confirm_after_s) reads the item back, finds Amazon's ERROR issue, and the listing
ends in error with Amazon's words. The other eBay/Etsy scenarios live in tests/contract
(test_ebay_scenarios.py, test_etsy_scenarios.py), against the same sandbox.

Amazon's "Manage Listings Issues" guide: "Accepted does not mean the process is complete
... any of these processes can generate issues that return asynchronously".
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.harness import Stack

pytestmark = pytest.mark.timeout(60)


def test_amazon_patch_accepted_and_later_rejected(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(channels={"amazon_de": {"confirm_after_s": "0.5", "confirm_budget_s": "60"}})
    assert stack.bridge is not None
    before = stack.qty("CHARGER-USB-C")["amazon_de"]
    held = stack.admin.listing("amazon", "CHARGER-USB-C")
    assert held is not None
    # Amazon will accept the next PATCH of this SKU and reject it downstream.
    stack.admin.add_listings("amazon", [{"sku": "CHARGER-USB-C", "quantity": held["quantity"],
                                         "reject_later": "The quantity could not be processed for this offer."}])
    stack.rpc.deliver("CHARGER-USB-C", 1)
    stack.settle()

    def amazon() -> dict[str, object]:
        return stack.bridge.status()["channels"]["amazon_de"]  # type: ignore[union-attr, no-any-return]

    stack.wait_for(lambda: amazon()["accepted_not_applied"] == 1, timeout=10, what="accepted, not yet applied")
    assert amazon()["error"] == 0
    stack.wait_for(lambda: amazon()["error"] == 1, timeout=20, what="the late rejection as a listing error")
    status = stack.bridge.status()
    assert status["channels"]["amazon_de"]["accepted_not_applied"] == 0
    problem = next(p for p in status["problems"] if p["channel"] == "amazon_de")
    assert problem["state"] == "error" and "did not apply it" in problem["message"]
    assert "could not be processed" in problem["message"]
    assert stack.qty("CHARGER-USB-C")["amazon_de"] == before  # Amazon never applied it
