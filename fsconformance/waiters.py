"""Polling with a deadline: the only way the project waits (C-002)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The awaited condition did not hold before the deadline."""


#: Called with (kind, seconds, succeeded) after every wait; the plugin records them per test
#: so the report can show how long each kind of wait took on each backend.
WAIT_OBSERVERS: list[Callable[[str, float, bool], None]] = []


def _observe(kind: str, started: float, succeeded: bool) -> None:
    for observer in list(WAIT_OBSERVERS):
        observer(kind, time.monotonic() - started, succeeded)


def eventually(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float,
    max_interval: float | None = None,
    what: str = "condition",
    kind: str = "other",
) -> T:
    """Call ``probe`` until it returns a truthy value and return that value.

    A probe that raises ``AssertionError`` or returns a falsy value is tried again, with the
    interval growing by half each time up to ``max_interval``. After ``timeout`` seconds the
    last failure is raised as ``WaitTimeout``. ``kind`` (create, update, delete, data_plane,
    offline, ...) labels the wait's duration for ``WAIT_OBSERVERS``.
    """
    started = time.monotonic()
    deadline = started + timeout
    ceiling = max_interval if max_interval is not None else interval * 8
    last: object = None
    while True:
        try:
            value = probe()
            if value:
                _observe(kind, started, True)
                return value
            last = f"probe returned {value!r}"
        except AssertionError as error:
            last = error
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _observe(kind, started, False)
            raise WaitTimeout(f"{what} not reached within {timeout:g} s; last: {last}")
        time.sleep(min(interval, remaining))
        interval = min(interval * 1.5, ceiling)
