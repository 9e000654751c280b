"""The bridge's HTTP listener: `POST /v1/triggers` (a signed wake-up), `POST /v1/resync`
(a signed manual resync, for `stock-bridge resync` while `run` runs) and `GET /v1/health`.

A trigger only wakes the engine: the outbox (or write_date polling) is what guarantees
delivery, so nothing in a payload is trusted beyond "look at these products now".

Authentication of `/v1/triggers`: `X-Signature-256: sha256=<hex HMAC-SHA256 of the raw
body>` with the shared secret, compared in constant time. Odoo 17+ automation rules ("Send
Webhook Notification") cannot sign their requests, so they send a separate *automation
token* (`bridge.automation_token`) as `?token=`; it only wakes the bridge (a trigger never
carries stock), is never the signing secret, is compared in constant time and never
logged. Missing/wrong → 401; body over the limit → 413; not the expected JSON → 400.

`POST /v1/resync` takes `{"skus": [..] | null, "channels": [..] | null, "force": bool,
"dry_run": bool}` and must carry `X-Timestamp: <unix seconds>` (within
`MAX_SKEW_S` of the bridge's clock) and `X-Signature-256: sha256=<HMAC of
"<timestamp>.<raw body>">` (`sign_timestamped`); a signature already used inside that
window is refused (no replay). No token is accepted there. It answers a stream of JSON
lines (`application/x-ndjson`):
`{"progress": {"done": n, "total": m}}`… and a last `{"report": {...}}` or `{"error": ".."}`;
`{"keepalive": true}` lines keep a long, quiet resync's connection alive.

`GET /v1/health` answers `{"service": "stock-bridge", "status": ...}`; status "starting"
and "unhealthy" are HTTP 503, anything else 200 (see connector.sync.health).

Usage::

    listener = WebhookListener("127.0.0.1", 0, secret, on_trigger=engine.wake)
    listener.start(); print(listener.url); ...; listener.stop()
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature-256"
TIMESTAMP_HEADER = "X-Timestamp"
MAX_SKEW_S = 300.0


def sign(body: bytes, secret: str) -> str:
    """The header value a sender puts in X-Signature-256 for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_timestamped(body: bytes, secret: str, timestamp: int) -> str:
    """X-Signature-256 of a `/v1/resync` request sent with `X-Timestamp: timestamp`:
    `headers = {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign_timestamped(body, s, ts)}`."""
    return sign(f"{int(timestamp)}.".encode() + body, secret)


@dataclass(frozen=True, slots=True)
class Trigger:
    """What a valid request said: product ids to look at (maybe none) and where it came from."""

    product_ids: frozenset[int] = frozenset()
    event_ids: tuple[int, ...] = ()
    events: tuple[tuple[int, int, str], ...] = ()  # (event id, product id, reason) announced
    model: str | None = None  # automation payloads: "_model"
    record_id: int | None = None  # automation payloads: "_id"


class BadPayload(ValueError):
    pass


# A trigger is a short list of small ids: anything nested deeper or with longer numbers is
# not a trigger, and refusing it before `json.loads` keeps a hostile body from reaching the
# parser's recursion limit or Python's int-digit limit (both would surface as a 500).
MAX_JSON_DEPTH = 32
MAX_NUMBER_CHARS = 40


def _too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when brackets outside strings nest deeper than `limit` (a linear scan)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _bounded_number(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        if len(text) > MAX_NUMBER_CHARS:
            raise BadPayload(f"number longer than {MAX_NUMBER_CHARS} characters")
        return kind(text)

    return parse


def _reject_constant(name: str) -> Any:
    raise BadPayload(f"{name} is not a JSON number")


def load_json(body: bytes) -> Any:
    """The body as JSON, or BadPayload (never RecursionError/ValueError from a pathology)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadPayload("body is not UTF-8") from exc
    if _too_deep(text):
        raise BadPayload(f"JSON nested deeper than {MAX_JSON_DEPTH}")
    try:
        return json.loads(
            text,
            parse_int=_bounded_number(int),
            parse_float=_bounded_number(float),
            parse_constant=_reject_constant,
        )
    except BadPayload:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise BadPayload("body is not JSON") from exc


class ResyncRequest(BaseModel):
    """The body of `POST /v1/resync` (the CLI's resync options)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    skus: list[str] | None = None  # None: every listed product
    channels: list[str] | None = None
    force: bool = False
    dry_run: bool = False


Progress = Callable[[int, int], None]
# Runs a resync and returns its report as a JSON-able dict.
ResyncHandler = Callable[[ResyncRequest, Progress], dict[str, Any]]
KEEPALIVE_S = 5.0
_PROGRESS_EVERY_S = 0.25


def parse_payload(data: Any) -> Trigger:
    """Accept {"events": [{"id", "product_id", "reason"}...]} or {"_model", "_id", ...}."""
    if not isinstance(data, dict):
        raise BadPayload("body must be a JSON object")
    if "events" in data:
        events = data["events"]
        if not isinstance(events, list):
            raise BadPayload("events must be a list")
        products: set[int] = set()
        ids: list[int] = []
        announced: list[tuple[int, int, str]] = []
        for event in events:
            if not isinstance(event, dict):
                raise BadPayload("each event must be an object")
            pid, eid = event.get("product_id"), event.get("id")
            if pid is not None:
                if not isinstance(pid, int) or isinstance(pid, bool):
                    raise BadPayload("product_id must be an integer")
                products.add(pid)
            if eid is not None:
                if not isinstance(eid, int) or isinstance(eid, bool):
                    raise BadPayload("id must be an integer")
                ids.append(eid)
            reason = event.get("reason")
            if reason is not None and not isinstance(reason, str):
                raise BadPayload("reason must be a string")
            if pid is not None and eid is not None:
                announced.append((eid, pid, reason or ""))
        return Trigger(frozenset(products), tuple(ids), tuple(announced))
    if "_model" in data:
        model, rid = data.get("_model"), data.get("_id")
        if not isinstance(model, str) or not isinstance(rid, int) or isinstance(rid, bool):
            raise BadPayload("automation payload needs a string _model and an integer _id")
        product = data.get("product_id")
        products = set()
        if model == "product.product":
            products.add(rid)
        elif isinstance(product, int) and not isinstance(product, bool):
            products.add(product)
        elif isinstance(product, list) and product and isinstance(product[0], int):
            products.add(product[0])  # a many2one as Odoo reads it: [id, "name"]
        return Trigger(frozenset(products), model=model, record_id=rid)
    raise BadPayload('expected {"events": [...]} or an automation payload with "_model"')


@dataclass
class ListenerStats:
    accepted: int = 0
    rejected: dict[int, int] = field(default_factory=dict)


class WebhookApp:
    """The WSGI application (usable without a server, e.g. with werkzeug's test Client)."""

    def __init__(
        self,
        secret: str | None,
        on_trigger: Callable[[Trigger], None],
        max_body_bytes: int = 1_000_000,
        health: Callable[[], dict[str, Any]] | None = None,
        on_resync: ResyncHandler | None = None,
        automation_token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._on_trigger = on_trigger
        self._max = max_body_bytes
        self._health = health or (lambda: {})
        self._on_resync = on_resync
        # Only ever compared, never logged; None: automation payloads must be signed.
        self.automation_token = automation_token
        self._clock = clock
        self._seen: dict[str, float] = {}  # resync signatures used in the skew window
        self.stats = ListenerStats()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        request.max_content_length = self._max
        try:
            response = self._dispatch(request)
        except HTTPException as exc:
            response = _json({"error": exc.description or exc.name}, exc.code or 500)
        if response.status_code >= 400:
            with self._lock:
                self.stats.rejected[response.status_code] = self.stats.rejected.get(response.status_code, 0) + 1
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if request.path == "/v1/health":
            if request.method != "GET":
                return _json({"error": "method not allowed"}, 405)
            health = {"service": "stock-bridge", "status": "ok", **self._health()}
            return _json(health, 503 if health["status"] in ("starting", "unhealthy") else 200)
        if request.path == "/v1/resync" and self._on_resync is not None:
            return self._resync(request, self._on_resync)
        if request.path != "/v1/triggers":
            return _json({"error": "not found"}, 404)
        if request.method != "POST":
            return _json({"error": "method not allowed"}, 405)
        bad_length = _bad_content_length(request)
        if bad_length is not None:
            return _json({"error": bad_length}, 400)
        body = self._body(request)
        if not self._authentic(request, body):
            log.warning("trigger rejected: missing or wrong signature from %s", request.remote_addr)
            return _json({"error": "missing or invalid signature"}, 401)
        try:
            data = load_json(body)
        except BadPayload as exc:
            return _json({"error": str(exc)}, 400)
        try:
            trigger = parse_payload(data)
        except BadPayload as exc:  # well-formed JSON of the wrong shape (documented as 400)
            return _json({"error": str(exc)}, 400)
        self._on_trigger(trigger)
        with self._lock:
            self.stats.accepted += 1
        return _json({"accepted": True, "products": len(trigger.product_ids)}, 202)

    def _body(self, request: Request) -> bytes:
        if request.content_length is not None and request.content_length > self._max:
            raise RequestEntityTooLarge(f"body over {self._max} bytes")
        body = request.get_data(cache=False)  # raises 413 past max_content_length
        if len(body) > self._max:
            raise RequestEntityTooLarge(f"body over {self._max} bytes")
        return body

    def _authentic(self, request: Request, body: bytes) -> bool:
        """A trigger: signed with the secret, or carrying the automation token."""
        given = request.headers.get(SIGNATURE_HEADER, "")
        if given:
            return bool(self._secret) and hmac.compare_digest(
                given.strip().encode(), sign(body, self._secret or "").encode()
            )
        token, expected = request.args.get("token", ""), self.automation_token
        return bool(token) and bool(expected) and hmac.compare_digest(token.encode(), (expected or "").encode())

    def _authentic_resync(self, request: Request, body: bytes) -> str | None:
        """None when the timestamped signature is good and fresh, else why not."""
        if not self._secret:
            return "missing or invalid signature"
        stamp, given = request.headers.get(TIMESTAMP_HEADER, ""), request.headers.get(SIGNATURE_HEADER, "")
        if not stamp.strip().isdigit() or not given:
            return "missing or invalid signature"
        expected = sign_timestamped(body, self._secret, int(stamp))
        if not hmac.compare_digest(given.strip().encode(), expected.encode()):
            return "missing or invalid signature"
        now = self._clock()
        if abs(now - int(stamp)) > MAX_SKEW_S:
            return f"stale timestamp (more than {int(MAX_SKEW_S)} s from the bridge's clock)"
        with self._lock:
            self._seen = {sig: at for sig, at in self._seen.items() if now - at <= 2 * MAX_SKEW_S}
            if expected in self._seen:
                return "signature already used (replay)"
            self._seen[expected] = now
        return None

    def _resync(self, request: Request, handler: ResyncHandler) -> Response:
        if request.method != "POST":
            return _json({"error": "method not allowed"}, 405)
        bad_length = _bad_content_length(request)
        if bad_length is not None:
            return _json({"error": bad_length}, 400)
        body = self._body(request)
        refused = self._authentic_resync(request, body)
        if refused is not None:
            log.warning("resync rejected from %s: %s", request.remote_addr, refused)
            return _json({"error": refused}, 401)
        try:
            wanted = ResyncRequest.model_validate_json(body or b"{}")
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
            return _json({"error": f"bad resync request: {problems}"}, 400)
        return Response(_stream_resync(handler, wanted), status=200, mimetype="application/x-ndjson")


def _bad_content_length(request: Request) -> str | None:
    """Why the Content-Length header is unusable (negative, not a number), else None.

    werkzeug reads a bad one as "no length"; answering 400 here keeps it from being judged
    by the signature check first (a 401 would blame the sender's secret)."""
    raw = request.headers.get("Content-Length")
    if raw is None:
        return None
    if not raw.strip().isdigit():
        return "bad Content-Length"
    return None


def _stream_resync(handler: ResyncHandler, wanted: ResyncRequest) -> Iterator[bytes]:
    """Run the resync on its own thread and yield its progress, then its report, as lines.

    The resync finishes even if the caller goes away (it is a normal resync of the bridge).
    """
    lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= _PROGRESS_EVERY_S:
            last[0] = now
            lines.put({"progress": {"done": done, "total": total}})

    def work() -> None:
        try:
            lines.put({"report": handler(wanted, progress)})
        except Exception as exc:  # the ERP went away mid-run, ...: tell the caller
            log.error("resync requested over HTTP failed: %s", exc)
            lines.put({"error": f"{type(exc).__name__}: {exc}"})
        finally:
            lines.put(None)

    threading.Thread(target=work, name="resync-http", daemon=True).start()
    while True:
        try:
            item = lines.get(timeout=KEEPALIVE_S)
        except queue.Empty:
            yield b'{"keepalive": true}\n'
            continue
        if item is None:
            return
        yield json.dumps(item, default=str).encode() + b"\n"


def _json(data: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


class _RedactingHandler(WSGIRequestHandler):
    """werkzeug's access log line without the query string: an Odoo automation rule sends
    the automation token as `?token=`, and an access log must never carry it."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        saved = {name: getattr(self, name) for name in ("path", "requestline") if hasattr(self, name)}
        for name, value in saved.items():  # werkzeug logs `path`, or `requestline` if it is bad
            setattr(self, name, _QUERY.sub("?<redacted>", value))
        try:
            super().log_request(code, size)
        finally:
            for name, value in saved.items():
                setattr(self, name, value)


_QUERY = re.compile(r"\?\S*")


class WebhookListener:
    """Serves a `WebhookApp` on a background thread; port 0 picks a free port."""

    def __init__(
        self,
        host: str,
        port: int,
        secret: str | None,
        on_trigger: Callable[[Trigger], None],
        max_body_bytes: int = 1_000_000,
        health: Callable[[], dict[str, Any]] | None = None,
        on_resync: ResyncHandler | None = None,
        automation_token: str | None = None,
    ) -> None:
        self.app = WebhookApp(secret, on_trigger, max_body_bytes, health, on_resync, automation_token)
        if not secret:
            log.warning("no webhook_secret configured: every trigger will get 401 (polling still works)")
        self._server: BaseWSGIServer = make_server(
            host, port, self.app, threaded=True, request_handler=_RedactingHandler
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        host = self._server.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
