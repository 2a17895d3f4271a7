"""The pytest process's backend: which one the run asks for, made once, kept in the stash.

Imports the standard library and pytest only; the backend's own modules load in
``make_session_backend``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from ..backends import BACKEND_NAMES

if TYPE_CHECKING:
    from ..backends import Backend

BACKEND = pytest.StashKey["Backend"]()


def backend_name(config: pytest.Config) -> str:
    """``--backend``, else ``FSCONFORMANCE_BACKEND``, else ``moto``; an unknown name from the
    environment stops the run with one line."""
    name = config.getoption("backend") or os.environ.get("FSCONFORMANCE_BACKEND") or "moto"
    if name not in BACKEND_NAMES:
        raise pytest.UsageError(
            f"fsconformance: FSCONFORMANCE_BACKEND={name!r} is not a backend; choose one of "
            f"{', '.join(BACKEND_NAMES)}"
        )
    return name


def make_session_backend(config: pytest.Config) -> Backend:
    """The backend the run names, checked and ready to start; one line when it cannot run.

    Options not registered (a run that only uses the ``backend`` fixture has ``--backend``
    alone) come from their environment variables.
    """
    from ..backends import make_backend
    from ..backends.base import BackendUnavailable
    from ..backends.options import backend_options

    name = backend_name(config)
    region = (
        config.getoption("region", None) or os.environ.get("FSCONFORMANCE_REGION") or "us-east-1"
    )
    try:
        return make_backend(name, region, backend_options(config))
    except BackendUnavailable as error:
        raise pytest.UsageError(f"fsconformance: {error}") from None


def session_backend(config: pytest.Config) -> Backend:
    """This process's backend: made at configure time in a conformance run, else on the
    first use of the ``backend`` fixture."""
    backend = config.stash.get(BACKEND, None)
    if backend is None:
        backend = config.stash[BACKEND] = make_session_backend(config)
    return backend
