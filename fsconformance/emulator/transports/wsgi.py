"""The server transport: a WSGI middleware in front of moto's server application.

Every HTTP request becomes a ``WireRequest`` for ``routing.route``; what the emulation owns is
answered here, everything else goes to moto's ``DomainDispatcherApplication`` unchanged. The
in-process activation switch (``inprocess.activate``) plays no part: a server always serves.

``EmulatorServer`` runs the wrapped application with werkzeug on a loopback address, in a
background thread (the ``moto-server`` backend) or in the foreground (``fsconformance serve``).
"""

from __future__ import annotations

import io
import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ...model.control_plane import Delays
from .. import clock, moto_seam, routing, settings
from ..wire import WireRequest
from . import bridge

log = logging.getLogger("fsconformance.server")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def request_url(environ: dict[str, Any]) -> str:
    """The full URL of a request, query string included, as the client sent it."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or (
        f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"
    )
    path = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not path:
        from urllib.parse import quote

        path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
    return f"{scheme}://{host}{path}"


def request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").title()] = environ[key]
    return headers


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked" or environ.get(
        "wsgi.input_terminated"
    ):
        return stream.read()
    return b""


class FeatureStoreMiddleware:
    """Answers Feature Store and Athena query requests; passes the rest to ``app``."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        request = WireRequest(
            environ.get("REQUEST_METHOD", "GET"),
            request_url(environ),
            request_headers(environ),
            lambda: _read_body(environ),
        )
        response = routing.route(request)
        target = request.header("X-Amz-Target") or ""
        if response is None:
            if not callable(request.read_body):
                # Read for routing after all: hand moto a fresh stream of the same bytes.
                environ["wsgi.input"] = io.BytesIO(request.body)
                environ["CONTENT_LENGTH"] = str(len(request.body))
            status_seen: list[str] = []

            def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
                status_seen.append(status)
                return start_response(status, headers, *args)

            result = self.app(environ, recording_start_response)
            if log.isEnabledFor(logging.DEBUG):
                status = status_seen[0].split()[0] if status_seen else "?"
                log.debug(
                    "moto      %s %s %s %s %.1f ms",
                    request.method,
                    environ.get("PATH_INFO", ""),
                    target,
                    status,
                    (time.perf_counter() - started) * 1000,
                )
            return result
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        headers = dict(response.headers)
        headers["Content-Length"] = str(len(response.body))
        start_response(f"{response.status} {reason}".rstrip(), list(headers.items()))
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "emulated  %s %s %s %d %.1f ms",
                request.method,
                environ.get("PATH_INFO", ""),
                target,
                response.status,
                (time.perf_counter() - started) * 1000,
            )
        return [response.body]


def make_app() -> WSGIApp:
    """moto's server application with the Feature Store emulation in front of it."""
    return FeatureStoreMiddleware(moto_seam.server_app())


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without its own access log (the middleware logs each request)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def require_loopback(host: str) -> None:
    """Refuse any address that is not a loopback one: the emulation never listens outside."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ValueError(f"{host} is not a loopback address; the server binds only 127.0.0.1/::1")


class EmulatorServer:
    """moto plus the emulation over HTTP on a loopback address; port 0 picks a free one."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        delays: Delays | None = None,
        app: WSGIApp | None = None,
    ):
        require_loopback(host)
        self.host = host
        self.port = port
        self._delays = delays
        self._app = app
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "call bind() or start() first"
        host, port = self._server.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"

    def bind(self) -> str:
        """Open the listening socket; return the server's URL."""
        # A process that serves an emulation uses its own, not one its parent pointed it at.
        bridge.release_inherited()
        settings.configure(self._delays or settings.delays_from_env())
        self._server = make_server(
            self.host,
            self.port,
            self._app or make_app(),
            threaded=True,
            request_handler=_QuietHandler,
        )
        return self.url

    def serve_forever(self) -> None:
        assert self._server is not None, "call bind() first"
        self._server.serve_forever(poll_interval=0.05)  # shutdown() waits at most this long

    def start(self) -> str:
        """Serve in a daemon thread; return the URL once the socket is listening."""
        url = self.bind()
        self._thread = threading.Thread(
            target=self.serve_forever, name="fsconformance-server", daemon=True
        )
        self._thread.start()
        return url

    def shutdown(self) -> int:
        """Stop serving, then write every buffered offline row (C-060); return how many."""
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join()
                self._thread = None
            self._server.server_close()
            self._server = None
        return clock.flush_all()
