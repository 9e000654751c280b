"""A small threaded HTTP/1.1 server with keep-alive, for the mock's WSGI app.

werkzeug's development server closes every connection after one response, so each RPC
pays a TCP handshake and a new thread; clients of a real Odoo (behind its HTTP worker or
a proxy) keep connections open. This server speaks HTTP/1.1 keep-alive, writes each
response in one send (no Nagle stall) and closes idle or open connections on `stop()`.
Usage::

    server = KeepAliveServer("127.0.0.1", 0, wsgi_app); server.start(); ...; server.stop()
"""

from __future__ import annotations

import html
import io
import socket
import socketserver
import sys
import threading
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

IDLE_TIMEOUT_S = 30.0
MAX_LINE = 65536  # http.server's limits
MAX_HEADERS = 100


class _Handler(socketserver.StreamRequestHandler):
    """One connection: requests read and answered in turn until close or idle timeout.

    Not `BaseHTTPRequestHandler`: it parses every request's headers with the `email`
    package, which cost more CPU than the RPC call behind it. This reads the request line
    and headers with plain byte splits; what it accepts and answers is the same.
    """

    timeout = IDLE_TIMEOUT_S
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        try:
            super().finish()
        except OSError:
            pass  # the peer went away; nothing left to flush to

    def handle(self) -> None:
        try:
            while self._one_request():
                pass
        except (TimeoutError, ConnectionError, OSError):
            pass  # idle timeout, reset or stop(): the connection is done

    def _one_request(self) -> bool:
        """Serve one request; False when the connection is to be closed."""
        line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            return False
        if len(line) > MAX_LINE:
            self._error(414, "Request-URI Too Long")
            return False
        words = line.decode("iso-8859-1").rstrip("\r\n").split()
        if not words:
            return True  # a stray empty line between requests (RFC 9112 2.2)
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            self._error(400, f"Bad request syntax ({line.decode('iso-8859-1').rstrip()!r})")
            return False
        command, target, version = words
        headers: dict[str, list[str]] = {}  # lower-case name -> values
        names: dict[str, str] = {}  # lower-case name -> first spelling seen
        while True:
            raw = self.rfile.readline(MAX_LINE + 1)
            if len(raw) > MAX_LINE:
                self._error(431, "Line too long")
                return False
            if raw in (b"\r\n", b"\n", b""):
                break
            if len(names) >= MAX_HEADERS:
                self._error(431, "Too many headers")
                return False
            name, sep, value = raw.decode("iso-8859-1").partition(":")
            if not sep:
                continue  # email.parser drops a header line without a colon as well
            key = name.strip().lower()
            names.setdefault(key, name.strip())
            headers.setdefault(key, []).append(value.strip())
        keep_alive = version == "HTTP/1.1" and _first(headers, "connection").lower() != "close"
        if version == "HTTP/1.1" and _first(headers, "expect").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self._body(headers)
        self._serve(command, target, version, headers, names, body, keep_alive)
        return keep_alive

    def _body(self, headers: dict[str, list[str]]) -> bytes:
        if _first(headers, "transfer-encoding").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(_first(headers, "content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _error(self, code: int, message: str) -> None:
        body = f"<html><body><h1>Error {code}</h1><p>{html.escape(message)}</p></body></html>".encode()
        head = (f"HTTP/1.1 {code} {message}\r\nContent-Type: text/html;charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
        self.wfile.write(head.encode("latin-1", "replace") + body)

    def _serve(self, command: str, target: str, version: str, headers: dict[str, list[str]],
               names: dict[str, str], body: bytes, keep_alive: bool) -> None:
        path, _, query = target.partition("?")
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": command, "SCRIPT_NAME": "", "PATH_INFO": unquote(path),
            "QUERY_STRING": query, "CONTENT_TYPE": _first(headers, "content-type"),
            "CONTENT_LENGTH": str(len(body)), "SERVER_NAME": str(host), "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": version, "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": self.client_address[1], "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        for key, values in headers.items():
            name = "HTTP_" + names[key].upper().replace("-", "_")
            if name not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[name] = ", ".join(values)
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return lambda data: None

        result = self.server.app(environ, start_response)
        try:
            data = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, response_headers = started
        lines = [f"HTTP/1.1 {status}"]
        lines += [f"{k}: {v}" for k, v in response_headers if k.lower() not in ("content-length", "connection")]
        lines.append(f"Content-Length: {len(data)}")
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + (b"" if command == "HEAD" else data))


def _first(headers: dict[str, list[str]], key: str) -> str:
    values = headers.get(key)
    return values[0] if values else ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Any) -> None:
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, opened: bool) -> None:
        with self._open_lock:
            (self._open.add if opened else self._open.discard)(conn)

    def close_connections(self) -> None:
        with self._open_lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class KeepAliveServer:
    """Serve a WSGI app on a background thread; port 0 picks a free port."""

    def __init__(self, host: str, port: int, app: Any) -> None:
        self._server = _Server((host, port), app)
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="mock-erp-http", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=5)
