"""One write, applied twice, gives the same answer: its clock and its random draws, per thread.

``serve --data-dir`` applies each write at a recorded moment, drawing every random value from
a recorded seed, and replays its journal the same way after a restart. Every identifier moto
or the emulation makes up (an UploadId, a VersionId, an Athena query id, a role id, STS
credentials) and every time it stamps therefore comes out as the client first saw it
(docs/durability.md).

Those values come from three sources: the wall clock (``time.time``, and the datetimes moto
takes), ``os.urandom`` (``uuid.uuid4``, S3's upload ids, STS session tokens) and moto's shared
``random.Random``. ``install`` routes each of them through an override held per thread, so a
write applied in one thread draws only from its own seed while reads answered by other
threads draw from the real sources and disturb nothing. A thread without an override sees
the real clock and the real random sources. Once installed, the routing stays for the life
of the process.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections.abc import Iterator

from . import moto_seam

_real_time = time.time
_real_urandom = os.urandom
_local = threading.local()
# While a journal replays, every thread's clock (Athena's workers run queries in threads of
# their own); None otherwise.
_process_clock: float | None = None
_install_lock = threading.Lock()
_installed = False


def clock_override() -> float | None:
    """The moment this thread's clock is held at, or None when it runs freely."""
    at = getattr(_local, "at", None)
    return at if at is not None else _process_clock


def _generator() -> random.Random | None:
    return getattr(_local, "rng", None)


def _time() -> float:
    at = getattr(_local, "at", None)
    if at is not None:
        return at
    at = _process_clock
    return at if at is not None else _real_time()


def _urandom(size: int) -> bytes:
    rng = getattr(_local, "rng", None)
    return rng.randbytes(size) if rng is not None else _real_urandom(size)


def install() -> None:
    """Route the clock and the random sources through the per-thread overrides (idempotent)."""
    global _installed
    with _install_lock:
        if not _installed:
            time.time = _time
            os.urandom = _urandom
            moto_seam.route_randomness(_generator, unseeded)
            moto_seam.route_clock(clock_override)
            _installed = True
    # Service modules moto imported since (it imports a service on its first request).
    moto_seam.route_clock(clock_override)


def real_time() -> float:
    """The wall clock, whatever this thread's override says."""
    return _real_time()


@contextlib.contextmanager
def applying(at: float, seed: int | None) -> Iterator[None]:
    """This thread's clock held at ``at`` and, given a seed, its random draws from it."""
    previous_at = getattr(_local, "at", None)
    previous_rng = getattr(_local, "rng", None)
    _local.at = at
    if seed is not None:
        _local.rng = random.Random(seed)
    try:
        yield
    finally:
        _local.at = previous_at
        _local.rng = previous_rng


@contextlib.contextmanager
def unseeded() -> Iterator[None]:
    """This thread's random draws from the real sources for a while (its clock unchanged)."""
    previous = getattr(_local, "rng", None)
    _local.rng = None
    try:
        yield
    finally:
        _local.rng = previous


@contextlib.contextmanager
def process_clock(at: float) -> Iterator[None]:
    """Every thread's clock held at ``at`` (a replay, which nothing else runs beside)."""
    global _process_clock
    previous = _process_clock
    _process_clock = at
    try:
        yield
    finally:
        _process_clock = previous


def set_process_clock(at: float | None) -> None:
    """Move the clock a replay holds every thread at (None: the wall clock again)."""
    global _process_clock
    _process_clock = at
