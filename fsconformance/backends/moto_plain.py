"""The ``moto-plain`` backend: moto exactly as released, in process, with no emulation at all.

This is the honest baseline of what a ``mock_aws`` user gets for Feature Store: moto's own
CreateFeatureGroup and DescribeFeatureGroup, no UpdateFeatureGroup, DeleteFeatureGroup or
ListFeatureGroups, no ``sagemaker-featurestore-runtime``, no offline store and no Athena SQL.
Its known gaps are ``expectations/moto-plain.toml``, applied as strict xfail like any other
backend's. Budgets are short: a status plain moto never reports fails a test in a second, not
in ten.
"""

from __future__ import annotations

from ..emulator.moto_seam import mock_aws
from .base import Budgets
from .capabilities import FEATURES
from .moto import MotoBackend


class MotoPlainBackend(MotoBackend):
    """A fresh ``mock_aws`` account per test; nothing of fsconformance's emulation is active."""

    name = "moto-plain"
    # Every feature is left declared, so each gap shows as an expected failure with a reason
    # instead of disappearing into "unsupported".
    capabilities = frozenset(FEATURES)
    # Derandomized and without shrinking: a failing example costs a budget, not minutes.
    hypothesis_profile = "quick"
    budgets = Budgets(
        create=1,
        update=1,
        delete=1,
        data_plane=1,
        poll_interval=0.02,
        max_poll_interval=0.2,
        offline=1,
    )

    def begin_test(self) -> None:
        self._created = []
        self._mock = mock = mock_aws()
        mock.start()
        self.provision()

    def cleanup(self) -> list[str]:
        """Nothing to delete: plain moto has no DeleteFeatureGroup, and stopping the mock at
        the end of the test discards the whole account with every group in it."""
        self._created = []
        return []
