"""The /_sandbox inspection and control endpoints (tests and the demo use them).

- GET  /_sandbox/state[?marketplace=]          listings with quantity/active per marketplace
- GET  /_sandbox/requests[?marketplace=&since=] request log: method, path, status, time (no secrets)
- POST /_sandbox/accounts   {"marketplace", "credentials": {...}} (or {"accounts": {m: [..]}})
- POST /_sandbox/listings   {"marketplace", "listings": [{sku, external_id, quantity, active, ...}]}
                            (or {"listings": {m: [..]}}); a listing with a known sku is replaced
- POST /_sandbox/faults     {"marketplace", "seed", "error_rate", "latency_ms",
                             "storm_429": {"count" | "seconds", "retry_after"},
                             "lock": {"sku", "floor"}, "promotion_end": {"sku", "returned_qty"},
                             "rate_limit": {"rate", "burst"} | null, "revoke_tokens": true,
                             "wire": {"kind": garbled|truncated|shape|timeout|drop,
                                      "on": read|write|any, "count", "hold_ms"} | null}
- POST /_sandbox/reset      {"reseed": true}

Usage: ``requests.post(f"{url}/_sandbox/faults", json={"marketplace": "bol", "storm_429": {"count": 3}})``
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from connector.sandbox.api import json_response
from connector.sandbox.core import Sandbox


def handle(sandbox: Sandbox, request: Request) -> Response:
    action = request.path[len("/_sandbox"):].strip("/")
    marketplace = request.args.get("marketplace") or None
    if marketplace is not None and marketplace not in sandbox.markets:
        return json_response({"error": f"unknown marketplace {marketplace!r}"}, 400)
    try:
        if request.method == "GET" and action == "state":
            return json_response(sandbox.state(marketplace))
        if request.method == "GET" and action == "requests":
            since = request.args.get("since")
            return json_response(sandbox.requests(marketplace, float(since) if since else None))
        if request.method == "POST":
            body: dict[str, Any] = json.loads(request.get_data() or b"{}")
            if action == "accounts":
                return _accounts(sandbox, body)
            if action == "listings":
                return _listings(sandbox, body)
            if action == "faults":
                _check_marketplace(sandbox, body.get("marketplace"))
                sandbox.set_faults(body)
                return json_response({"ok": True})
            if action == "reset":
                sandbox.reset(reseed=bool(body.get("reseed", True)))
                return json_response({"ok": True})
    except (KeyError, ValueError, TypeError) as exc:
        return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)
    return json_response({"error": f"no admin endpoint {request.method} /_sandbox/{action}"}, 404)


def _check_marketplace(sandbox: Sandbox, name: object) -> None:
    if name is not None and name not in sandbox.markets:
        raise ValueError(f"unknown marketplace {name!r}")


def _accounts(sandbox: Sandbox, body: dict[str, Any]) -> Response:
    groups = body.get("accounts") or {body["marketplace"]: [body["credentials"]]}
    for name, accounts in groups.items():
        _check_marketplace(sandbox, name)
        for account in accounts:
            sandbox.add_account(name, account)
    return json_response({"ok": True})


def _listings(sandbox: Sandbox, body: dict[str, Any]) -> Response:
    groups = body["listings"] if isinstance(body.get("listings"), dict) else {body["marketplace"]: body["listings"]}
    count = 0
    for name, listings in groups.items():
        _check_marketplace(sandbox, name)
        for raw in listings:
            sandbox.add_listing(name, raw)
            count += 1
    return json_response({"ok": True, "count": count})
