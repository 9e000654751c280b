"""JSON-2 transport (Odoo 19+): `POST /json/2/<model>/<method>` with a bearer API key.

JSON-2 takes *named* arguments only (addons/rpc/controllers/json2.py binds the body to
the method's signature), so positional arguments of the common ORM methods are named
here; record methods (read, write, unlink) take their first positional argument as `ids`.
Errors come with a real HTTP status and a bare `{"name", "message", ...}` body.

Usage::

    transport = Json2Transport(poster, database="demo", username="bridge", api_key="...")
    transport.login(); transport.execute_kw("res.partner", "search_read", [[]], {"limit": 1})
"""

from __future__ import annotations

from typing import Any

from connector.erp.errors import AuthenticationError, ErpError, ValidationError, classify_fault
from connector.erp.jsonrpc import read_jsonrpc_reply
from connector.erp.transport import HttpPoster

# parameter names of the @api.model methods the bridge calls, in positional order (19.0)
MODEL_METHOD_PARAMS: dict[str, tuple[str, ...]] = {
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search": ("domain", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "search_fetch": ("domain", "field_names", "offset", "limit", "order"),
    "fields_get": ("allfields", "attributes"),
    "create": ("vals_list",),
    "name_search": ("name", "domain", "operator", "limit"),
    "read_group": ("domain", "fields", "groupby", "offset", "limit", "orderby", "lazy"),
    "formatted_read_group": ("domain", "groupby", "aggregates", "having", "offset", "limit",
                             "order"),
    "context_get": (),
    "default_get": ("fields",),
}
# parameter names of record methods after `ids`
RECORD_METHOD_PARAMS: dict[str, tuple[str, ...]] = {
    "read": ("fields", "load"),
    "write": ("vals",),
    "unlink": (),
    "copy": ("default",),
    "exists": (),
}


def named_arguments(model: str, method: str, args: list[Any],
                    kwargs: dict[str, Any]) -> dict[str, Any]:
    """The JSON-2 body for `model.method(*args, **kwargs)`."""
    body: dict[str, Any] = {}
    if method in RECORD_METHOD_PARAMS:
        names: tuple[str, ...] = ("ids", *RECORD_METHOD_PARAMS[method])
    elif method in MODEL_METHOD_PARAMS:
        names = MODEL_METHOD_PARAMS[method]
    elif len(args) == 1 and isinstance(args[0], list) and all(isinstance(i, int) for i in args[0]):
        names = ("ids",)  # a button-style record method: method(ids)
    elif not args:
        names = ()
    else:
        raise ValidationError(f"json2 needs keyword arguments for {model}.{method}")
    if len(args) > len(names):
        raise ValidationError(f"{model}.{method}: too many positional arguments for json2")
    body.update(zip(names, args))
    overlap = body.keys() & kwargs.keys()
    if overlap:
        raise ValidationError(f"{model}.{method}: {sorted(overlap)} given twice")
    body.update(kwargs)
    if isinstance(body.get("ids"), int):
        body["ids"] = [body["ids"]]
    return body


class Json2Transport:
    """Odoo 19's JSON-2 API; the API key is the only credential (no uid/password)."""

    name = "json2"

    def __init__(self, poster: HttpPoster, database: str, username: str, api_key: str) -> None:
        self._http = poster
        self._db = database
        self._username = username
        # headers live on the session; requests never puts them in exception texts
        poster.session.headers.update({
            "Authorization": f"bearer {api_key}",
            "X-Odoo-Database": database,
        })

    def __repr__(self) -> str:
        return f"Json2Transport({self._http.base_url!r}, db={self._db!r})"

    def version(self) -> dict[str, Any]:
        # /web/webclient/version_info (JSON-RPC envelope, auth none) exists in 16-19
        body = {"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1}
        response = self._http.post("/web/webclient/version_info", json=body)
        if response.status_code == 404:
            response = self._http.request("GET", "/web/version")
            if response.status_code != 200:
                raise ErpError(f"cannot read the Odoo version at {self._http.base_url}")
            result = response.json()
        else:
            result = read_jsonrpc_reply(self._http, response, "version_info")
        if not isinstance(result, dict):
            raise ErpError("unexpected answer to version_info")
        return result

    def login(self) -> int:
        try:
            context = self.execute_kw("res.users", "context_get", [], {})
        except AuthenticationError:
            raise AuthenticationError(
                f"Odoo refused the API key for database {self._db!r} (json2): create one under "
                "Preferences > Account Security > New API Key and set erp.api_key"
            ) from None
        uid = context.get("uid") if isinstance(context, dict) else None
        return int(uid) if uid else 0

    def execute_kw(self, model: str, method: str, args: list[Any],
                   kwargs: dict[str, Any]) -> Any:
        body = named_arguments(model, method, args, kwargs)
        response = self._http.post(f"/json/2/{model}/{method}", json=body)
        if response.status_code == 200:
            return response.json()
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise classify_fault("", f"HTTP {response.status_code} from {model}.{method}: "
                                     f"{self._http.excerpt(response)}", response.status_code)
        message = self._http.redactor.redact(str(payload.get("message") or ""))
        raise classify_fault(str(payload.get("name") or ""), message, response.status_code)

    def close(self) -> None:
        self._http.close()
