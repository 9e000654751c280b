"""Real Odoo clients run a whole session against the mock ERP (issue 3, Must show 2)."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import odoolib
from odoolib.tools import AuthenticationError
import odooly
import odoorpc
import pytest
import requests

from connector.mock_erp.server import RunningMockErp
from tests.mock_erp.conftest import ADMIN_API_KEY, API_KEY
from tests.mock_erp.scenario import run_session

TIMEOUT = 10


def test_stdlib_xmlrpc(erp: RunningMockErp) -> None:
    common = xmlrpc.client.ServerProxy(f"{erp.url}/xmlrpc/2/common")
    uid = common.authenticate(erp.database, "admin", "admin", {})
    assert uid == 2
    assert common.version()["server_serie"] == "18.0"
    models = xmlrpc.client.ServerProxy(f"{erp.url}/xmlrpc/2/object")

    def call(model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return models.execute_kw(erp.database, uid, "admin", model, method, list(args), kwargs)

    run_session(call)


def test_plain_jsonrpc_with_api_key_as_password(erp: RunningMockErp) -> None:
    session = requests.Session()

    def rpc(service: str, method: str, *args: Any) -> Any:
        body = {"jsonrpc": "2.0", "method": "call", "id": 1,
                "params": {"service": service, "method": method, "args": list(args)}}
        reply = session.post(f"{erp.url}/jsonrpc", json=body, timeout=TIMEOUT).json()
        assert "error" not in reply, reply
        return reply["result"]

    assert rpc("common", "login", erp.database, "bridge", API_KEY) == 3
    uid = rpc("common", "login", erp.database, "admin", ADMIN_API_KEY)
    assert uid == 2

    def call(model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return rpc("object", "execute_kw", erp.database, uid, ADMIN_API_KEY, model, method, list(args), kwargs)

    run_session(call)


def test_json2_over_requests(erp19: RunningMockErp) -> None:
    erp = erp19
    headers = {"Authorization": f"bearer {ADMIN_API_KEY}", "X-Odoo-Database": erp.database}
    params = {"search": ["domain"], "search_read": ["domain", "fields"], "read": ["fields"], "create": ["vals_list"],
              "write": ["vals"]}
    record_methods = {"read", "write", "action_confirm", "action_assign", "button_validate"}

    def call(model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        body: dict[str, Any] = dict(kwargs)
        rest = list(args)
        if method in record_methods:
            body["ids"] = rest.pop(0)
        body.update(zip(params.get(method, []), rest))
        reply = requests.post(f"{erp.url}/json/2/{model}/{method}", json=body, headers=headers, timeout=TIMEOUT)
        assert reply.status_code == 200, reply.text
        return reply.json()

    run_session(call, "19.0")


@pytest.mark.parametrize("protocol", ["xmlrpc", "jsonrpc", "json2"])
def test_odoo_client_lib(erp: RunningMockErp, erp19: RunningMockErp, protocol: str) -> None:
    erp = erp19 if protocol == "json2" else erp  # JSON-2 is 19.0's
    password = ADMIN_API_KEY if protocol == "json2" else "admin"
    connection = odoolib.get_connection(hostname="127.0.0.1", port=erp.port, protocol=protocol,
                                        database=erp.database, login="admin", password=password)
    if protocol != "json2":
        connection.check_login()
        assert connection.user_id == 2
    else:
        assert connection.check_login() is True
    assert connection.get_user_context()["uid"] == 2

    def call(model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(connection.get_model(model), method)(*args, **kwargs)

    run_session(call, erp.version)


def test_odoo_client_lib_wrong_password(erp: RunningMockErp) -> None:
    connection = odoolib.get_connection(hostname="127.0.0.1", port=erp.port, protocol="jsonrpc",
                                        database=erp.database, login="bridge", password="wrong")
    with pytest.raises(AuthenticationError):
        connection.check_login()


@pytest.mark.parametrize("version", ["16.0", "19.0"])
def test_odoorpc(erp_factory: Any, version: str) -> None:
    erp = erp_factory(version=version)
    odoo = odoorpc.ODOO("127.0.0.1", port=erp.port, timeout=TIMEOUT)
    assert odoo.version == f"{version}-20250702"  # a packaged server's "<series>-<build>"
    assert odoo.db.list() == [erp.database]
    odoo.login(erp.database, "admin", "admin")
    assert odoo.env.uid == 2
    assert "stock.quant" in odoo.env
    quant_model = odoo.env["stock.quant"]
    assert "available_quantity" in quant_model._columns
    [lamp] = odoo.env["product.product"].search([("default_code", "=", "LAMP-DESK-01")])
    [quant] = quant_model.browse(quant_model.search([("product_id", "=", lamp)]))
    assert quant.location_id.complete_name == "WH/Stock/Shelf A"  # many2one through the ORM proxy

    def call(model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return odoo.execute_kw(model, method, list(args), kwargs)

    run_session(call, version)


def test_odooly(erp: RunningMockErp) -> None:
    # odooly reads ir.model at login, which the bridge user may not (as on a real Odoo)
    client = odooly.Client(f"{erp.url}/jsonrpc", db=erp.database, user="admin", password="admin")
    env = client.env
    assert env.uid == 2
    lamp = env["product.product"].get([("default_code", "=", "LAMP-DESK-01")])
    quant = env["stock.quant"].search([("product_id", "=", lamp.id)])[0]
    assert quant.location_id.complete_name == "WH/Stock/Shelf A"

    def call(model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return env.execute(model, method, *args, **kwargs)

    run_session(call)
