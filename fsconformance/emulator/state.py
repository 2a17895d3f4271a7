"""The emulation's state: one ``FeatureStoreState`` per account and region.

It holds the model (control plane and data plane) and a store per emulated service for that
service's own bookkeeping, so this module knows no service. The registry is moto's, so the
state is wiped whenever moto resets its own.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..model.control_plane import ControlPlane
from ..model.records import DataPlane
from . import moto_seam, settings

T = TypeVar("T")


class FeatureStoreState(moto_seam.BaseBackend):
    """Feature Store's state for one account and region; guard every use with ``lock``."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.lock = threading.RLock()
        self.control_plane = ControlPlane(account_id, region_name, settings.current_delays())
        self.data_plane = DataPlane(self.control_plane)
        self._stores: dict[str, Any] = {}

    def store(self, name: str, factory: Callable[[], T]) -> T:
        """The per-service store of one emulated service (Athena's query executions, the
        offline store's bookkeeping), made by ``factory`` on first use."""
        found = self._stores.get(name)
        if found is None:
            found = self._stores[name] = factory()
        return found


_states = moto_seam.registry(FeatureStoreState)


# The state of one account and region: moto's registry answers directly, so a request's
# lookup runs no code of this module.
state_for: Callable[[str, str], FeatureStoreState] = functools.partial(
    moto_seam.registry_get, _states
)


def all_states() -> list[FeatureStoreState]:
    """Every Feature Store state that exists now, across accounts and regions (none created)."""
    return moto_seam.registry_values(_states, FeatureStoreState)
