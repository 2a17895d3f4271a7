"""``mock_featurestore``: moto's ``mock_aws`` plus the Feature Store emulation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from .emulator import clock, moto_seam, settings
from .emulator.transports import inprocess
from .model.lifecycle import Delays

F = TypeVar("F", bound=Callable[..., Any])


def flush_offline_store() -> int:
    """Write every accepted offline row to S3 now, in every emulated account and region.

    Offline rows otherwise reach S3 only after their replication delay (``Delays.offline``,
    C-060), and an Athena query sees exactly the rows already there. Call this where a test
    wants everything queryable at once without waiting; returns the number of rows written.
    """
    return clock.flush_all()


class mock_featurestore:  # noqa: N801 - named like moto's mock_aws, which it extends
    """Every boto3 client created inside talks to moto plus the Feature Store emulation.

    Use it as a context manager, a decorator, or with ``start()``/``stop()``::

        with mock_featurestore():
            boto3.client("sagemaker", region_name="us-east-1").create_feature_group(...)

    ``delays`` sets how long creation, updates and deletion stay in progress
    (default: from ``FSCONFORMANCE_DELAY_<STEP>``, see README). State starts empty and is dropped on stop, as moto's is.
    """

    def __init__(self, delays: Delays | None = None) -> None:
        self._delays = delays
        self._moto = moto_seam.mock_aws()

    def start(self) -> None:
        settings.configure(self._delays or settings.delays_from_env())
        self._moto.start()
        inprocess.activate()

    def stop(self) -> None:
        # Every accepted offline row is written before moto's state goes (C-060).
        clock.flush_all()
        inprocess.deactivate()
        self._moto.stop()

    def __enter__(self) -> mock_featurestore:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mock_featurestore(self._delays):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
