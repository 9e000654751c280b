"""The mock ERP's HTTP front: Odoo's routes, envelopes and error shapes, on werkzeug.

Routes: `/xmlrpc/2/<service>` and legacy `/xmlrpc/<service>` (XML-RPC), `/jsonrpc`,
the web-client routes odoorpc/odooly use (`/web/session/authenticate`,
`/web/dataset/call_kw[/<model>/<method>]`, `/web/webclient/version_info`,
`/web/database/list`, …), Odoo 19's JSON-2 (`POST /json/2/<model>/<method>` with a
bearer API key) and its `/doc-bearer/<model>.json` introspection. Usage::

    with start_mock_erp() as erp:             # background thread, free port
        print(erp.url, erp.database)          # http://127.0.0.1:54321 demo
"""

from __future__ import annotations

import inspect
import json
import logging
import secrets
import threading
import traceback
import xmlrpc.client
from xmlrpc.client import Fault
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.exceptions import BadRequest, HTTPException, NotFound, UnprocessableEntity
from werkzeug.wrappers import Request, Response

from connector.mock_erp.database import MockDatabase
from connector.mock_erp.http_server import KeepAliveServer
from connector.mock_erp.errors import AccessDenied, AccessError, OdooError, exception_message, exception_name
from connector.mock_erp.orm import GENERIC, SPECIFIC, Method, find_method, public_method
from connector.mock_erp.rpc import Services
from connector.mock_erp.schema import DEFAULT_VERSION
from connector.mock_erp.webhook import WebhookNotifier
from connector.mock_erp import xmlrpc_codec

log = logging.getLogger(__name__)


class SessionExpired(Exception):
    """odoo.http.SessionExpiredException."""


def serialize_exception(exc: BaseException, with_debug: bool = True) -> dict[str, Any]:
    """odoo.http.serialize_exception: the `data` of a JSON-RPC error, the body of a JSON-2 one."""
    name = "odoo.http.SessionExpiredException" if isinstance(exc, SessionExpired) else exception_name(exc)
    if isinstance(exc, HTTPException):
        name = f"werkzeug.exceptions.{type(exc).__name__}"
        message = exc.description or ""
    else:
        message = exception_message(exc)
    return {
        "name": name,
        "debug": "".join(traceback.format_exception(exc)) if with_debug else "",
        "message": message,
        "arguments": [message],
        "context": {},
    }


def _sanitize(value: Any) -> Any:
    """Odoo never sends None over RPC: empty is False; tuples become lists."""
    if value is None:
        return False
    if isinstance(value, dict):
        return {str(k): _sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sanitize(v) for v in value]
    return value


def _dumps(data: Any) -> bytes:
    return json.dumps(data, default=str, separators=(",", ":")).encode()


class MockErpApp:
    """The WSGI application; one per running mock."""

    def __init__(self, db: MockDatabase) -> None:
        self.db = db
        self.services = Services(db)
        self.sessions: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        rpc = self._rpc_route(environ.get("PATH_INFO") or "")
        if rpc is not None:
            return self._serve_rpc(environ, start_response, *rpc)
        request = Request(environ)
        try:
            response = self.route(request)
        except Exception:  # the server keeps serving whatever a handler does
            log.exception("mock ERP: unhandled error on %s", request.path)
            response = Response("Internal Server Error", status=500)
        return response(environ, start_response)

    # -- the RPC routes without werkzeug's Request/Response objects ---------------------
    @staticmethod
    def _rpc_route(path_info: str) -> tuple[str, bool] | None:
        """("json", _) for /jsonrpc, (service, legacy) for /xmlrpc[/2]/<service>, else None.

        The routes clients hit hundreds of times a second; building werkzeug's request and
        response objects for them cost more than the ORM call. `route` answers them alike.
        """
        if not path_info.startswith("/") or path_info.startswith("//") or not path_info.isascii():
            return None  # werkzeug's path normalisation decides those
        path = path_info.rstrip("/")
        if path == "/jsonrpc":
            return "json", False
        if path.startswith("/xmlrpc/2/"):
            return path[len("/xmlrpc/2/"):], False
        if path.startswith("/xmlrpc/"):
            return path[len("/xmlrpc/"):], True
        return None

    def _serve_rpc(self, environ: dict[str, Any], start_response: Any, service: str, legacy: bool) -> list[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            if service == "json" and not legacy:
                data, ctype = self._json_body(body, self._jsonrpc_dispatch), "application/json"
            else:
                data, ctype = self._xmlrpc_body(body, service, legacy).encode(), "text/xml; charset=utf-8"
            status = "200 OK"
        except Exception:  # the server keeps serving whatever a handler does
            log.exception("mock ERP: unhandled error on %s", environ.get("PATH_INFO"))
            data, ctype, status = b"Internal Server Error", "text/plain; charset=utf-8", "500 INTERNAL SERVER ERROR"
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(data)))])
        return [data]

    def _jsonrpc_dispatch(self, params: dict[str, Any]) -> Any:
        return self.services.dispatch(str(params.get("service")), str(params.get("method")),
                                      list(params.get("args") or []))

    def route(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path.startswith("/xmlrpc/2/"):
            return self.xmlrpc(request, path[len("/xmlrpc/2/"):], legacy=False)
        if path.startswith("/xmlrpc/"):
            return self.xmlrpc(request, path[len("/xmlrpc/"):], legacy=True)
        if path == "/jsonrpc":
            return self.json_route(request, self._jsonrpc_dispatch)
        if path.startswith("/json/2"):
            return self.json2(request, path)
        if path.startswith("/doc-bearer/") and path.endswith(".json"):
            return self.doc(request, path[len("/doc-bearer/"):-len(".json")])
        if path == "/web/version":
            return self._json_response(self.db.version_info())
        if path == "/web/session/authenticate":
            return self.json_route(request, lambda params: self.session_authenticate(request, params))
        if path in ("/web/session/get_session_info",):
            return self.json_route(request, lambda params: self.session_info(self._session_uid(request)))
        if path == "/web/session/destroy":
            return self.json_route(request, lambda params: self._destroy(request))
        if path == "/web/webclient/version_info":
            return self.json_route(request, lambda params: self.db.version_info())
        if path == "/web/database/list":
            return self.json_route(request, lambda params: [self.db.name])
        if path in ("/web/dataset/call_kw", "/web/dataset/call_button") or path.startswith("/web/dataset/call_kw/"):
            return self.json_route(request, lambda params: self.call_kw(request, params))
        if path == "/web/login" and request.method == "GET":
            return Response("<html><body>Odoo mock ERP</body></html>", mimetype="text/html")
        if path == "/web/webclient/version_info" or path.startswith("/web/"):
            return self.json_route(request, lambda params: (_ for _ in ()).throw(NotFound()))
        return Response("<h1>Not Found</h1>", status=404, mimetype="text/html")

    # -- XML-RPC ---------------------------------------------------------------------
    def xmlrpc(self, request: Request, service: str, legacy: bool) -> Response:
        return Response(self._xmlrpc_body(request.get_data(), service, legacy), mimetype="text/xml")

    def _xmlrpc_body(self, data: bytes, service: str, legacy: bool) -> str:
        try:
            params, method = xmlrpc_codec.loads(data)
            if method is None:
                raise ValueError("no method in XML-RPC request")
            result = self.services.dispatch(service, method, list(params))
            if result is None:
                # Odoo's marshaller too: a method returning None (action_apply_inventory,
                # do_unreserve) has done its work and committed, and the client gets fault 1.
                raise TypeError("cannot marshal None unless allow_none is enabled")
            return xmlrpc.client.dumps((_sanitize(result),), methodresponse=True, allow_none=False)
        except Exception as exc:  # noqa: BLE001 - every error becomes a fault, as in rpc.py
            return xmlrpc.client.dumps(self._fault(exc, legacy), allow_none=False)

    @staticmethod
    def _fault(exc: BaseException, legacy: bool) -> Fault:
        message = exception_message(exc)
        if legacy:  # rpc.py xmlrpc_handle_exception_string
            if isinstance(exc, AccessDenied):
                return Fault("AccessDenied", message)  # type: ignore[arg-type]  # string codes on /xmlrpc/
            if isinstance(exc, OdooError):
                return Fault(f"warning -- {type(exc).__name__}\n\n{message}", message)  # type: ignore[arg-type]
            return Fault("".join(traceback.format_exception(exc)), message)  # type: ignore[arg-type]
        if isinstance(exc, AccessError):
            return Fault(4, message)
        if isinstance(exc, AccessDenied):
            return Fault(3, message)
        if isinstance(exc, OdooError):
            return Fault(2, message)
        return Fault(1, "".join(traceback.format_exception(exc)))

    # -- JSON-RPC (the "json" route type) ---------------------------------------------
    def json_route(self, request: Request, handler: Any) -> Response:
        return Response(self._json_body(request.get_data(), handler), mimetype="application/json")

    def _json_body(self, data: bytes, handler: Any) -> bytes:
        request_id: Any = None
        try:
            try:
                payload = json.loads(data or b"{}")
            except ValueError:
                raise BadRequest("Invalid JSON data") from None
            if not isinstance(payload, dict):
                raise BadRequest("Invalid JSON-RPC data")
            request_id = payload.get("id")
            params = payload.get("params") or {}
            if not isinstance(params, dict):
                raise BadRequest("Invalid JSON-RPC params")
            result = handler(params)
            # odoo.http.JsonRPCDispatcher._response leaves "result" out when it is None
            if result is None:
                return _dumps({"jsonrpc": "2.0", "id": request_id})
            return _dumps({"jsonrpc": "2.0", "id": request_id, "result": result})
        except Exception as exc:  # noqa: BLE001 - odoo.http.JsonRPCDispatcher.handle_error
            error: dict[str, Any] = {"code": 200, "message": "Odoo Server Error", "data": serialize_exception(exc)}
            if isinstance(exc, NotFound):
                error["code"] = 404
                error["message"] = "404: Not Found"
            elif isinstance(exc, SessionExpired):
                error["code"] = 100
                error["message"] = "Odoo Session Expired"
            return _dumps({"jsonrpc": "2.0", "id": request_id, "error": error})

    @staticmethod
    def _json_response(data: Any, status: int = 200) -> Response:
        return Response(_dumps(data), status=status, mimetype="application/json")

    # -- web-client session routes ------------------------------------------------------------
    def session_authenticate(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        db, login, password = params.get("db"), params.get("login"), params.get("password")
        uid = self.db.authenticate(str(login), str(password)) if db == self.db.name else None
        if uid is None:
            raise AccessDenied()
        sid = secrets.token_hex(20)
        with self._lock:
            self.sessions[sid] = uid
        request.environ["mock_erp.new_session"] = sid
        return self.session_info(uid)

    def session_info(self, uid: int) -> dict[str, Any]:
        user = self.db.store.row("res.users", uid) or {}
        info = self.db.version_info()
        return {
            "uid": uid, "is_system": uid == 1, "is_admin": uid in (1, 2), "db": self.db.name,
            "name": user.get("name"), "username": user.get("login"), "partner_id": user.get("partner_id"),
            "company_id": user.get("company_id"),
            "user_context": {"lang": user.get("lang") or "en_US", "tz": user.get("tz") or False, "uid": uid},
            "server_version": info["server_version"], "server_version_info": info["server_version_info"],
            "user_companies": {"current_company": user.get("company_id"),
                               "allowed_companies": {str(c): {"id": c} for c in user.get("company_ids") or []}},
        }

    def _session_uid(self, request: Request) -> int:
        sid = request.cookies.get("session_id") or request.headers.get("X-Openerp-Session-Id")
        with self._lock:
            uid = self.sessions.get(sid or "")
        if uid is None:
            raise SessionExpired("Session expired")
        return uid

    def _destroy(self, request: Request) -> bool:
        with self._lock:
            self.sessions.pop(request.cookies.get("session_id") or "", None)
        return True

    def call_kw(self, request: Request, params: dict[str, Any]) -> Any:
        uid = self._session_uid(request)
        return self.db.execute(uid, str(params.get("model")), str(params.get("method")),
                               params.get("args") or [], params.get("kwargs") or {})

    # -- JSON-2 (19.0) ---------------------------------------------------------------------
    def _bearer_uid(self, request: Request) -> int:
        auth = request.headers.get("Authorization", "")
        scheme, _, key = auth.partition(" ")
        uid = self.db.uid_for_api_key(key.strip()) if scheme.lower() == "bearer" and key.strip() else None
        if uid is None:
            raise _Unauthorized("Invalid apikey")
        database = request.headers.get("X-Odoo-Database")
        if database and database != self.db.name:
            raise NotFound(f"database {database!r} not found")
        return uid

    def json2(self, request: Request, path: str) -> Response:
        try:
            parts = path.split("/")  # ['', 'json', '2', model, method]
            if len(parts) != 5 or request.method != "POST":
                raise NotFound("Did you mean POST /json/2/<model>/<method>?")
            model, method_name = parts[3], parts[4]
            if self.db.major_version < 19:
                raise NotFound("Did you mean POST /json/2/<model>/<method>?")
            uid = self._bearer_uid(request)
            try:
                body = json.loads(request.get_data() or b"{}")
            except ValueError:
                raise BadRequest("Invalid JSON data") from None
            if not isinstance(body, dict):
                raise BadRequest("Invalid JSON data: expected an object")
            result = self._json2_call(uid, model, method_name, body)
            return self._json_response(False if result is None else result)
        except Exception as exc:  # noqa: BLE001 - Json2Dispatcher.handle_error
            status = 500
            if isinstance(exc, HTTPException):
                status = exc.code or 500
            elif isinstance(exc, OdooError):
                status = exc.http_status
            return self._json_response(serialize_exception(exc), status=status)

    def _json2_call(self, uid: int, model: str, method_name: str, body: dict[str, Any]) -> Any:
        env = self.db.env(uid)
        if model not in self.db.schema:
            raise NotFound(f"the model {model!r} does not exist")
        try:
            spec = public_method(env, model, method_name)
        except AttributeError as exc:
            raise NotFound(str(exc)) from exc
        ids = body.pop("ids", None) or []
        context = body.pop("context", None) or {}
        if spec.api_model and ids:
            raise UnprocessableEntity(f"cannot call {model}.{method_name} with ids")
        try:
            inspect.signature(spec.func).bind(None, **body)
        except TypeError as exc:
            raise UnprocessableEntity(exc.args[0]) from exc
        args: list[Any] = [] if spec.api_model else [ids]
        result = self.db.execute(uid, model, method_name, args, {**body, "context": context})
        if method_name == "create" and isinstance(result, int) and not isinstance(result, bool):
            return [result]  # JSON-2 returns a recordset as its ids, even for one record
        return result

    def doc(self, request: Request, model: str) -> Response:
        try:
            uid = self._bearer_uid(request) if request.headers.get("Authorization") else self._session_uid(request)
            env = self.db.env(uid)
            if model not in self.db.schema:
                raise NotFound(f"the model {model!r} does not exist")
            methods: dict[str, Any] = {}
            names = set(GENERIC) | {name for (m, name) in SPECIFIC if m == model}
            for name in sorted(names):
                spec = find_method(env, model, name)
                if spec is None or name.startswith("_"):
                    continue
                methods[name] = _method_doc(spec)
            fields = self.db.execute(uid, model, "fields_get", [], {})
            mdef = self.db.schema[model]
            return self._json_response({"model": model, "name": mdef.description, "fields": fields,
                                        "methods": methods})
        except Exception as exc:  # noqa: BLE001
            status = exc.code if isinstance(exc, HTTPException) and exc.code else 401 \
                if isinstance(exc, SessionExpired) else 500
            return self._json_response(serialize_exception(exc), status=status)


def _method_doc(spec: Method) -> dict[str, Any]:
    params = list(inspect.signature(spec.func).parameters.values())[1:]
    return {
        "api": ["model"] if spec.api_model else [],
        "parameters": {p.name: ({"default": p.default} if p.default is not inspect.Parameter.empty
                                and isinstance(p.default, (int, str, float, bool, type(None))) else {})
                       for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)},
        "doc": (spec.func.__doc__ or "").strip() or None,
    }


class _Unauthorized(HTTPException):
    code = 401
    description = "Invalid apikey"

    def __init__(self, description: str) -> None:
        super().__init__(description)


_Unauthorized.__name__ = "Unauthorized"


class _CookieMiddleware:
    """Sets the session cookie after /web/session/authenticate succeeded."""

    def __init__(self, app: MockErpApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sid = environ.get("mock_erp.new_session")
            if sid:
                headers.append(("Set-Cookie", f"session_id={sid}; Path=/; HttpOnly; SameSite=Lax"))
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


class RunningMockErp:
    """A mock ERP serving on a background thread; stop() (or `with`) shuts it down."""

    def __init__(self, server: KeepAliveServer, app: MockErpApp) -> None:
        self._server = server
        self.app = app
        self.db = app.db
        self.host = server.host
        self.port = server.port
        self.url = f"http://{self.host}:{self.port}"
        self.database = app.db.name
        self.version = app.db.version
        self.notifier: WebhookNotifier | None = None

    def __repr__(self) -> str:
        return f"RunningMockErp(url={self.url!r}, database={self.database!r}, version={self.version!r})"

    def set_webhook(self, url: str | None, secret: str | None) -> None:
        """Point the post-commit wake-up somewhere else (None: no webhook)."""
        old, self.notifier = self.notifier, (WebhookNotifier(url, secret) if url else None)
        self.db.store.on_events = self.notifier
        if old is not None:
            old.close()

    def stop(self) -> None:
        self._server.stop()
        if self.notifier is not None:
            self.notifier.close()
            self.notifier = None

    def __enter__(self) -> RunningMockErp:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_mock_erp(*, fixtures: Path | None = None, host: str = "127.0.0.1", port: int = 0,
                   version: str = DEFAULT_VERSION, webhook_url: str | None = None,
                   webhook_secret: str | None = None) -> RunningMockErp:
    """Load the fixtures, bind (port 0: a free port) and serve on a daemon thread."""
    db = MockDatabase(fixtures, version)
    app = MockErpApp(db)
    server = KeepAliveServer(host, port, _CookieMiddleware(app))
    server.start()
    running = RunningMockErp(server, app)
    if webhook_url:
        running.set_webhook(webhook_url, webhook_secret)
    return running
