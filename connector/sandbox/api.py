"""What every emulated marketplace API module provides: routes, error and throttle shapes.

A module subclasses `MarketplaceApi`, lists its `routes` (method, path regex after the
``/<marketplace>`` prefix, handler name, whether it is a token endpoint) and implements
the handlers; the server does faults, throttling and logging around them.

Usage::

    class Bol(MarketplaceApi):
        name = "bol"
        routes = [("PUT", r"/retailer/offers/(?P<offer_id>[^/]+)/stock", "put_stock", False)]
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from connector.sandbox.core import Market


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> Response:
    body = "" if data is None else json.dumps(data)
    return Response(body, status=status, headers=headers or {}, content_type=content_type)


@dataclass
class Call:
    """One request as a handler sees it."""

    market: Market
    request: Request
    params: dict[str, str]
    full_url: str  # scheme://host/path?query exactly as sent (what Kaufland signs)
    prefix_url: str  # scheme://host/<marketplace>
    body: bytes
    items: int = 0  # stock updates in this request (for the benchmark's request count)
    operation: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        """The JSON body, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8")) if self.body.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def query(self) -> dict[str, str]:
        return {k: v for k, v in self.request.args.items()}

    def header(self, name: str) -> str:
        return self.request.headers.get(name, "")

    def bearer(self) -> str | None:
        value = self.header("Authorization")
        return value[7:].strip() if value.lower().startswith("bearer ") else None

    def basic(self) -> tuple[str, str] | None:
        value = self.header("Authorization")
        if not value.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(value[6:].strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password


Route = tuple[str, str, str, bool]  # method, path regex, handler name, is a token endpoint


class MarketplaceApi:
    """Base of the ten emulated APIs."""

    name: ClassVar[str]
    rate: ClassVar[float | None] = None  # the marketplace's own throttle (per second)
    burst: ClassVar[float] = 1
    routes: ClassVar[list[Route]] = []
    # Operations that only read although not sent as GET (bol's bulk process-status query).
    read_operations: ClassVar[frozenset[str]] = frozenset()

    def is_read(self, call: Call) -> bool:
        """Whether `call` only reads (wire faults can target reads or writes)."""
        return call.request.method == "GET" or call.operation in self.read_operations

    def throttled(self, call: Call, retry_after: float) -> Response:
        """The marketplace's own 'too many requests' reply."""
        return json_response({"message": "Too Many Requests"}, 429, {"Retry-After": _secs(retry_after)})

    def failure(self, call: Call, status: int, message: str) -> Response:
        """The marketplace's own error envelope (injected 5xx, unknown routes)."""
        return json_response({"message": message}, status)


def _secs(value: float) -> str:
    return str(max(1, int(round(value + 0.499))))


retry_after_header = _secs
