"""A threaded werkzeug server that keeps HTTP/1.1 connections open between requests.

werkzeug's development server answers every request with ``Connection: close`` (its
``run_wsgi`` cannot drain a request body safely otherwise), so each request through the
adapters' pooled ``requests.Session`` paid a TCP handshake, a new server thread and a
10 ms-bounded drain poll, on both sides of a 2-core machine. This handler reads the body
exactly by Content-Length before the application runs, answers with one write, and keeps
the connection for the next request. Whatever it cannot frame safely (chunked request
bodies, ``Expect``, a bad Content-Length) goes through werkzeug's own path unchanged,
which closes the connection as before. Status codes, bodies, application headers and the
access log are the same as werkzeug's; only ``Connection: close`` goes away.

Usage: ``server = KeepAliveServer("127.0.0.1", 0, app); server.serve_forever()``
"""

from __future__ import annotations

import io
import re
import socket
import threading
from collections.abc import Iterable
from typing import Any, cast

from werkzeug.exceptions import InternalServerError
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from connector.sandbox.access_log import RedactingRequestHandler

# Set by the sandbox app for its wire faults (connector/sandbox/server.py); requests that
# take werkzeug's own path (chunked, Expect) get their real reply instead.
WIRE_KEY = "sandbox.wire"
# An idle kept-alive connection is closed after this long (a real server's keep-alive
# timeout; long enough that a client never races it in a test or a benchmark).
IDLE_TIMEOUT_S = 120.0
_DIGITS = re.compile(r"[0-9]+")


class KeepAliveRequestHandler(RedactingRequestHandler):
    """werkzeug's (redacting) request handler with HTTP/1.1 keep-alive."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    disable_nagle_algorithm = True  # a reply is one write; never wait for the peer's ACK
    wbufsize = -1  # buffered: status line, headers and body leave in one send on flush
    _served = False

    def handle_one_request(self) -> None:
        if self._served:
            # Between requests: a client that goes away, or stays idle past the timeout,
            # ends the connection quietly (the stdlib would log a timeout as an error).
            try:
                if not cast(io.BufferedReader, self.rfile).peek(1):  # rbufsize -1: buffered
                    self.close_connection = True
                    return
            except (TimeoutError, OSError):
                self.close_connection = True
                return
        self._served = True
        super().handle_one_request()

    def run_wsgi(self) -> None:
        length = self._body_length()
        if length is None:
            WSGIRequestHandler.run_wsgi(self)  # werkzeug's path; it closes the connection
            return
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client went away mid-body
            self.close_connection = True
            return
        self.environ = environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(body)
        status, headers, data = self._call_app(environ)
        wire = environ.get(WIRE_KEY)
        if wire == "drop":  # sandbox fault injection: no reply at all
            self.close_connection = True
            return
        if wire == "truncate":  # the full Content-Length, half the body, then close
            self.close_connection = True
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(data))))
            self._reply(status, headers, data[: len(data) // 2])
            return
        self._reply(status, headers, data)

    def _body_length(self) -> int | None:
        """The request body's length, or None when only werkzeug's own path can frame it."""
        if self.headers.get("Transfer-Encoding") is not None or self.headers.get("Expect") is not None:
            return None
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            return 0
        if len(lengths) > 1 or not _DIGITS.fullmatch(lengths[0].strip()):
            return None
        return int(lengths[0].strip())

    def _call_app(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        started: list[Any] = []
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]  # nothing is sent before the app returns: replaceable
            return written.append

        try:
            result: Iterable[bytes] = self.server.app(environ, start_response)
            try:
                written.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception as exc:
            if self.server.passthrough_errors:
                raise
            from werkzeug.debug.tbtools import DebugTraceback

            self.close_connection = True  # as werkzeug does after an application error
            written.clear()
            written.extend(InternalServerError()(environ, start_response))
            self.server.log("error", f"Error on request:\n{DebugTraceback(exc).render_traceback_text()}")
        status, headers = started
        return status, headers, b"".join(written)

    def _reply(self, status: str, headers: list[tuple[str, str]], data: bytes) -> None:
        code_text, _, message = status.partition(" ")
        code = int(code_text)
        self.send_response(code, message)  # also the access log line, as werkzeug writes it
        names = set()
        for name, value in headers:
            self.send_header(name, value)
            names.add(name.lower())
        bodiless = self.command == "HEAD" or 100 <= code < 200 or code in (204, 304)
        if "content-length" not in names and not bodiless:
            self.send_header("Content-Length", str(len(data)))
        if self.request_version != "HTTP/1.1":
            self.close_connection = True  # no HTTP/1.0 keep-alive dialect
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if data:
            self.wfile.write(data)
        self.wfile.flush()


class KeepAliveServer(ThreadedWSGIServer):
    """werkzeug's threaded server with `KeepAliveRequestHandler`; closing it also ends
    the kept-alive connections, so a stopped sandbox answers nothing more."""

    def __init__(self, host: str, port: int, app: Any, handler: type[WSGIRequestHandler] | None = None) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(host, port, app, handler=handler or KeepAliveRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._open_lock:
            still_open = list(self._open)
        for connection in still_open:
            # Read side only: a reply being written still goes out, then the handler sees
            # end-of-stream instead of a next request and closes the connection.
            try:
                connection.shutdown(socket.SHUT_RD)
            except OSError:
                pass
