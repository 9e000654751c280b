"""The RPC services as Odoo's dispatchers expose them: common, object, db.

Shared by XML-RPC (`/xmlrpc/2/<service>`) and JSON-RPC (`/jsonrpc`): each takes the
service's positional arguments exactly as Odoo does (odoo/service/common.py, model.py,
db.py). Usage::

    services = Services(db)
    uid = services.dispatch("common", "login", ["demo", "bridge", "bridge"])
"""

from __future__ import annotations

from typing import Any

from connector.mock_erp.database import MockDatabase
from connector.mock_erp.errors import AccessDenied, OperationalError


class Services:
    def __init__(self, db: MockDatabase) -> None:
        self.db = db

    def dispatch(self, service: str, method: str, params: list[Any]) -> Any:
        if service == "common":
            return self._common(method, params)
        if service == "object":
            return self._object(method, params)
        if service == "db":
            return self._db(method, params)
        raise Exception(f"No such service: {service}")  # odoo.http.dispatch_rpc: KeyError wording differs

    def _common(self, method: str, params: list[Any]) -> Any:
        if method == "version":
            return self.db.version_info()
        if method == "login":
            db, login, password = _args(params, 3, "login")
            return self._login(db, login, password)
        if method == "authenticate":
            db, login, password, _env = _args(params, 4, "authenticate")
            return self._login(db, login, password)
        if method == "about":
            return "See http://openerp.com"
        raise NameError(f"Method not available {method}")

    def _login(self, db: Any, login: Any, password: Any) -> int | bool:
        if db != self.db.name:
            raise OperationalError(str(db))
        return self.db.authenticate(login, password) or False

    def _object(self, method: str, params: list[Any]) -> Any:
        if len(params) < 3:
            raise TypeError(f"{method}() missing required positional arguments: 'db', 'uid', 'passwd'")
        db, uid, password = params[0], params[1], params[2]
        if db != self.db.name:
            raise OperationalError(str(db))
        try:
            uid = int(uid)
        except (TypeError, ValueError):
            raise AccessDenied() from None
        self.db.check(uid, password)
        if method == "execute":
            if len(params) < 5:
                raise TypeError("execute() missing required positional arguments: 'obj' and 'method'")
            return self.db.execute(uid, params[3], params[4], list(params[5:]), {})
        if method == "execute_kw":
            if len(params) < 6:
                raise TypeError("execute_kw() missing required positional arguments: 'obj', 'method' or 'args'")
            kwargs = params[6] if len(params) > 6 else {}
            return self.db.execute(uid, params[3], params[4], params[5], kwargs or {})
        raise NameError(f"Method not available {method}")

    def _db(self, method: str, params: list[Any]) -> Any:
        if method == "list":
            return [self.db.name]
        if method == "server_version":
            return self.db.server_version
        if method == "db_exist":
            return bool(params) and params[0] == self.db.name
        if method == "list_lang":
            return [["en_US", "English (US)"]]
        raise AccessDenied()


def _args(params: list[Any], n: int, name: str) -> list[Any]:
    if len(params) != n:
        raise TypeError(f"{name}() takes {n} positional arguments but {len(params)} were given")
    return list(params)
