"""HTTP/1.1 with persistent connections for serve's WSGI server.

werkzeug's development handler answers every request with ``Connection: close`` and then waits
up to 10 ms for the client to hang up, so each request of an SDK pays a TCP connect and close,
a new server thread and that wait. Every AWS SDK keeps its connections open (RFC 9112 §9.3),
so this handler keeps them: it reuses werkzeug's parsing of the request into a WSGI environ
(chunked bodies included) and writes the response itself, always with a length, so that the
next request can follow on the same connection.

A request body the application did not read is read to its end before the next request is
parsed, so a short read can never be taken for the next request line. A connection idle for
``IDLE_SECONDS`` is closed. Once the server stops, an open connection's next request is
answered 503 with ``Connection: close``, and idle connections are shut, so nothing is accepted
after the stop (the journal is closed then). The body of that 503, and of the 500 for a
failure the application did not answer, comes from the server's ``error_answer``: serve's
writes it in the protocol of the request (XML for S3); this module knows no AWS protocol.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import IO, Any, cast

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

IDLE_SECONDS = 60

log = logging.getLogger("fsconformance.server")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Headers = list[tuple[str, str]]
# (the request's environ, status, error code, message) -> the answer's headers and body
ErrorAnswer = Callable[[dict[str, Any], int, str, str], tuple[Headers, bytes]]


def json_error(
    environ: dict[str, Any], status: int, code: str, message: str
) -> tuple[Headers, bytes]:
    """An error in AWS's JSON shape, whatever the request: the default ``error_answer``."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return [("Content-Type", "application/x-amz-json-1.1")], body


class KeepAliveHandler(WSGIRequestHandler):
    """werkzeug's handler, keeping each HTTP/1.1 connection open between requests."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS  # socket timeout: an idle connection ends; a stalled body too
    # A response leaves in one write, headers and body together: on a connection that stays
    # open, a body sent apart from its headers waits for the client's delayed ACK (Nagle).
    wbufsize = 1 << 16
    server: KeepAliveServer

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # the middleware logs each request

    def setup(self) -> None:
        super().setup()
        if self.connection.family in (socket.AF_INET, socket.AF_INET6):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.closed(self.connection)

    def run_wsgi(self) -> None:
        if self.server.stopping:
            self._refuse()
            return
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        self.environ = environ = self.make_environ()
        body = environ["wsgi.input"]
        if not environ.get("wsgi.input_terminated"):
            # Never past this request's own body, into the next request on the connection.
            length = environ.get("CONTENT_LENGTH") or "0"
            if not length.isdigit():
                self.close_connection = True  # where this body ends is unknown
            rfile = cast("IO[bytes]", self.rfile)
            body = LimitedStream(rfile, int(length) if length.isdigit() else 0)
            environ["wsgi.input"] = body
        status_and_headers: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            if exc_info and status_and_headers:
                raise exc_info[1].with_traceback(exc_info[2])
            status_and_headers[:] = [status, headers]
            return lambda data: chunks.append(data)  # the legacy write() callable

        chunks: list[bytes] = []
        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception:
            # The middleware shapes every failure it knows into an AWS answer; anything
            # else is a defect, answered in the same shape rather than with a dropped line.
            log.exception("fsconformance serve: failed on %s %s", self.command, self.path)
            self.close_connection = True
            self._error(
                environ, 500, "InternalFailure", "fsconformance serve failed on this request"
            )
            return
        # What the application left of the body goes, so that the next request starts clean.
        while body.read(65536):
            pass
        status, headers = status_and_headers
        self._respond(status, headers, b"".join(chunks))

    def _respond(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        self.send_response(code, reason)
        names = set()
        for name, value in headers:
            names.add(name.lower())
            if name.lower() in ("connection", "transfer-encoding"):
                continue  # this handler decides both
            self.send_header(name, value)
        bodiless = self.command == "HEAD" or code in (204, 304) or 100 <= code < 200
        if not bodiless and "content-length" not in names:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not bodiless:
            self.wfile.write(payload)
        self.wfile.flush()

    def _refuse(self) -> None:
        self.close_connection = True
        self._error(
            self.make_environ(), 503, "ServiceUnavailable", "fsconformance serve is stopping"
        )

    def _error(self, environ: dict[str, Any], status: int, code: str, message: str) -> None:
        try:
            headers, body = self.server.error_answer(environ, status, code, message)
        except Exception:  # the answer is owed all the same: in the shape that cannot fail
            log.exception("fsconformance serve: no %s answer in the request's protocol", status)
            headers, body = json_error(environ, status, code, message)
        self._respond(f"{status} {HTTPStatus(status).phrase}", headers, body)


class KeepAliveServer(ThreadingMixIn, BaseWSGIServer):
    """werkzeug's threaded server, knowing its open connections so that a stop can end them."""

    multithread = True
    daemon_threads = True

    def __init__(
        self,
        host: str,
        port: int,
        app: WSGIApp,
        ssl_context: ssl.SSLContext | None = None,
        error_answer: ErrorAnswer = json_error,
    ) -> None:
        self.stopping = False
        self.error_answer = error_answer
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(host, port, app, handler=KeepAliveHandler, ssl_context=ssl_context)

    def opened(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def closed(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def stop_connections(self) -> None:
        """Refuse every later request on an open connection, and wake the idle ones: their
        wait for a next request line ends at once. A request being answered still gets its
        answer: only the reading side closes."""
        self.stopping = True
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                # The plain socket's shutdown: ``SSLSocket.shutdown`` would drop the TLS
                # session a response may still be written through.
                socket.socket.shutdown(connection, socket.SHUT_RD)
