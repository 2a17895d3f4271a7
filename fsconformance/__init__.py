"""fsconformance: an executable conformance specification for SageMaker Feature Store."""

from __future__ import annotations

from typing import Any

__all__ = ["Delays", "flush_offline_store", "mock_featurestore", "use_endpoint", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        # One source: the version pyproject.toml gives the installed distribution.
        from importlib.metadata import version

        return version("fsconformance")
    # Imported on first use: a process that only needs the endpoint redirect (a spawned child,
    # fsconformance-activate.pth) never loads moto.
    if name == "mock_featurestore":
        from .mock import mock_featurestore

        return mock_featurestore
    if name == "flush_offline_store":
        from .mock import flush_offline_store

        return flush_offline_store
    if name == "Delays":
        from .model.lifecycle import Delays

        return Delays
    if name == "use_endpoint":
        from .emulator.transports.bridge import use_endpoint

        return use_endpoint
    raise AttributeError(f"module 'fsconformance' has no attribute {name!r}")
