"""Errors come back in Odoo's shapes and statuses, and the server keeps serving."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest
import requests

from connector.mock_erp.server import RunningMockErp
from tests.mock_erp.conftest import ADMIN_API_KEY, API_KEY

TIMEOUT = 10


def jsonrpc(erp: RunningMockErp, service: str, method: str, *args: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "method": "call", "id": 7, "params": {"service": service, "method": method,
                                                                    "args": list(args)}}
    reply = requests.post(f"{erp.url}/jsonrpc", json=body, timeout=TIMEOUT)
    assert reply.status_code == 200  # JSON-RPC errors travel with HTTP 200
    data: dict[str, Any] = reply.json()
    assert data["jsonrpc"] == "2.0" and data["id"] == 7
    return data


def execute(erp: RunningMockErp, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None,
            password: str = "bridge", uid: int = 3) -> dict[str, Any]:
    return jsonrpc(erp, "object", "execute_kw", erp.database, uid, password, model, method, args, kwargs or {})


def error_of(data: dict[str, Any]) -> tuple[int, str, str]:
    err = data["error"]
    assert err["message"] in ("Odoo Server Error", "Odoo Session Expired", "404: Not Found")
    assert set(err["data"]) >= {"name", "message", "arguments", "context", "debug"}
    return err["code"], err["data"]["name"], err["data"]["message"]


def assert_still_serving(erp: RunningMockErp) -> None:
    assert jsonrpc(erp, "common", "version")["result"]["server_serie"] == erp.version


def test_bad_credentials(erp: RunningMockErp) -> None:
    assert jsonrpc(erp, "common", "login", erp.database, "bridge", "wrong")["result"] is False
    assert jsonrpc(erp, "common", "authenticate", erp.database, "nobody", "x", {})["result"] is False
    # a database that does not exist: PostgreSQL's error, as Odoo 18 lets it through
    code, name, message = error_of(jsonrpc(erp, "common", "login", "otherdb", "bridge", "bridge"))
    assert (code, name) == (200, "psycopg2.OperationalError") and 'database "otherdb" does not exist' in message
    code, name, message = error_of(execute(erp, "stock.quant", "search", [[]], password="wrong"))
    assert (code, name, message) == (200, "odoo.exceptions.AccessDenied", "Access Denied")
    common = xmlrpc.client.ServerProxy(f"{erp.url}/xmlrpc/2/common")
    assert common.login(erp.database, "bridge", "wrong") is False
    models = xmlrpc.client.ServerProxy(f"{erp.url}/xmlrpc/2/object")
    with pytest.raises(xmlrpc.client.Fault) as fault:
        models.execute_kw(erp.database, 3, "wrong", "stock.quant", "search", [[]])
    assert fault.value.faultCode == 3 and fault.value.faultString == "Access Denied"
    legacy = xmlrpc.client.ServerProxy(f"{erp.url}/xmlrpc/object")
    with pytest.raises(xmlrpc.client.Fault) as fault:
        legacy.execute_kw(erp.database, 3, "wrong", "stock.quant", "search", [[]])
    assert fault.value.faultCode == "AccessDenied"
    reply = requests.post(f"{erp.url}/web/session/authenticate", timeout=TIMEOUT, json={
        "jsonrpc": "2.0", "method": "call", "params": {"db": erp.database, "login": "bridge", "password": "x"}})
    assert error_of(reply.json())[1] == "odoo.exceptions.AccessDenied"
    assert "session_id" not in reply.cookies
    assert_still_serving(erp)


def test_unknown_model_field_method(erp: RunningMockErp) -> None:
    assert error_of(execute(erp, "no.such.model", "search", [[]])) == (
        200, "odoo.exceptions.UserError", "Object no.such.model doesn't exist")
    code, name, message = error_of(execute(erp, "stock.quant", "frobnicate", [[]]))
    assert (name, message) == ("builtins.AttributeError", "The method 'stock.quant.frobnicate' does not exist")
    _, name, message = error_of(execute(erp, "stock.quant", "_update_available_quantity", [[]]))
    assert name == "odoo.exceptions.AccessError" and "cannot be called remotely" in message
    _, name, message = error_of(execute(erp, "stock.quant", "search", [[["nope", "=", 1]]]))
    assert name == "builtins.ValueError" and "Invalid field stock.quant.nope" in message
    _, name, message = error_of(execute(erp, "stock.quant", "read", [[1], ["nope"]]))
    assert name == "builtins.ValueError" and "nope" in message
    assert execute(erp, "stock.quant", "read", [[999999], ["quantity"]])["result"] == []  # 18.0: no error
    _, name, _ = error_of(execute(erp, "marketplace.listing", "write", [[999999], {"sync_state": "synced"}]))
    assert name == "odoo.exceptions.MissingError"
    models = xmlrpc.client.ServerProxy(f"{erp.url}/xmlrpc/2/object")
    with pytest.raises(xmlrpc.client.Fault) as fault:
        models.execute_kw(erp.database, 3, "bridge", "no.such.model", "search", [[]])
    assert fault.value.faultCode == 2 and fault.value.faultString == "Object no.such.model doesn't exist"
    with pytest.raises(xmlrpc.client.Fault) as fault:
        models.execute_kw(erp.database, 3, "bridge", "stock.quant", "frobnicate", [[]])
    assert fault.value.faultCode == 1 and "Traceback" in fault.value.faultString
    assert_still_serving(erp)


def test_validation_error_no_stock(erp: RunningMockErp) -> None:
    admin = {"uid": 2, "password": "admin"}
    [yoga] = execute(erp, "product.product", "search", [[["default_code", "=", "YOGA-MAT-6MM"]]])["result"]
    pid = execute(erp, "stock.picking", "create", [{"picking_type_id": 2, "move_ids": [
        [0, 0, {"product_id": yoga, "product_uom_qty": 1}]]}], **admin)["result"]  # type: ignore[arg-type]
    code, name, message = error_of(execute(erp, "stock.picking", "button_validate", [[pid]], **admin))  # type: ignore[arg-type]
    assert name == "odoo.exceptions.UserError"
    assert message.startswith("You cannot validate a transfer if no quantities are reserved.")
    [picking] = execute(erp, "stock.picking", "read", [[pid], ["state"]], **admin)["result"]  # type: ignore[arg-type]
    assert picking["state"] == "draft"  # the failed call was rolled back, confirmation included
    assert_still_serving(erp)


def test_malformed_bodies(erp: RunningMockErp, erp19: RunningMockErp) -> None:
    reply = requests.post(f"{erp.url}/jsonrpc", data=b"{not json", timeout=TIMEOUT,
                          headers={"Content-Type": "application/json"})
    assert reply.status_code == 200
    assert error_of(reply.json())[1] == "werkzeug.exceptions.BadRequest"
    reply = requests.post(f"{erp.url}/xmlrpc/2/object", data=b"<methodCall><oops>", timeout=TIMEOUT,
                          headers={"Content-Type": "text/xml"})
    assert reply.status_code == 200
    with pytest.raises(xmlrpc.client.Fault) as fault:
        xmlrpc.client.loads(reply.content)
    assert fault.value.faultCode == 1
    reply = requests.post(f"{erp19.url}/json/2/stock.quant/search", data=b"[[", timeout=TIMEOUT,
                          headers={"Authorization": f"bearer {API_KEY}", "Content-Type": "application/json"})
    assert reply.status_code == 400 and reply.json()["name"] == "werkzeug.exceptions.BadRequest"
    assert_still_serving(erp)


def test_json2_statuses(erp19: RunningMockErp) -> None:
    erp = erp19
    good = {"Authorization": f"bearer {ADMIN_API_KEY}", "X-Odoo-Database": erp.database}

    def post(path: str, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
        return requests.post(f"{erp.url}/json/2/{path}", json=body, headers=headers or good, timeout=TIMEOUT)

    reply = post("stock.quant/search", {"domain": []}, {"Authorization": "bearer wrong"})
    assert (reply.status_code, reply.json()["name"], reply.json()["message"]) == (
        401, "werkzeug.exceptions.Unauthorized", "Invalid apikey")
    assert post("stock.quant/search", {"domain": []}, {"X-Odoo-Database": erp.database}).status_code == 401
    reply = post("no.model/search", {"domain": []})
    assert reply.status_code == 404 and reply.json()["message"] == "the model 'no.model' does not exist"
    assert post("stock.quant/frobnicate", {}).status_code == 404
    reply = post("stock.quant/search", {"domain": [], "bogus": 1})
    assert reply.status_code == 422 and "bogus" in reply.json()["message"]
    reply = post("stock.quant/search", {"ids": [1], "domain": []})
    assert reply.status_code == 422 and reply.json()["message"] == "cannot call stock.quant.search with ids"
    [yoga] = post("product.product/search", {"domain": [["default_code", "=", "YOGA-MAT-6MM"]]}).json()
    pid = post("stock.picking/create", {"vals_list": [{"picking_type_id": 2, "move_ids": [
        [0, 0, {"product_id": yoga, "product_uom_qty": 1}]]}]}).json()
    assert isinstance(pid, list)
    reply = post("stock.picking/button_validate", {"ids": pid})
    assert reply.status_code == 422 and reply.json()["name"] == "odoo.exceptions.UserError"
    reply = post("stock.quant/write", {"ids": [999999], "vals": {"inventory_quantity": 1}})
    assert reply.status_code == 404 and reply.json()["name"] == "odoo.exceptions.MissingError"
    reply = post("marketplace.channel/write", {"ids": [1], "vals": {"name": "x"}},
                 {"Authorization": f"bearer {API_KEY}"})  # the bridge user may not
    assert reply.status_code == 403 and reply.json()["name"] == "odoo.exceptions.AccessError"
    assert post("stock.quant/search_count", {"domain": []}).json() > 0
    assert_still_serving(erp)


def test_web_session_routes(erp: RunningMockErp) -> None:
    session = requests.Session()
    reply = session.post(f"{erp.url}/web/dataset/call_kw", timeout=TIMEOUT, json={
        "jsonrpc": "2.0", "method": "call", "params": {"model": "stock.quant", "method": "search", "args": [[]],
                                                       "kwargs": {}}})
    assert error_of(reply.json())[:2] == (100, "odoo.http.SessionExpiredException")
    info = session.post(f"{erp.url}/web/session/authenticate", timeout=TIMEOUT, json={
        "jsonrpc": "2.0", "method": "call", "params": {"db": erp.database, "login": "admin", "password": "admin"}})
    assert info.json()["result"]["uid"] == 2
    reply = session.post(f"{erp.url}/web/dataset/call_kw/stock.quant/search_count", timeout=TIMEOUT, json={
        "jsonrpc": "2.0", "method": "call", "params": {"model": "stock.quant", "method": "search_count",
                                                       "args": [[]], "kwargs": {}}})
    assert reply.json()["result"] > 0
    reply = session.post(f"{erp.url}/web/nothing/here", timeout=TIMEOUT, json={"jsonrpc": "2.0", "params": {}})
    assert reply.json()["error"]["code"] == 404


def test_older_series_have_no_json2(erp_factory: Any) -> None:
    erp = erp_factory(version="17.0")
    reply = requests.post(f"{erp.url}/json/2/stock.quant/search", json={"domain": []}, timeout=TIMEOUT,
                          headers={"Authorization": f"bearer {API_KEY}"})
    assert reply.status_code == 404
    assert jsonrpc(erp, "common", "version")["result"]["server_serie"] == "17.0"


def test_json2_create_returns_ids_and_doc(erp19: RunningMockErp) -> None:
    erp = erp19
    headers = {"Authorization": f"bearer {ADMIN_API_KEY}"}
    reply = requests.post(f"{erp.url}/json/2/res.partner/create", json={"vals_list": {"name": "X"}},
                          headers=headers, timeout=TIMEOUT)
    assert reply.status_code == 200 and isinstance(reply.json(), list) and len(reply.json()) == 1
    doc = requests.get(f"{erp.url}/doc-bearer/stock.picking.json", headers=headers, timeout=TIMEOUT).json()
    assert doc["methods"]["search_read"]["api"] == ["model"]
    assert list(doc["methods"]["read"]["parameters"]) == ["fields", "load"]
    assert "button_validate" in doc["methods"] and doc["fields"]["move_ids"]["type"] == "one2many"


def test_unknown_database_answers_like_real_odoo(erp: RunningMockErp) -> None:
    # Real Odoo 18 (tests/odoo_real/test_clear_errors.py): PostgreSQL's refusal to connect,
    # for login and for execute_kw, not False or AccessDenied.
    for data in (jsonrpc(erp, "common", "login", "otherdb", "bridge", "bridge"),
                 jsonrpc(erp, "common", "authenticate", "otherdb", "bridge", "bridge", {}),
                 jsonrpc(erp, "object", "execute_kw", "otherdb", 3, "bridge", "stock.quant", "search", [[]], {})):
        code, name, message = error_of(data)
        assert (code, name) == (200, "psycopg2.OperationalError")
        assert message.endswith('FATAL:  database "otherdb" does not exist\n')
    common = xmlrpc.client.ServerProxy(f"{erp.url}/xmlrpc/2/common")
    with pytest.raises(xmlrpc.client.Fault) as fault:
        common.authenticate("otherdb", "bridge", "bridge", {})
    assert fault.value.faultCode == 1
    assert 'psycopg2.OperationalError: connection to server' in fault.value.faultString
    assert_still_serving(erp)
