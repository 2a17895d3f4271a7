"""Polling with a deadline: the only way the project waits (design principle 5)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The awaited condition did not hold before the deadline."""


def eventually(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float,
    max_interval: float | None = None,
    what: str = "condition",
) -> T:
    """Call ``probe`` until it returns a truthy value and return that value.

    A probe that raises ``AssertionError`` or returns a falsy value is tried again, with the
    interval growing by half each time up to ``max_interval``. After ``timeout`` seconds the
    last failure is raised as ``WaitTimeout``.
    """
    deadline = time.monotonic() + timeout
    ceiling = max_interval if max_interval is not None else interval * 8
    last: object = None
    while True:
        try:
            value = probe()
            if value:
                return value
            last = f"probe returned {value!r}"
        except AssertionError as error:
            last = error
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout(f"{what} not reached within {timeout:g} s; last: {last}")
        time.sleep(min(interval, remaining))
        interval = min(interval * 1.5, ceiling)
