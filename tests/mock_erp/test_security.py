"""The mock's bridge user has exactly the addon's bridge group rights (without the kit too;
tests/odoo_real/test_mock_differential.py holds the same answers to a real Odoo 18)."""

from __future__ import annotations

from typing import Any

import pytest

from connector.mock_erp.database import MockDatabase
from connector.mock_erp.errors import AccessError, ValidationError

ADMIN, BRIDGE = 2, 3


@pytest.fixture
def db() -> MockDatabase:
    return MockDatabase()


def x(db: MockDatabase, uid: int, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
    return db.execute(uid, model, method, list(args), kwargs)


def test_bridge_reads_but_may_write_only_listing_sync_status(db: MockDatabase) -> None:
    [listing] = x(db, BRIDGE, "marketplace.listing", "search", [], limit=1)
    assert x(db, BRIDGE, "marketplace.listing", "write", [listing], {"sync_state": "synced", "last_pushed_qty": 2})
    with pytest.raises(AccessError, match="^The marketplace bridge may only write sync status fields, not: "
                                          "buffer_qty, pack_size$"):
        x(db, BRIDGE, "marketplace.listing", "write", [listing], {"buffer_qty": 1, "pack_size": 2})
    with pytest.raises(AccessError) as denied:
        x(db, BRIDGE, "marketplace.channel", "write", [1], {"buffer_qty": 1})
    assert str(denied.value) == (
        "You are not allowed to modify 'Marketplace Channel' (marketplace.channel) records.\n\n"
        "This operation is allowed for the following groups:\n\t- Marketplaces/Manager\n\n"
        "Contact your administrator to request access if necessary.")
    for model, method, args in (("ir.model", "search_read", [[]]), ("stock.picking", "search", [[]]),
                                ("marketplace.listing", "unlink", [[listing]]),
                                ("stock.quant", "create", [{"product_id": 1, "location_id": 9}])):
        with pytest.raises(AccessError, match="You are not allowed to"):
            x(db, BRIDGE, model, method, *args)
    # admin may do what the bridge may not
    assert x(db, ADMIN, "marketplace.channel", "write", [1], {"buffer_qty": 1})
    assert x(db, ADMIN, "marketplace.listing", "write", [listing], {"buffer_qty": 1})


def test_record_rules_hide_other_companies(db: MockDatabase) -> None:
    company = x(db, ADMIN, "res.company", "create", {"name": "Third Co"})
    channel = x(db, ADMIN, "marketplace.channel", "create",
                {"name": "Third", "code": "third", "marketplace": "ebay", "company_id": company})
    listing = x(db, ADMIN, "marketplace.listing", "create",
                {"channel_id": channel, "product_id": 1, "channel_sku": "T-1"})
    assert x(db, BRIDGE, "marketplace.channel", "search", [("id", "=", channel)]) == []
    assert x(db, ADMIN, "marketplace.channel", "search", [("id", "=", channel)]) == [channel]
    with pytest.raises(AccessError, match="doesn't have 'read' access to:\n- Marketplace Channel"):
        x(db, BRIDGE, "marketplace.channel", "read", [channel], ["name"])
    with pytest.raises(AccessError, match="doesn't have 'write' access to:\n- Marketplace Listing"):
        x(db, BRIDGE, "marketplace.listing", "report_sync_status", [{"id": listing, "sync_state": "synced"}])
    # the mock's own context keys are not a client's to set
    assert x(db, BRIDGE, "marketplace.channel", "search", [("id", "=", channel)], context={"_sudo": True}) == []


def test_sql_constraints_answer_as_odoo(db: MockDatabase) -> None:
    [row] = x(db, ADMIN, "marketplace.listing", "search_read", [], ["channel_id", "channel_sku"], limit=1)
    with pytest.raises(ValidationError) as caught:
        x(db, ADMIN, "marketplace.listing", "create", {"channel_id": row["channel_id"][0], "product_id": 1,
                                                      "channel_sku": row["channel_sku"]})
    assert str(caught.value) == ("The operation cannot be completed: A channel SKU can only be listed once "
                                 "per channel.")
    for vals, message in (({"pack_size": 0}, "The pack size must be at least 1."),
                          ({"buffer_qty": -1}, "The buffer cannot be negative."),
                          ({"max_qty": -1}, "The cap cannot be negative.")):
        with pytest.raises(ValidationError, match=f"^The operation cannot be completed: {message}$"):
            x(db, ADMIN, "marketplace.listing", "write", [row["id"]], vals)
    with pytest.raises(ValidationError, match="The buffer cannot be negative"):
        x(db, ADMIN, "marketplace.channel", "write", [1], {"buffer_qty": -1})
