"""The in-process transport: the emulation answers inside moto's request stubber.

botocore emits ``before-send`` to every registered handler, so a handler of our own in front
of moto's would still let moto's run (and fail, or create state of its own). Instead the
emulation is consulted first from moto's stubber (``moto_seam.install_request_hook``), which
serves every botocore client; anything it does not own falls through to moto untouched. The
hook is installed while at least one mock is active and removed with the last one.

Other processes reach the same state over HTTP: while a mock is active the process also
serves the emulation on a loopback port (one server per process, kept for the process's
life, so that a forkserver started under one mock still knows the address under the next).
A child forked from the mocking process inherits the hook, sees that it is not the owner, and
forwards every request, moto's included, to that server; it never answers from its private
copy. A spawned child finds the server's URL in ``bridge.USE_ENDPOINT_ENV``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from typing import Any

from .. import moto_seam, routing, settings
from ..wire import WireRequest
from . import bridge

_active = 0
_active_lock = threading.Lock()
_owner_pid: int | None = None
_served_url: str | None = None
_saved_environment: str | None = None

# (pid, server): the server of the process that started it; a forked child needs its own.
_server: tuple[int, Any] | None = None


def _gated(app: Any) -> Any:
    """The served app, refusing every request while no mock is active in this process: a
    child that outlives the mock must not write into state nobody will read."""

    def serve(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not _active:
            body = json.dumps(
                {
                    "__type": "ServiceUnavailable",
                    "message": "fsconformance: the mock_featurestore this process served "
                    "has stopped; the request was not answered",
                }
            ).encode()
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", "application/x-amz-json-1.1"),
                    ("Content-Length", str(len(body))),
                ],
            )
            return [body]
        return app(environ, start_response)

    return serve


def _ensure_server() -> str:
    global _server
    from .wsgi import EmulatorServer

    if _server is None or _server[0] != os.getpid():
        server = EmulatorServer("127.0.0.1", 0, delays=settings.current_delays(), wrap=_gated)
        server.start()
        _server = (os.getpid(), server)
    return _server[1].url


def activate() -> None:
    global _active, _owner_pid, _served_url, _saved_environment
    with _active_lock:
        _active += 1
        if _active == 1:
            # This process hosts an emulation now; one it inherited is no longer its own.
            bridge.release_inherited()
            moto_seam.install_request_hook(answer)
            _owner_pid = os.getpid()
            _served_url = _ensure_server()
            _saved_environment = os.environ.get(bridge.USE_ENDPOINT_ENV)
            os.environ[bridge.USE_ENDPOINT_ENV] = _served_url


def deactivate() -> None:
    global _active, _owner_pid, _saved_environment
    with _active_lock:
        if _active == 0:
            return
        _active -= 1
        if _active == 0:
            moto_seam.remove_request_hook()
            _owner_pid = None
            if _saved_environment is None:
                os.environ.pop(bridge.USE_ENDPOINT_ENV, None)
            else:
                os.environ[bridge.USE_ENDPOINT_ENV] = _saved_environment
            _saved_environment = None


def is_active() -> bool:
    return _active > 0


def served_url() -> str | None:
    """Where other processes reach this process's emulation (``None`` before any mock)."""
    return _served_url


def answer(request: Any) -> tuple[int, dict[str, str], bytes] | None:
    """Answer a botocore prepared request, or return ``None`` for moto."""
    if not _active:
        return None
    if os.getpid() != _owner_pid:
        # A forked child: its state is a copy nobody else will see. The owner answers.
        if _served_url is None:
            raise bridge.BridgeError(
                "fsconformance: a forked child of a mock_featurestore process has no "
                "address for its emulation; the request was not answered"
            )
        return bridge.forward(
            _served_url, request.method, request.url, request.headers, request.body
        )

    def read_body() -> bytes:
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        return body or b""

    # botocore's HeadersDict makes a key object for every item read through its Mapping
    # interface; its own dict (keys that carry their lower-cased name) gives the same pairs
    # for a fraction of that, already in the form ``WireRequest.header`` looks names up in.
    raw = getattr(request.headers, "_dict", None)
    if isinstance(raw, dict):
        lowered = {
            getattr(key, "_lower", None) or str(key).lower(): (
                value.decode() if value.__class__ is bytes else value
            )
            for key, value in raw.items()
        }
        wire = WireRequest(request.method, request.url, lowered, read_body, _lowered=lowered)
    else:
        headers = {
            str(key): value.decode() if isinstance(value, bytes) else value
            for key, value in request.headers.items()
        }
        wire = WireRequest(request.method, request.url, headers, read_body)
    response = routing.route(wire)
    if response is None:
        return None
    return response.status, response.headers, response.body
