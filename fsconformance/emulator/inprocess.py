"""The in-process transport: the emulation answers inside moto's request stubber.

botocore emits ``before-send`` to every registered handler, so a handler of our own in front
of moto's would still let moto's run (and fail, or create state of its own). Instead the
emulation is consulted first from moto's stubber (see ``moto_bridge.route_through``), which
serves both botocore clients and plain HTTP libraries; anything it does not own falls
through to moto unchanged.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from . import core, moto_bridge, offline_store
from .wire import WireRequest

_active = 0
_active_lock = threading.Lock()


def activate() -> None:
    global _active
    with _active_lock:
        _active += 1


def deactivate() -> None:
    global _active
    with _active_lock:
        _active = max(0, _active - 1)


def answer(request: Any) -> tuple[int, dict[str, str], bytes] | None:
    """Answer a botocore or ``requests`` prepared request, or return ``None``."""
    if not _active:
        return None
    auth = request.headers.get("Authorization") or ""
    if isinstance(auth, bytes):
        auth = auth.decode()
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request", auth)
    if scope is not None and scope.group(1) not in ("sagemaker", "athena"):
        # Not ours (e.g. S3): never read the body, so moto still gets all of it; the
        # emulated clock still moves, as on every request (C-060).
        offline_store.tick()
        return None
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    headers = {
        key: value.decode() if isinstance(value, bytes) else value
        for key, value in request.headers.items()
    }
    response = core.handle(WireRequest(request.method, request.url, headers, body or b""))
    if response is None:
        return None
    return response.status, response.headers, response.body


moto_bridge.route_through(answer)
