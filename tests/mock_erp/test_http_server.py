"""The keep-alive HTTP server, spoken to over a raw socket: framing, keep-alive, close, errors."""

from __future__ import annotations

import json
import socket
from typing import BinaryIO

from connector.mock_erp.server import RunningMockErp

VERSION = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 7,
                      "params": {"service": "common", "method": "version", "args": []}}).encode()


def _connect(erp: RunningMockErp) -> socket.socket:
    return socket.create_connection((erp.host, erp.port), timeout=10)


def _response(sock: socket.socket, reader: BinaryIO | None = None) -> tuple[str, dict[str, str], bytes]:
    """One response: status line, headers (lower-case names), body by Content-Length."""
    reader = reader or sock.makefile("rb")
    status = reader.readline().decode().strip()
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", "0")))
    return status, headers, body


def _post(body: bytes, *extra: str, version: str = "HTTP/1.1") -> bytes:
    head = [f"POST /jsonrpc {version}", "Host: x", "Content-Type: application/json",
            f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_keep_alive_serves_several_requests_on_one_connection(erp: RunningMockErp) -> None:
    with _connect(erp) as sock:
        sock.sendall(_post(VERSION) + _post(VERSION))  # pipelined: answered in order
        reader = sock.makefile("rb")
        for _ in range(2):
            status, headers, body = _response(sock, reader)
            assert status == "HTTP/1.1 200 OK"
            assert headers["connection"] == "keep-alive" and headers["content-type"] == "application/json"
            assert json.loads(body)["result"]["server_serie"] == "18.0"


def test_connection_close_and_http10_close_after_the_response(erp: RunningMockErp) -> None:
    for request in (_post(VERSION, "Connection: close"), _post(VERSION, version="HTTP/1.0")):
        with _connect(erp) as sock:
            sock.sendall(request)
            status, headers, body = _response(sock)
            assert status == "HTTP/1.1 200 OK" and headers["connection"] == "close"
            assert json.loads(body)["id"] == 7
            assert sock.recv(1) == b""  # the server closed its side


def test_chunked_body_and_expect_continue(erp: RunningMockErp) -> None:
    with _connect(erp) as sock:
        head = ("POST /jsonrpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n").encode()
        sock.sendall(head)
        assert sock.recv(64) == b"HTTP/1.1 100 Continue\r\n\r\n"
        half = len(VERSION) // 2
        for part in (VERSION[:half], VERSION[half:]):
            sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        sock.sendall(b"0\r\n\r\n")
        status, _, body = _response(sock)
        assert status == "HTTP/1.1 200 OK" and json.loads(body)["result"]["server_serie"] == "18.0"


def test_xmlrpc_reply_headers(erp: RunningMockErp) -> None:
    call = (b"<?xml version='1.0'?><methodCall><methodName>version</methodName><params></params></methodCall>")
    with _connect(erp) as sock:
        sock.sendall((f"POST /xmlrpc/2/common HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                      f"Content-Length: {len(call)}\r\n\r\n").encode() + call)
        status, headers, body = _response(sock)
    assert status == "HTTP/1.1 200 OK" and headers["content-type"] == "text/xml; charset=utf-8"
    assert b"<name>server_version</name>" in body


def test_garbage_request_line_gets_400_and_the_server_keeps_serving(erp: RunningMockErp) -> None:
    with _connect(erp) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        status, headers, _ = _response(sock)
        assert status.startswith("HTTP/1.1 400 ") and headers["connection"] == "close"
    with _connect(erp) as sock:
        sock.sendall(_post(VERSION))
        assert _response(sock)[0] == "HTTP/1.1 200 OK"
