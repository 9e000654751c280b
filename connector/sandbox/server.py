"""The sandbox HTTP server: every marketplace under its own prefix, plus /_sandbox admin.

A channel pointed at the sandbox uses ``base_url = f"{sandbox.url}/{marketplace}"`` and the
real paths below it (``channel_urls`` gives base_url and token_url for each marketplace).

Usage::

    with start_sandbox(seed={"accounts": {...}, "listings": {...}}) as sandbox:
        requests.put(f"{sandbox.url}/bol/retailer/offers/1/stock", ...)
"""

from __future__ import annotations

import importlib
import json
import re
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer
from werkzeug.wrappers import Request, Response

from connector.catalogue import CATALOGUE
from connector.sandbox import admin
from connector.sandbox.api import Call, MarketplaceApi, json_response
from connector.sandbox.core import LoggedRequest, Sandbox
from connector.sandbox.keepalive import WIRE_KEY, KeepAliveServer
from connector.sandbox.urls import channel_urls

def _api(target: str) -> MarketplaceApi:
    module_name, _, class_name = target.partition(":")
    api = getattr(importlib.import_module(module_name), class_name)()
    assert isinstance(api, MarketplaceApi)
    return api


# One stand-in API per catalogue entry (connector.catalogue names its module and class).
APIS: dict[str, MarketplaceApi] = {m.code: _api(m.sandbox) for m in CATALOGUE}

def default_rates() -> dict[str, tuple[float | None, float]]:
    return {name: (api.rate, api.burst) for name, api in APIS.items()}


class SandboxApp:
    """The WSGI application around one `Sandbox`."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._compiled = {
            name: [(m, re.compile(rx + "$"), h, tok) for m, rx, h, tok in api.routes]
            for name, api in APIS.items()
        }

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/_sandbox"):
            return admin.handle(self.sandbox, request)
        name, _, rest = path.lstrip("/").partition("/")
        api = APIS.get(name)
        if api is None:
            return json_response({"message": f"no marketplace {name!r}; known: {', '.join(APIS)}"}, 404)
        market = self.sandbox.market(name)
        host = request.headers.get("Host", request.host)
        raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
        call = Call(
            market=market, request=request, params={}, body=request.get_data(cache=True),
            full_url=f"{request.scheme}://{host}{raw_uri}", prefix_url=f"{request.scheme}://{host}/{name}",
        )
        started = time.time()
        response = self._route(api, call, "/" + rest)
        self.sandbox.record(LoggedRequest(
            marketplace=name, method=request.method, path=path, status=response.status_code,
            time=started, operation=call.operation, items=call.items,
        ))
        return response

    def _route(self, api: MarketplaceApi, call: Call, rest: str) -> Response:
        method = call.request.method
        allowed = False
        for route_method, pattern, handler, is_token in self._compiled[api.name]:
            found = pattern.match(rest)
            if not found:
                continue
            allowed = True
            if route_method != method:
                continue
            call.params = {k: v for k, v in found.groupdict().items() if v is not None}
            call.operation = handler
            if not is_token:
                refused = self._faults(api, call)
                if refused is not None:
                    return refused
                wire = self._wire_fault(api, call)
                if wire is not None and wire != "truncated":
                    return _wire_reply(call, wire)
                if wire == "truncated":
                    # The real reply, applied, of which only half reaches the client.
                    call.request.environ[WIRE_KEY] = "truncate"
            result: Response = getattr(api, handler)(call)
            return result
        if allowed:
            return api.failure(call, 405, f"method {method} not allowed on {rest}")
        return api.failure(call, 404, f"no route {method} {rest}")

    @staticmethod
    def _wire_fault(api: MarketplaceApi, call: Call) -> str | None:
        market = call.market
        with market.lock:
            wire = market.faults.wire
            if wire is None or not wire.take(api.is_read(call)):
                return None
            if wire.kind == "timeout":
                call.extra["hold_s"] = wire.hold_ms / 1000.0
            return wire.kind

    def _faults(self, api: MarketplaceApi, call: Call) -> Response | None:
        market = call.market
        with market.lock:
            faults = market.faults
            latency = faults.latency_ms
            storm = faults.storm.hit(time.time())
            retry_after = faults.storm.retry_after
            wait = market.bucket.take() if market.bucket is not None and not storm else None
            error = not storm and wait is None and faults.error_rate > 0 and faults.rng.random() < faults.error_rate
        if latency:
            time.sleep(latency / 1000.0)
        if storm:
            return api.throttled(call, retry_after)
        if wait is not None:
            return api.throttled(call, wait)
        if error:
            return api.failure(call, 503, "Service Unavailable (sandbox fault injection)")
        return None


GARBLED = b'{"status": "SUCC\x00<html>502 Bad Gateway'
UNEXPECTED = {"sandbox": "a reply of an unexpected shape", "items": None}


def _wire_reply(call: Call, kind: str) -> Response:
    """The reply for a wire fault that does not run the handler (nothing applied)."""
    if kind == "garbled":
        return Response(GARBLED, status=200, content_type="application/json")
    if kind == "shape":
        return json_response(UNEXPECTED, 200)
    if kind == "timeout":
        time.sleep(float(call.extra.get("hold_s", 1.0)))  # longer than the client waits
    call.request.environ[WIRE_KEY] = "drop"
    return Response(b"", status=500)  # never sent: the handler closes the connection


class RunningSandbox:
    """A sandbox served by a threaded werkzeug server in a background thread."""

    def __init__(self, sandbox: Sandbox, server: BaseWSGIServer) -> None:
        self.sandbox = sandbox
        self._server = server
        self.host = server.host
        self.port = server.port
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="sandbox", daemon=True)
        self._thread.start()

    def channel_urls(self, marketplace: str) -> dict[str, str]:
        return channel_urls(self.url, marketplace)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def load_seed(seed: Path | dict[str, Any] | None) -> dict[str, Any] | None:
    if seed is None or isinstance(seed, dict):
        return seed
    loaded: dict[str, Any] = json.loads(Path(seed).read_text(encoding="utf-8"))
    return loaded


def start_sandbox(
    *, host: str = "127.0.0.1", port: int = 0, seed: Path | dict[str, Any] | None = None,
    rate_limits: bool = True,
) -> RunningSandbox:
    """Start the sandbox in a background thread (port 0 = a free port).

    rate_limits=False turns the marketplaces' own throttles off (benchmarks); storms and
    other faults still work. Usage: ``with start_sandbox(seed=path) as sb: print(sb.url)``
    """
    sandbox = Sandbox(rates=default_rates() if rate_limits else None, seed=load_seed(seed))
    server = KeepAliveServer(host, port, SandboxApp(sandbox))
    return RunningSandbox(sandbox, server)
