"""The mock ERP refuses a duplicate channel code in any company, as the addon's SQL
constraint unique(code) does, with the error Odoo's RPC layer gives for a unique violation."""

from __future__ import annotations

from typing import Any

import pytest

from connector.mock_erp.database import MockDatabase
from connector.mock_erp.errors import ValidationError, exception_name
from connector.mock_erp.server import RunningMockErp
from tests.mock_erp.test_errors import assert_still_serving, error_of, jsonrpc

ADMIN = 2
UNIQUE = ("The operation cannot be completed: The channel code must be unique across all "
          "companies: the bridge keys each shop's credentials by it.")


def x(db: MockDatabase, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
    return db.execute(ADMIN, model, method, list(args), kwargs)


def test_duplicate_code_refused_in_any_company_on_create_and_write() -> None:
    db = MockDatabase()
    [main] = x(db, "marketplace.channel", "search_read", [("code", "=", "amazon_de")],
               fields=["company_id"])
    other = x(db, "res.company", "create", {"name": "Another company"})
    assert other != main["company_id"][0]
    before = x(db, "marketplace.channel", "search_count", [])
    for company in (main["company_id"][0], other):
        with pytest.raises(ValidationError) as caught:
            x(db, "marketplace.channel", "create",
              {"name": "Dup", "code": "amazon_de", "marketplace": "amazon", "company_id": company})
        assert str(caught.value) == UNIQUE
        assert exception_name(caught.value) == "odoo.exceptions.ValidationError"
    assert x(db, "marketplace.channel", "search_count", []) == before  # rolled back

    fresh = x(db, "marketplace.channel", "create",
              {"name": "Other", "code": "other_shop", "marketplace": "ebay", "company_id": other})
    with pytest.raises(ValidationError, match="must be unique across all companies"):
        x(db, "marketplace.channel", "write", [fresh], {"code": "amazon_de"})
    [row] = x(db, "marketplace.channel", "read", [fresh], ["code"])
    assert row["code"] == "other_shop"
    x(db, "marketplace.channel", "write", [fresh], {"code": "other_shop", "buffer_qty": 3})


def test_duplicate_code_over_json_rpc(erp: RunningMockErp) -> None:
    uid = jsonrpc(erp, "common", "login", erp.database, "admin", "admin")["result"]
    reply = jsonrpc(erp, "object", "execute_kw", erp.database, uid, "admin", "marketplace.channel",
                    "create", [{"name": "Dup", "code": "bol_nl", "marketplace": "bol"}], {})
    assert error_of(reply) == (200, "odoo.exceptions.ValidationError", UNIQUE)
    assert_still_serving(erp)
