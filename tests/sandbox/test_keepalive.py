"""The sandbox keeps HTTP/1.1 connections open and answers exactly as werkzeug's own
server did (status, application headers, body, request log); only `Connection: close`
is gone, except where the connection really closes."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from connector.sandbox.access_log import RedactingRequestHandler
from connector.sandbox.core import Sandbox
from connector.sandbox.keepalive import KeepAliveServer
from connector.sandbox.server import RunningSandbox, SandboxApp
from tests.sandbox.conftest import SEED

T = 5  # seconds: every socket operation here is bounded
BOL_MEDIA = "application/vnd.retailer.v10+json"


def _connect(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=T)


def _exchange(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn.request(method, path, body=body, headers=headers or {})
    reply = conn.getresponse()
    reply.read()
    return reply


def test_one_connection_serves_many_requests(sandbox: RunningSandbox) -> None:
    conn = _connect(sandbox.url)
    try:
        _exchange(conn, "GET", "/_sandbox/state?marketplace=bol")
        first_socket = conn.sock
        for n in range(5):
            # A body the application does not read (an unknown route) must not leak into
            # the next request on the connection.
            reply = _exchange(conn, "POST", f"/bol/no/such/route/{n}", body=b'{"x": 1}' * 50,
                              headers={"Content-Type": "application/json"})
            assert reply.status == 404
            assert reply.getheader("Connection") is None
            assert conn.sock is first_socket  # http.client reconnects silently when closed
        state = _exchange(conn, "GET", "/_sandbox/state?marketplace=bol")
        assert state.status == 200 and conn.sock is first_socket
    finally:
        conn.close()
    paths = [r["path"] for r in sandbox.sandbox.requests("bol")]
    assert paths == [f"/bol/no/such/route/{n}" for n in range(5)]


def test_pipelined_requests_are_answered_in_order(sandbox: RunningSandbox) -> None:
    host, port = sandbox.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=T) as sock:
        one = b"GET /_sandbox/state?marketplace=bol HTTP/1.1\r\nHost: x\r\n\r\n"
        body = b'{"marketplace": "bol", "listings": [{"sku": "P1", "external_id": "77"}]}'
        two = (b"POST /_sandbox/listings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        sock.sendall(one + two + one)
        reader = sock.makefile("rb")
        bodies = []
        for _ in range(3):
            status = reader.readline()
            assert status.startswith(b"HTTP/1.1 200"), status
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            bodies.append(json.loads(reader.read(length)))
    assert [x["sku"] for x in bodies[0]["bol"]] == ["8712345678906"]
    assert bodies[1] == {"ok": True, "count": 1}
    assert sorted(x["sku"] for x in bodies[2]["bol"]) == ["8712345678906", "P1"]


@pytest.mark.parametrize("how", ["connection-close", "http/1.0", "chunked-body"])
def test_connection_closes_when_it_must(sandbox: RunningSandbox, how: str) -> None:
    host, port = sandbox.url.removeprefix("http://").split(":")
    body = b'{"marketplace": "bol", "listings": [{"sku": "C1", "external_id": "78"}]}'
    head = {
        "connection-close": b"POST /_sandbox/listings HTTP/1.1\r\nConnection: close\r\n"
                            b"Content-Length: %d\r\n\r\n" % len(body),
        "http/1.0": b"POST /_sandbox/listings HTTP/1.0\r\nContent-Length: %d\r\n\r\n" % len(body),
        "chunked-body": b"POST /_sandbox/listings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
    }[how]
    payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if how == "chunked-body" else body
    with socket.create_connection((host, int(port)), timeout=T) as sock:
        sock.sendall(head + payload)
        received = b""
        while chunk := sock.recv(65536):  # the server closes: recv ends (bounded by T)
            received += chunk
    assert received.startswith(b"HTTP/1.1 200")
    assert b"\r\nConnection: close\r\n" in received
    assert b'{"ok": true, "count": 1}' in received
    assert sandbox.sandbox.markets["bol"].find(sku="C1") is not None


def test_stop_ends_kept_alive_connections(sandbox: RunningSandbox) -> None:
    host, port = sandbox.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=T)
    try:
        sock.sendall(b"GET /_sandbox/state?marketplace=bol HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sandbox.stop()
        # The idle connection ends (end-of-stream or reset), far sooner than the idle timeout.
        try:
            assert sock.recv(65536) == b""
        except ConnectionResetError:
            pass
    finally:
        sock.close()
    with pytest.raises(requests.ConnectionError):
        requests.get(sandbox.url + "/_sandbox/state", timeout=T)


def test_an_application_error_is_a_500_and_closes_the_connection() -> None:
    def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        raise RuntimeError("boom")

    server = KeepAliveServer("127.0.0.1", 0, broken)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=T)
        reply = _exchange(conn, "GET", "/")
        assert reply.status == 500 and reply.getheader("Connection") == "close"
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(T)


# --------------------------------------------------------------- same answers as before


@pytest.fixture()
def both() -> Iterator[tuple[str, str]]:
    """(keep-alive sandbox URL, werkzeug-server sandbox URL), same seed, rate limits on."""
    from connector.sandbox.server import default_rates

    servers = [
        KeepAliveServer("127.0.0.1", 0, SandboxApp(Sandbox(rates=default_rates(), seed=SEED))),
        make_server("127.0.0.1", 0, SandboxApp(Sandbox(rates=default_rates(), seed=SEED)), threaded=True,
                    request_handler=RedactingRequestHandler),
    ]
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
               for s in servers]
    for thread in threads:
        thread.start()
    try:
        yield f"http://127.0.0.1:{servers[0].port}", f"http://127.0.0.1:{servers[1].port}"
    finally:
        for server, thread in zip(servers, threads):
            server.shutdown()
            server.server_close()
            thread.join(T)


CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/_sandbox/state", {}),
    ("GET", "/nowhere/x", {}),
    ("DELETE", "/bol/retailer/offers/1001/stock", {}),
    ("GET", "/bol/retailer/offers/1001", {"headers": {"Accept": BOL_MEDIA, "Authorization": "Bearer nope"}}),
    ("POST", "/bol/token?grant_type=client_credentials", {"auth": ("bol-client", "wrong")}),
    ("PUT", "/bol/retailer/offers/1001/stock", {"json": {"amount": 3}}),
    ("POST", "/ebay/identity/v1/oauth2/token", {"data": {"grant_type": "refresh_token"}}),
    ("POST", "/shopify/admin/api/2025-01/graphql.json",
     {"json": {"query": "{ inventoryItem(id: 1) { id } "}, "headers": {"X-Shopify-Access-Token": "shpat_sandbox_token_1234"}}),
    ("POST", "/shopify/admin/api/2025-01/graphql.json",
     {"json": {"query": "{ inventoryItem(id: \"gid://shopify/InventoryItem/1\") { nope } }"},
      "headers": {"X-Shopify-Access-Token": "shpat_sandbox_token_1234"}}),
    ("POST", "/_sandbox/faults", {"json": {"marketplace": "zalando", "storm_429": {"count": 1, "retry_after": 7}}}),
    ("POST", "/zalando/merchants/m1/stocks", {"json": {"items": []}}),  # the storm: 429 + Retry-After
    ("POST", "/zalando/merchants/m1/stocks", {"json": {"items": []}}),  # after it: 401 (no token)
    ("HEAD", "/_sandbox/state", {}),
    ("POST", "/_sandbox/listings", {"data": b"not json", "headers": {"Content-Type": "application/json"}}),
]


def test_answers_match_werkzeugs_own_server(both: tuple[str, str]) -> None:
    answers = []
    for url in both:
        with requests.Session() as http:
            got = []
            for method, path, kwargs in CALLS:
                reply = http.request(method, url + path, timeout=T, **kwargs)
                headers = {k.lower(): v for k, v in reply.headers.items() if k.lower() not in ("date", "connection")}
                got.append((method, path, reply.status_code, headers, reply.content))
            answers.append(got)
    assert [a[2] for a in answers[0]] == [200, 404, 405, 401, 401, 401, 401, 200, 200, 200, 429, 401, 404, 400]
    assert answers[0][10][3]["retry-after"] == "7"
    for mine, theirs in zip(*answers):
        assert mine == theirs
