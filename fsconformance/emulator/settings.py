"""The emulation's run-time settings: the emulated delays, read from the environment here.

The model takes its delays as an argument and never reads the environment (it stays pure);
this module is where ``FSCONFORMANCE_DELAY_<STEP>`` is read, and where the transports set
the delays that feature-group state created from then on uses.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Mapping

from ..model.lifecycle import Delays

_lock = threading.Lock()
_delays: Delays | None = None


def delays_from_env(environ: Mapping[str, str] | None = None) -> Delays:
    """The default delays, overridden by ``FSCONFORMANCE_DELAY_<STEP>`` variables."""
    environ = os.environ if environ is None else environ
    values = {}
    for step in (f.name for f in dataclasses.fields(Delays)):
        variable = f"FSCONFORMANCE_DELAY_{step.upper()}"
        raw = environ.get(variable)
        if raw is None:
            continue
        try:
            values[step] = float(raw)
        except ValueError:
            raise ValueError(f"{variable}={raw!r} is not a number of seconds") from None
    return Delays(**values)


def configure(delays: Delays) -> None:
    """Set the delays for feature-group state created from now on."""
    global _delays
    with _lock:
        _delays = delays


def current_delays() -> Delays:
    """The configured delays, or the environment's when nothing was configured."""
    with _lock:
        return _delays if _delays is not None else delays_from_env()
