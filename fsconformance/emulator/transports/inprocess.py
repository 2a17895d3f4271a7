"""The in-process transport: the emulation answers inside moto's request stubber.

botocore emits ``before-send`` to every registered handler, so a handler of our own in front
of moto's would still let moto's run (and fail, or create state of its own). Instead the
emulation is consulted first from moto's stubber (``moto_seam.install_request_hook``), which
serves every botocore client; anything it does not own falls through to moto untouched. The
hook is installed while at least one mock is active and removed with the last one.
"""

from __future__ import annotations

import threading
from typing import Any

from .. import moto_seam, routing
from ..wire import WireRequest

_active = 0
_active_lock = threading.Lock()


def activate() -> None:
    global _active
    with _active_lock:
        _active += 1
        if _active == 1:
            moto_seam.install_request_hook(answer)


def deactivate() -> None:
    global _active
    with _active_lock:
        if _active == 0:
            return
        _active -= 1
        if _active == 0:
            moto_seam.remove_request_hook()


def is_active() -> bool:
    return _active > 0


def answer(request: Any) -> tuple[int, dict[str, str], bytes] | None:
    """Answer a botocore prepared request, or return ``None`` for moto."""
    if not _active:
        return None

    def read_body() -> bytes:
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        return body or b""

    headers = {
        key: value.decode() if isinstance(value, bytes) else value
        for key, value in request.headers.items()
    }
    response = routing.route(WireRequest(request.method, request.url, headers, read_body))
    if response is None:
        return None
    return response.status, response.headers, response.body
