"""How a test reaches a feature store: one interface, one implementation per backend.

Importing this package imports the standard library only (the pytest plugin's entry point
reads ``BACKEND_NAMES`` in every pytest run); ``Backend``, ``BackendUnavailable`` and
``Budgets`` load boto3 with ``base`` when first used, and ``make_backend`` loads one backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Backend, BackendUnavailable, Budgets

BACKEND_NAMES = ("moto", "moto-server", "aws", "endpoint", "moto-plain")


def make_backend(name: str, region: str, options: Mapping[str, Any] | None = None) -> Backend:
    """The backend called ``name``, checked and ready to start.

    ``options`` maps a backend name to its settings (``{"aws": AwsOptions(...)}``,
    ``{"endpoint": EndpointOptions(...)}``). Raises
    ``BackendUnavailable`` with a one-line reason, before anything is created.
    """
    from .base import BackendUnavailable

    if name == "moto":
        from .moto import MotoBackend

        return MotoBackend(region)
    if name == "moto-server":
        from .moto_server import MotoServerBackend

        return MotoServerBackend(region)
    if name == "moto-plain":
        from .moto_plain import MotoPlainBackend

        return MotoPlainBackend(region)
    if name == "endpoint":
        from .endpoint import EndpointBackend, EndpointOptions

        endpoint = EndpointBackend(region, (options or {}).get("endpoint") or EndpointOptions())
        endpoint.preflight()
        return endpoint
    if name == "aws":
        from .aws import AwsBackend, AwsOptions

        aws = AwsBackend(region, (options or {}).get("aws") or AwsOptions())
        aws.preflight()
        return aws
    raise BackendUnavailable(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")


def __getattr__(name: str) -> Any:
    if name in ("Backend", "BackendUnavailable", "Budgets"):
        from . import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BACKEND_NAMES", "Backend", "BackendUnavailable", "Budgets", "make_backend"]
