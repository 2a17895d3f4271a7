"""The server transport: a WSGI middleware in front of moto's server application.

Every HTTP request becomes a ``WireRequest`` for ``routing.route``; what the emulation owns is
answered here, everything else goes to moto's ``DomainDispatcherApplication`` unchanged. The
in-process activation switch (``inprocess.activate``) plays no part: a server always serves.

``EmulatorServer`` runs the wrapped application on a loopback address (werkzeug's server, with
persistent HTTP/1.1 connections: ``keepalive``), in a
background thread (the ``moto-server`` backend) or in the foreground (``fsconformance serve``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from ...model.lifecycle import Delays
from .. import clock, determinism, moto_seam, routing, settings
from ..state import all_states
from ..wire import WireRequest, WireResponse
from . import bridge, shaping
from .journal import Entry, Journal, answer_digest, changes_state
from .keepalive import KeepAliveServer
from .policy import LocalPolicy, refusal, require_loopback
from .replay import (
    MAX_NOTICES,
    QUERY_SECONDS,
    Replayed,
    close_result,
    legacy_identifier,
    no_write,
    replay_environ,
    starts_a_query,
)

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


def shaped_error(
    environ: dict[str, Any], status: int, code: str, message: str
) -> tuple[list[tuple[str, str]], bytes]:
    """The server's own error answers (a request after a stop began, a failure nothing
    answered) in the protocol of the request, as every other answer of serve's."""
    method = environ.get("REQUEST_METHOD", "GET")
    request = WireRequest(method, request_url(environ), request_headers(environ))
    answer = shaping.error(request, status, code, message)
    return list(answer.headers.items()), answer.body


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


def _with_body(environ: dict[str, Any], body: bytes) -> None:
    """Give the application ``body`` as read, with its exact length.

    A streamed upload arrives with ``Transfer-Encoding: chunked`` and no length; once read,
    the body is a plain one, and a stale ``Transfer-Encoding`` would make the next reader
    (moto, or a replay) take it for one of unknown length and read nothing.
    """
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.pop("wsgi.input_terminated", None)


def _ticks(environ: dict[str, Any]) -> bool:
    """Whether routing moves the emulated clock for this request (all but SageMaker's)."""
    request = WireRequest("POST", request_url(environ), request_headers(environ))
    return request.scope().service != "sagemaker"


class FeatureStoreMiddleware:
    """Answers Feature Store and Athena query requests; passes the rest to ``app``.

    Before anything else it applies ``policy``: a malformed Content-Length, a foreign Host,
    a browser's cross-origin request and a page's call of moto's management endpoints are
    refused with AWS-shaped errors, and no response carries CORS headers for an origin the
    policy does not allow. An answer of moto's that carries no error a client can read (an
    empty 404, an HTML page, an exception) is replaced by an AWS-shaped one (``shaping``).

    With a ``journal`` (``serve --data-dir``) every write is applied one at a time, at a
    recorded moment and with random draws from a recorded seed, and kept before its answer
    leaves; ``replay`` applies the kept writes again the same way (docs/durability.md).
    """

    def __init__(
        self, app: WSGIApp, policy: LocalPolicy | None = None, journal: Journal | None = None
    ) -> None:
        self.app = app
        self.policy = policy or LocalPolicy()
        self.journal = journal

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        journal = self.journal
        method = environ.get("REQUEST_METHOD", "GET")
        if (
            journal is None
            or method in ("GET", "HEAD", "OPTIONS")
            or self.policy.refusal(environ) is not None
        ):
            return self._answer(environ, start_response)
        body = _read_body(environ)
        _with_body(environ, body)
        form = body if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", "") else b""
        if not changes_state(
            method, environ.get("PATH_INFO", ""), environ.get("HTTP_X_AMZ_TARGET", ""), form
        ):
            return self._answer(environ, start_response)
        query = environ.get("QUERY_STRING")
        path = environ.get("RAW_URI") or (
            environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
        )
        headers = request_headers(environ)
        with journal.lock:  # one write at a time: the journal's order is the order applied
            if journal.broken is not None:
                refused = refusal(503, "ServiceUnavailable", journal.broken)
                return self._send(environ, refused, start_response, time.perf_counter(), "")
            at = max(determinism.real_time(), journal.last_at)
            management = environ.get("PATH_INFO", "").startswith("/moto-api/")
            seed = None if management else moto_seam.next_seed()
            status, answer_headers, answer = self._apply(environ, at, seed)
            code = int(status.split()[0])
            end = 0
            if 200 <= code < 300:
                try:
                    if environ.get("PATH_INFO", "").startswith("/moto-api/reset"):
                        journal.clear()
                    else:
                        digest = answer_digest(code, answer)
                        scheme = environ.get("wsgi.url_scheme", "http")
                        end = journal.append(
                            Entry(at, seed, method, path, headers, body, digest, scheme=scheme)
                        )
                except OSError as error:
                    return self._unkept(environ, start_response, journal, error)
        if end:
            try:
                journal.wait_durable(end)  # outside the lock: the next write applies meanwhile
            except OSError as error:
                return self._unkept(environ, start_response, journal, error)
        start_response(status, answer_headers)
        return [answer]

    def _unkept(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        journal: Journal,
        error: OSError,
    ) -> Iterable[bytes]:
        """A write applied but not kept: refuse it, and every later write, rather than let
        the memory and the disk drift apart (a later write may build on this one)."""
        journal.broken = (
            f"The data directory cannot be written ({error.strerror or error}); no write is "
            "accepted until the server restarts."
        )
        log.error("%s: %s", journal.path, journal.broken)
        refused = refusal(500, "InternalFailure", journal.broken)
        return self._send(environ, refused, start_response, time.perf_counter(), "")

    def _apply(
        self, environ: dict[str, Any], at: float, seed: int | None
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        """Answer one write at ``at`` with random draws from ``seed``; status, headers, body.

        The emulated clock moves first (as routing would move it for this request), outside
        the seeded draws: what it does depends on which reads came before, which a replay
        does not repeat, so it must not shift the write's own draws.
        """
        determinism.install()
        seen: list[tuple[str, list[tuple[str, str]]]] = []

        def keep(status: str, headers: Any, *args: Any) -> Any:
            seen.append((status, list(headers)))

        with determinism.applying(at, None):
            if _ticks(environ):
                clock.tick()
            with determinism.applying(at, seed):
                answer = b"".join(self._answer(environ, keep))
        status, headers = seen[0] if seen else ("500 Internal Server Error", [])
        return status, headers, answer

    def replay(self) -> Replayed:
        """Apply every journaled write again, in order, each at its moment and with its seed.

        A write that fails or answers differently than it first did is reported in
        ``Replayed.notices``; it never stops the rest.
        """
        replayed = Replayed()
        if self.journal is None:
            return replayed
        started = time.perf_counter()
        determinism.install()
        delays = settings.current_delays()
        # Queries run at once while replaying (their results are the same, C-184's queue is
        # not): each finishes before the next write, at the moment it was submitted.
        settings.configure(dataclasses.replace(delays, athena=0.0))
        try:
            for entry in self.journal.entries():
                determinism.set_process_clock(entry.at)
                outcome = self._replay_one(entry)
                replayed.count += 1
                if outcome is not None:
                    replayed.differed += 1
                    if replayed.differed <= MAX_NOTICES:
                        replayed.notices.append(outcome)
        finally:
            determinism.set_process_clock(None)
            settings.configure(delays)
            for state in all_states():
                state.control_plane.delays = delays
        if replayed.differed > MAX_NOTICES:
            replayed.notices.append(
                f"... and {replayed.differed - MAX_NOTICES} more writes replayed differently"
            )
        replayed.seconds = time.perf_counter() - started
        return replayed

    def _replay_one(self, entry: Entry) -> str | None:
        """Apply one journaled write; None if it answered as it first did, else why not."""
        environ = replay_environ(entry.method, entry.path, entry.headers, entry.body, entry.scheme)
        what = f"{entry.method} {entry.path[:120]} {entry.headers.get('X-Amz-Target', '')}"
        try:
            with legacy_identifier(entry.made_id):
                status, _, answer = self._apply(environ, entry.at, entry.seed)
        except Exception as error:  # noqa: BLE001 - one write's failure must not stop the rest
            log.debug("replaying %s", what, exc_info=True)
            return f"replaying {what.strip()} failed: {type(error).__name__}: {error}"
        code = int(status.split()[0])
        if code == 200 and starts_a_query(entry):
            self._wait_for_query(entry, answer)
        if entry.answer is not None and answer_digest(code, answer) != entry.answer:
            return f"replaying {what.strip()} answered {code}, not as first answered"
        if entry.answer is None and not 200 <= code < 300:
            return f"replaying {what.strip()} answered {code}"
        return None

    def _wait_for_query(self, entry: Entry, answer: bytes) -> None:
        """Let a replayed query finish before the next write (its statement may write)."""
        try:
            query_id = json.loads(answer)["QueryExecutionId"]
        except (ValueError, KeyError, TypeError):
            return
        headers = {k: v for k, v in entry.headers.items() if k.lower() in ("authorization", "host")}
        # Asked in the protocol the query was started in (the installed model may have no other).
        if entry.headers.get("X-Amz-Target"):
            headers["X-Amz-Target"] = "AmazonAthena.GetQueryExecution"
            headers["Content-Type"] = "application/x-amz-json-1.1"
            method, path, body = "POST", "/", json.dumps({"QueryExecutionId": query_id}).encode()
        else:
            method, path, body = "GET", f"/query-executions/{query_id}", b""
        deadline = time.monotonic() + QUERY_SECONDS
        pause = threading.Event()
        while time.monotonic() < deadline:
            environ = replay_environ(method, path, headers, body, entry.scheme)
            found = b"".join(self._answer(environ, lambda *args: None))
            try:
                state = json.loads(found)["QueryExecution"]["Status"]["State"]
            except (ValueError, KeyError, TypeError):
                return
            if state not in ("QUEUED", "RUNNING"):
                return
            pause.wait(0.002)

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
                else refusal(403, "AccessDeniedException", "No cross-origin access.")
            )
        else:
            response = routing.route(request)
        if response is None:
            return self._moto(environ, request, guarded_start_response, started, target)
        return self._send(environ, response, guarded_start_response, started, target)

    def _moto(
        self,
        environ: dict[str, Any],
        request: WireRequest,
        start_response: StartResponse,
        started: float,
        target: str,
    ) -> Iterable[bytes]:
        """moto's answer, with an AWS-shaped one in place of a failure it leaves unshaped."""
        if not callable(request.read_body) or "x-www-form-urlencoded" in environ.get(
            "CONTENT_TYPE", ""
        ):
            # Read for routing after all, or a query-protocol form (small) whose Action an
            # error would name: hand moto a fresh stream of the same bytes.
            _with_body(environ, request.body)
        else:
            request.read_body = b""  # moto reads the stream; nothing is left to read after
        seen: list[tuple[str, list[tuple[str, str]]]] = []

        def keep(status: str, headers: Any, *args: Any) -> Any:
            seen.append((status, list(headers)))
            return no_write

        method = environ.get("REQUEST_METHOD", "GET")
        try:
            result = self.app(environ, keep)
            if not seen:  # an application that starts its answer only once iterated
                result = [b"".join(result)]
            status = int(seen[0][0].split()[0])
            if status >= 400 and method != "HEAD":
                body = b"".join(result)
                close_result(result)
                if shaping.unshaped(method, status, seen[0][1], body):
                    return self._shape(environ, request, status, None, start_response, started)
                result = [body]
        except Exception as error:  # noqa: BLE001 - moto failed on the request: AWS-shaped
            return self._shape(environ, request, None, error, start_response, started)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "moto      %s %s %s %s %.1f ms",
                method,
                environ.get("PATH_INFO", ""),
                target,
                status,
                (time.perf_counter() - started) * 1000,
            )
        start_response(*seen[0])
        return result

    def _shape(
        self,
        environ: dict[str, Any],
        request: WireRequest,
        status: int | None,
        error: BaseException | None,
        start_response: StartResponse,
        started: float,
    ) -> Iterable[bytes]:
        response = shaping.moto_failure(request, status, error)
        what = f"{type(error).__name__}: {error}"[:200] if error is not None else f"{status}"
        log.warning(
            "moto gave %s for %s %s %s; answered %d instead",
            what,
            request.method,
            environ.get("PATH_INFO", "")[:200],
            (request.header("X-Amz-Target") or "")[:100],
            response.status,
        )
        if error is not None:
            log.debug("moto's failure", exc_info=error)
        return self._send(environ, response, start_response, started, "")

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
        self._journal: Journal | None = None
        self.replayed = 0
        # Lines for the operator about the data directory (set aside, restored, differed).
        self.notices: list[str] = []
        self.host = host
        self.port = port
        self._delays = delays
        self._cors_origins = frozenset(cors_origins)
        self._wrap = wrap  # e.g. the in-process bridge's gate, which closes with the mock
        self._server: KeepAliveServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "call bind() or start() first"
        host, port = self._address()
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{host}:{port}"

    def _address(self) -> tuple[str, int]:
        """The listening socket's host (an IP address, as text) and port."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return host if isinstance(host, str) else bytes(host).decode(), int(port)

    def bind(self) -> str:
        """Open the listening socket; return the server's URL."""
        # A process that serves an emulation uses its own, not one its parent pointed it at.
        bridge.release_inherited()
        settings.configure(self._delays or settings.delays_from_env())
        journal = Journal(self._data_dir) if self._data_dir else None  # JournalError: refused
        app = FeatureStoreMiddleware(moto_seam.server_app(), journal=journal)
        restored = app.replay()  # what an earlier run with this data directory accepted
        self.replayed = restored.count
        self.notices = [*(journal.notices if journal else []), *restored.notices]
        if journal is not None:
            self.notices.append(
                f"{journal.path}: restored {restored.count} writes in {restored.seconds:.2f} s"
                + (f", {restored.differed} of them differently" if restored.differed else "")
            )
        self._journal = journal
        self._server = KeepAliveServer(
            self.host,
            self.port,
            self._wrap(app) if self._wrap else app,
            self._ssl_context,
            error_answer=shaped_error,
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
        self._server.serve_forever(poll_interval=None)  # type: ignore[arg-type]  # socketserver's select takes None

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
        self._server.stop_connections()  # nothing is accepted after the stop, on any connection
        stopper = threading.Thread(target=self._server.shutdown, daemon=True)
        stopper.start()
        address = self._address()
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
        written = clock.flush_all()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        return written
