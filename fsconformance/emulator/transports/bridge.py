"""The multi-process bridge: every process of a test run reaches one emulated account.

Two ways a botocore request can be sent somewhere else than its own endpoint:

* ``forward(url, request)`` sends one prepared botocore request to a served emulation over
  HTTP and returns its answer. The in-process transport uses it in a child forked from a
  mocking process: the child's copy of the state is a private one, so nothing may be answered
  from it: a write there would be lost.
* ``redirect(url)`` makes every botocore client of this process, explicit ``endpoint_url``
  and fixed endpoints (SDK v2 builds its STS client with one) included, send its requests to
  ``url``. ``fsconformance.use_endpoint`` and the environment variable ``USE_ENDPOINT_ENV``
  (read at interpreter start by the ``fsconformance-activate.pth`` file the package installs)
  use it.

This module imports neither moto nor the emulation: a spawned child that only needs the
redirect stays cheap to start.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

# The variable a process reads at start (fsconformance-activate.pth): send every AWS client
# to this URL. mock_featurestore sets it for the children it may start.
USE_ENDPOINT_ENV = "FSCONFORMANCE_USE_ENDPOINT"

# S3 virtual-hosted names: the bucket moves into the path, the served emulation is one host.
_S3_VIRTUAL_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.s3[.-](?:[a-z0-9-]+\.)*amazonaws\.com$"
)

_TIMEOUT_SECONDS = 120.0
# Framing headers: the body is sent whole, with a length of its own.
_NOT_FORWARDED = {"host", "content-length", "transfer-encoding", "expect", "connection"}


class BridgeError(RuntimeError):
    """A request could not reach the served emulation; nothing was answered locally."""


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if hasattr(body, "read"):
        start = body.tell() if hasattr(body, "tell") else None
        data = body.read()
        if start is not None and hasattr(body, "seek"):
            body.seek(start)  # botocore may rewind and resend on a retry
        return data.encode() if isinstance(data, str) else data
    return b"".join(chunk.encode() if isinstance(chunk, str) else chunk for chunk in body)


def target_path(url: str) -> str:
    """The path and query a served emulation needs for ``url`` (S3 in path style)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    match = _S3_VIRTUAL_HOST.match(parts.hostname or "")
    if match:
        path = f"/{match['bucket']}{path}"
    return path + (f"?{parts.query}" if parts.query else "")


def forward(
    endpoint: str, method: str, url: str, headers: Any, body: Any
) -> tuple[int, dict[str, str], bytes]:
    """Send one request to the emulation served at ``endpoint``; return status, headers, body.

    The Host header names the server, as for any client with an ``endpoint_url``; the SigV4
    scope in the Authorization header still says which service the request is for.
    """
    server = urlsplit(endpoint)
    sent = {
        (key.decode() if isinstance(key, bytes) else key): (
            value.decode() if isinstance(value, bytes) else value
        )
        for key, value in headers.items()
        if (key.decode() if isinstance(key, bytes) else key).lower() not in _NOT_FORWARDED
    }
    data = _body_bytes(body)
    sent["Content-Length"] = str(len(data))
    address = (server.hostname or "127.0.0.1", server.port or 80)
    try:
        connection, reused = _connection(address)
        try:
            response = _exchange(connection, method, target_path(url), data, sent)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not reused:
                raise
            # The server ended a connection that sat idle (serve closes them after a while)
            # before this request reached it: the request was never read, so send it anew.
            connection, _ = _connection(address, fresh=True)
            response = _exchange(connection, method, target_path(url), data, sent)
    except OSError as exc:
        _forget_connection()
        raise BridgeError(
            f"fsconformance: cannot reach the emulation at {endpoint} from process {os.getpid()} "
            f"({exc}); the request ({method} {url}) was not answered"
        ) from exc
    return response  # http.client itself reconnects after an answer with Connection: close


# One connection per thread, kept open between requests as any SDK keeps its own; a forked
# child never uses one its parent opened (the pid is part of the key).
_connections = threading.local()


def _connection(
    address: tuple[str, int], *, fresh: bool = False
) -> tuple[http.client.HTTPConnection, bool]:
    key = (os.getpid(), address)
    kept = getattr(_connections, "kept", None)
    if kept is not None and kept[0] == key and not fresh:
        return kept[1], True
    _forget_connection()
    connection = http.client.HTTPConnection(*address, timeout=_TIMEOUT_SECONDS)
    _connections.kept = (key, connection)
    return connection, False


def _forget_connection() -> None:
    kept = getattr(_connections, "kept", None)
    _connections.kept = None
    if kept is not None and kept[0][0] == os.getpid():
        kept[1].close()


def _exchange(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    data: bytes,
    headers: dict[str, str],
) -> tuple[int, dict[str, str], bytes]:
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


class _RawResponse(io.BytesIO):
    """The raw body botocore reads from (it asks for ``stream()`` on streaming outputs)."""

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        chunk = self.read(65536)
        while chunk:
            yield chunk
            chunk = self.read(65536)


# -- redirecting every botocore client of the process ----------------------------------------

_lock = threading.Lock()
_targets: list[str] = []  # a stack: nested use_endpoint() calls, the innermost wins
_original_send: Any = None


def _redirected_send(session: Any, request: Any) -> Any:
    from botocore.awsrequest import AWSResponse

    endpoint = _targets[-1] if _targets else None
    if endpoint is None:  # removed while a request was being prepared
        return _original_send(session, request)
    status, headers, payload = forward(
        endpoint, request.method, request.url, request.headers, request.body
    )
    return AWSResponse(request.url, status, headers, _RawResponse(payload))


def redirect(endpoint: str) -> None:
    """Send every botocore request of this process to ``endpoint`` until ``unredirect()``."""
    global _original_send
    from botocore.httpsession import URLLib3Session

    parts = urlsplit(endpoint)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(
            f"{USE_ENDPOINT_ENV}/use_endpoint: expected http://host:port, got {endpoint!r}"
        )
    with _lock:
        if not _targets:
            _original_send = URLLib3Session.send
            URLLib3Session.send = _redirected_send
        _targets.append(endpoint.rstrip("/"))


def unredirect(endpoint: str | None = None) -> None:
    """Undo the latest ``redirect`` (or the one to ``endpoint``)."""
    global _original_send
    from botocore.httpsession import URLLib3Session

    with _lock:
        if not _targets:
            return
        if endpoint is None:
            _targets.pop()
        elif endpoint.rstrip("/") in _targets:
            _targets.remove(endpoint.rstrip("/"))
        if not _targets and _original_send is not None:
            URLLib3Session.send = _original_send
            _original_send = None


def redirected_to() -> str | None:
    return _targets[-1] if _targets else None


@contextmanager
def use_endpoint(endpoint: str) -> Iterator[str]:
    """Every AWS client of this process, explicit endpoints included, talks to ``endpoint``."""
    redirect(endpoint)
    try:
        yield endpoint
    finally:
        unredirect()


# -- the activation a process inherits through its environment -------------------------------

_inherited: str | None = None


def activate_from_environment() -> str | None:
    """Redirect this process if ``USE_ENDPOINT_ENV`` names an endpoint (at most once)."""
    global _inherited
    endpoint = os.environ.get(USE_ENDPOINT_ENV, "").strip()
    if not endpoint or _inherited is not None:
        return _inherited
    redirect(endpoint)
    _inherited = endpoint
    return endpoint


def release_inherited() -> None:
    """A process that hosts an emulation of its own (a mock, a server) stops using the one it
    inherited: its clients belong to its own emulation."""
    global _inherited
    if _inherited is not None:
        endpoint, _inherited = _inherited, None
        unredirect(endpoint)
