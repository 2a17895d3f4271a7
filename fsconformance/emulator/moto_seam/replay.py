"""moto's clock and random draws, routed so that a journaled write replays as it first ran
(``emulator/determinism.py``, docs/durability.md)."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable
from typing import Any

# -- replayable writes (determinism.py) -----------------------------------------------------

_clock_routed: set[str] = set()
_modules_seen = 0
# The services a data directory journals (docs/durability.md), imported before the clock is
# routed so their first write already reads it; any other service's modules are routed the
# first time ``route_clock`` runs after moto imported them.
_JOURNALED_SERVICE_MODULES = (
    "moto.core.utils",
    "moto.core.responses",
    "moto.s3.models",
    "moto.iam.models",
    "moto.sts.models",
    "moto.glue.models",
    "moto.athena.models",
    "moto.sagemaker.models",
    "moto.moto_api._internal.managed_state_model",
)


def route_randomness(
    current: Callable[[], Any], unseeded: Callable[[], contextlib.AbstractContextManager[None]]
) -> None:
    """Let moto's shared random generator draw from ``current()`` when that gives one.

    moto draws every identifier from one ``random.Random`` (``mock_random``); its every
    method rests on ``random``, ``getrandbits`` and ``randbytes``, which are routed here
    through the instance, so a thread with a generator of its own draws from that one and
    every other thread from moto's as before.

    moto makes a service's backend for an account and region on the first request that
    needs it, and some draw then (IAM gives each of AWS's managed policies an id). Whether
    that first request was a read or a write must not change what a write draws, so a
    backend is made ``unseeded``, outside the thread's generator.
    """
    from moto.core.base_backend import AccountSpecificBackend, BackendDict
    from moto.moto_api._internal import mock_random

    make_region = AccountSpecificBackend.__getitem__
    make_account = BackendDict.__getitem__

    def region_backend(self: AccountSpecificBackend, region_name: str) -> Any:
        found = dict.get(self, "aws" if region_name == "global" else region_name)
        if found is not None:
            return found
        with unseeded():
            return make_region(self, region_name)

    def account_backends(self: BackendDict, account_id: str) -> Any:
        found = dict.get(self, account_id)
        if found is not None:
            return found
        with unseeded():  # an account's backends get a uuid4 of their own
            return make_account(self, account_id)

    AccountSpecificBackend.__getitem__ = region_backend  # type: ignore[method-assign]
    BackendDict.__getitem__ = account_backends  # type: ignore[method-assign]

    base = type(mock_random)

    def random_() -> float:
        rng = current()
        return rng.random() if rng is not None else base.random(mock_random)

    def getrandbits(k: int) -> int:
        rng = current()
        return rng.getrandbits(k) if rng is not None else base.getrandbits(mock_random, k)

    def randbytes(n: int) -> bytes:
        rng = current()
        return rng.randbytes(n) if rng is not None else base.randbytes(mock_random, n)

    # On the instance, where every method of random.Random looks them up.
    vars(mock_random).update(random=random_, getrandbits=getrandbits, randbytes=randbytes)


class _ClockedDatetime:
    """``datetime.datetime`` as moto's modules see it: ``now``, ``utcnow`` and ``today``
    read ``clock`` (None: the real clock); everything else, construction and
    ``isinstance`` included, is the real class's."""

    def __init__(self, real: Any, clock: Callable[[], float | None]) -> None:
        self._real = real
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._real(*args, **kwargs)

    def __instancecheck__(self, instance: Any) -> bool:
        return isinstance(instance, self._real)

    def __subclasscheck__(self, subclass: type) -> bool:
        return issubclass(subclass, self._real)

    def now(self, tz: Any = None) -> Any:
        at = self._clock()
        return self._real.now(tz) if at is None else self._real.fromtimestamp(at, tz)

    def utcnow(self) -> Any:
        import datetime

        at = self._clock()
        moment = self._real.now(datetime.timezone.utc) if at is None else None
        if moment is None:
            moment = self._real.fromtimestamp(at, datetime.timezone.utc)
        return moment.replace(tzinfo=None)

    def today(self) -> Any:
        return self.now()


def route_clock(clock: Callable[[], float | None]) -> None:
    """Make the times moto's modules take read ``clock`` when it holds a moment.

    moto takes the time with ``datetime.datetime.now``/``utcnow`` (through
    ``moto.core.utils.utcnow`` mostly), which no patch of ``time.time`` reaches; each moto
    module's ``datetime`` name (the module or the class) is pointed at a stand-in whose
    ``now`` reads ``clock``. Cheap to call again: only modules imported since are visited.
    """
    import datetime
    import types

    global _modules_seen
    if not _clock_routed:
        for name in _JOURNALED_SERVICE_MODULES:
            importlib.import_module(name)
    if len(sys.modules) == _modules_seen:
        return
    clocked = _ClockedDatetime(datetime.datetime, clock)
    shim = types.ModuleType("datetime")
    shim.__dict__.update(datetime.__dict__)
    shim.datetime = clocked  # type: ignore[attr-defined]
    for name, module in list(sys.modules.items()):
        if name in _clock_routed or not (name == "moto" or name.startswith("moto.")):
            continue
        if module is None:
            continue
        found = getattr(module, "datetime", None)
        if found is datetime:
            module.datetime = shim  # type: ignore[attr-defined]
        elif found is datetime.datetime:
            module.datetime = clocked  # type: ignore[attr-defined]
        _clock_routed.add(name)
    _modules_seen = len(sys.modules)


def next_seed() -> int:
    """The seed of the next journaled write's random draws, from moto's own generator: a
    server seeded through moto's ``/moto-api/seed`` makes the same identifiers run after run."""
    from moto.moto_api._internal import mock_random

    return type(mock_random).getrandbits(mock_random, 63)
