"""The server transport: a WSGI middleware in front of moto's server application.

Every HTTP request becomes a ``WireRequest`` for ``routing.route``; what the emulation owns is
answered here, everything else goes to moto's ``DomainDispatcherApplication`` unchanged. The
in-process activation switch (``inprocess.activate``) plays no part: a server always serves.

``EmulatorServer`` runs the wrapped application with werkzeug on a loopback address, in a
background thread (the ``moto-server`` backend) or in the foreground (``fsconformance serve``).
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.test import EnvironBuilder

from ...model.control_plane import Delays
from ...model.errors import ServiceError
from .. import clock, moto_seam, routing, settings
from ..wire import WireRequest, WireResponse, json_error
from . import bridge
from .journal import Journal, changes_state, replaying

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
        return stream.read(int(length))  # checked by the middleware before routing
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked" or environ.get(
        "wsgi.input_terminated"
    ):
        return stream.read()
    return b""


def _refusal(status: int, code: str, message: str) -> WireResponse:
    return json_error(ServiceError(code, message, status), "application/json")


def is_loopback_host(host: str) -> bool:
    """Whether a Host header's name (port removed) is a loopback address or name."""
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    if name == "localhost" or name.endswith(".localhost"):  # RFC 6761: always loopback
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class LocalPolicy:
    """Who may talk to the server: loopback clients only, and no web page.

    ``hosts`` are the Host values it answers besides loopback names (its own address);
    ``cors_origins`` the browser origins it gives cross-origin access to (none by default).
    """

    hosts: frozenset[str] = frozenset()
    cors_origins: frozenset[str] = frozenset()

    def refusal(self, environ: dict[str, Any]) -> WireResponse | None:
        """The AWS-shaped refusal of a request the server must not answer, else ``None``."""
        length = environ.get("CONTENT_LENGTH")
        if length and not (length.isascii() and length.isdigit()):
            return _refusal(
                400, "SerializationException", "Content-Length must be a non-negative integer."
            )
        host = environ.get("HTTP_HOST", "")
        if host and host.lower() not in self.hosts and not is_loopback_host(host):
            # DNS rebinding: a page's own name resolving to this address.
            return _refusal(
                403, "AccessDeniedException", "This server answers only its own loopback address."
            )
        origin = environ.get("HTTP_ORIGIN")
        fetch_site = environ.get("HTTP_SEC_FETCH_SITE", "").lower()
        own_page = origin is not None and origin.lower() in self.own_origins
        if origin is not None and not own_page and origin not in self.cors_origins:
            return _refusal(
                403, "AccessDeniedException", "Requests from web pages are not answered."
            )
        if fetch_site in ("cross-site", "same-site") and origin not in self.cors_origins:
            return _refusal(
                403, "AccessDeniedException", "Requests from web pages are not answered."
            )
        if environ.get("PATH_INFO", "").startswith("/moto-api/"):
            method = environ.get("REQUEST_METHOD", "GET")
            browser = origin is not None or fetch_site not in ("", "none", "same-origin")
            changes = method not in ("GET", "HEAD") and (
                origin is not None or fetch_site not in ("", "none")
            )
            if browser or changes:
                # moto's management endpoints (reset, state): for programs, never for a page.
                return _refusal(
                    403,
                    "AccessDeniedException",
                    "moto's management endpoints take no request from a web page.",
                )
        return None

    @property
    def own_origins(self) -> frozenset[str]:
        return frozenset(f"http://{host}" for host in self.hosts if ":" in host)

    def cors_headers(self, environ: dict[str, Any], headers: list[tuple[str, str]]) -> list:
        """``headers`` without moto's CORS answers, plus ours for an allowed origin."""
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin in self.cors_origins:
            kept.append(("Access-Control-Allow-Origin", origin))
            kept.append(("Vary", "Origin"))
            if environ.get("REQUEST_METHOD") == "OPTIONS":
                kept.append(("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE, HEAD"))
                asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
                if asked:
                    kept.append(("Access-Control-Allow-Headers", asked))
            kept.append(("Access-Control-Expose-Headers", "x-amzn-RequestId, x-amzn-ErrorType"))
        return kept


class FeatureStoreMiddleware:
    """Answers Feature Store and Athena query requests; passes the rest to ``app``.

    Before anything else it applies ``policy``: a malformed Content-Length, a foreign Host,
    a browser's cross-origin request and a page's call of moto's management endpoints are
    refused with AWS-shaped errors, and no response carries CORS headers for an origin the
    policy does not allow.
    """

    def __init__(
        self, app: WSGIApp, policy: LocalPolicy | None = None, journal: Journal | None = None
    ) -> None:
        self.app = app
        self.policy = policy or LocalPolicy()
        self.journal = journal

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        journal = self.journal
        path = environ.get("PATH_INFO", "")
        if journal is None or not changes_state(
            environ.get("REQUEST_METHOD", "GET"), path, environ.get("HTTP_X_AMZ_TARGET", "")
        ):
            return self._answer(environ, start_response)
        body = _read_body(environ) if self.policy.refusal(environ) is None else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        seen: list[str] = []

        def recording(status: str, headers: Any, *args: Any) -> Any:
            seen.append(status)
            return start_response(status, headers, *args)

        with journal.lock:  # one write at a time: the journal's order is the order applied
            at = time.time()
            answer = b"".join(self._answer(environ, recording))
            if seen and seen[0].startswith("2"):
                if path.startswith("/moto-api/reset"):
                    journal.clear()
                else:
                    made_id = None
                    # StartQueryExecution, in the json and the rest-json protocol
                    if environ.get("HTTP_X_AMZ_TARGET", "").endswith(".StartQueryExecution") or (
                        path.rstrip("/") == "/query-executions"
                    ):
                        made_id = json.loads(answer).get("QueryExecutionId")
                    headers = request_headers(environ)
                    query = environ.get("QUERY_STRING")
                    full_path = environ.get("RAW_URI") or (path + (f"?{query}" if query else ""))
                    journal.record(at, environ["REQUEST_METHOD"], full_path, headers, body, made_id)
        return [answer]

    def replay(self) -> int:
        """Apply every journaled request again, in order, at its original time."""
        if self.journal is None:
            return 0
        count = 0
        for at, method, path, headers, body, made_id in self.journal.entries():
            builder = EnvironBuilder(
                path=path.split("?")[0],
                query_string=path.partition("?")[2],
                method=method,
                headers=headers,
                data=body,
            )
            environ = builder.get_environ()
            environ["RAW_URI"] = environ["REQUEST_URI"] = path  # as first sent, query included
            with replaying(at, made_id):
                for _ in self._answer(environ, lambda *args: None):
                    pass
            count += 1
        return count

    def _answer(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        policy = self.policy

        def guarded_start_response(status: str, headers: Any, *args: Any) -> Any:
            return start_response(status, policy.cors_headers(environ, list(headers)), *args)

        refused = policy.refusal(environ)
        if refused is not None:
            return self._send(environ, refused, guarded_start_response, started, "")
        request = WireRequest(
            environ.get("REQUEST_METHOD", "GET"),
            request_url(environ),
            request_headers(environ),
            lambda: _read_body(environ),
        )
        target = request.header("X-Amz-Target") or ""
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            response: WireResponse | None = (
                WireResponse(200, b"")
                if environ.get("HTTP_ORIGIN") in policy.cors_origins
                else _refusal(403, "AccessDeniedException", "No cross-origin access.")
            )
        else:
            response = routing.route(request)
        if response is None:
            if not callable(request.read_body):
                # Read for routing after all: hand moto a fresh stream of the same bytes.
                environ["wsgi.input"] = io.BytesIO(request.body)
                environ["CONTENT_LENGTH"] = str(len(request.body))
            status_seen: list[str] = []

            def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
                status_seen.append(status)
                return guarded_start_response(status, headers, *args)

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
        return self._send(environ, response, guarded_start_response, started, target)

    @staticmethod
    def _send(
        environ: dict[str, Any],
        response: WireResponse,
        start_response: StartResponse,
        started: float,
        target: str,
    ) -> Iterable[bytes]:
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
                environ.get("REQUEST_METHOD", "GET"),
                environ.get("PATH_INFO", ""),
                target,
                response.status,
                (time.perf_counter() - started) * 1000,
            )
        return [response.body]


def make_app(policy: LocalPolicy | None = None) -> WSGIApp:
    """moto's server application with the Feature Store emulation in front of it."""
    return FeatureStoreMiddleware(moto_seam.server_app(), policy)


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
        cors_origins: Iterable[str] = (),
        data_dir: str | None = None,
        wrap: Callable[[WSGIApp], WSGIApp] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ):
        require_loopback(host)
        self._ssl_context = ssl_context  # HTTPS on the same port (serve --tls)
        self._data_dir = data_dir
        self.replayed = 0
        self.host = host
        self.port = port
        self._delays = delays
        self._cors_origins = frozenset(cors_origins)
        self._wrap = wrap  # e.g. the in-process bridge's gate, which closes with the mock
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "call bind() or start() first"
        host, port = self._server.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{host}:{port}"

    def bind(self) -> str:
        """Open the listening socket; return the server's URL."""
        # A process that serves an emulation uses its own, not one its parent pointed it at.
        bridge.release_inherited()
        settings.configure(self._delays or settings.delays_from_env())
        journal = Journal(self._data_dir) if self._data_dir else None
        app = FeatureStoreMiddleware(moto_seam.server_app(), journal=journal)
        self.replayed = app.replay()  # what an earlier run with this data directory accepted
        self._server = make_server(
            self.host,
            self.port,
            self._wrap(app) if self._wrap else app,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=self._ssl_context,
        )
        port = self._server.server_address[1]
        own = {self.host.lower(), f"{self.host.lower()}:{port}", self.url.split("://", 1)[1]}
        app.policy = LocalPolicy(frozenset(own), self._cors_origins)
        return self.url

    def serve_forever(self) -> None:
        assert self._server is not None, "call bind() first"
        # No poll interval: a thread that wakes to poll takes the GIL from every other thread
        # of the process, which cost each botocore call in a mocking process about 10%.
        # ``shutdown`` wakes the blocked select itself.
        self._server.serve_forever(poll_interval=None)

    def start(self) -> str:
        """Serve in a daemon thread; return the URL once the socket is listening."""
        url = self.bind()
        self._thread = threading.Thread(
            target=self.serve_forever, name="fsconformance-server", daemon=True
        )
        self._thread.start()
        return url

    def _stop_serving(self) -> None:
        """``shutdown()`` of the server, waking its blocked select by connecting to it (the
        flag is read before the connection is, so nothing answers it)."""
        assert self._server is not None
        stopper = threading.Thread(target=self._server.shutdown, daemon=True)
        stopper.start()
        address = self._server.server_address[:2]
        while stopper.is_alive():
            with contextlib.suppress(OSError):
                socket.create_connection(address, timeout=1).close()
            stopper.join(0.01)

    def shutdown(self) -> int:
        """Stop serving, then write every buffered offline row (C-060); return how many."""
        if self._server is not None:
            if self._thread is not None:
                self._stop_serving()
                self._thread.join()
                self._thread = None
            self._server.server_close()
            self._server = None
        return clock.flush_all()
