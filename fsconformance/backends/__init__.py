"""How a test reaches a feature store: one interface, one implementation per backend."""

from __future__ import annotations

from .base import Backend, BackendUnavailable, Budgets

BACKEND_NAMES = ("moto", "aws")


def make_backend(name: str, region: str) -> Backend:
    """The backend called ``name``; raises ``BackendUnavailable`` with a one-line reason."""
    if name == "moto":
        from .moto import MotoBackend

        return MotoBackend(region)
    if name == "aws":
        raise BackendUnavailable(
            "--backend=aws is not implemented yet; run the suite with --backend=moto"
        )
    raise BackendUnavailable(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")


__all__ = ["BACKEND_NAMES", "Backend", "BackendUnavailable", "Budgets", "make_backend"]
