"""The hypothesis profiles of the property and stateful suites.

- ``moto``: enough examples for the in-process emulation in every run (the default);
- ``moto-deep``: twice as many, for a deeper run of the emulation (nightly, or by hand:
  ``FSCONFORMANCE_HYPOTHESIS_PROFILE=moto-deep``);
- ``aws``: a few examples, for a real account where every example costs minutes;
- ``quick``: a handful, for the suite-power runs against deliberately wrong emulations.

The profile comes from hypothesis's own ``--hypothesis-profile`` option, else from
``FSCONFORMANCE_HYPOTHESIS_PROFILE``, else from the backend's ``hypothesis_profile``.
Every profile prints the reproduction blob of a failing example (``print_blob``) and has no
deadline (emulated asynchrony and real latency make per-example time meaningless).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

PROFILE_ENV = "FSCONFORMANCE_HYPOTHESIS_PROFILE"

_COMMON: dict[str, Any] = {
    "deadline": None,
    "print_blob": True,
    "database": None,  # reproduce from the printed blob, not from a local example database
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


def register() -> None:
    # The property and stateful tests wait out the emulated delays for real (each example
    # creates groups and waits for offline rows), so examples cost seconds: the default run
    # takes 15, the deep one the 30 the default took before the suite had a time budget.
    settings.register_profile("moto", max_examples=15, stateful_step_count=20, **_COMMON)
    settings.register_profile("moto-deep", max_examples=30, stateful_step_count=20, **_COMMON)
    settings.register_profile("aws", max_examples=3, stateful_step_count=10, **_COMMON)
    # No shrinking for the suite-power runs: a caught mutant needs one failing example, not
    # the smallest one (shrinking would create feature groups for minutes).
    settings.register_profile(
        "quick",
        max_examples=12,
        stateful_step_count=15,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        derandomize=True,  # the same examples every run, so a catch table is reproducible
        **_COMMON,
    )


def load(config: pytest.Config, backend_profile: str) -> None:
    """Load the profile this run asks for (``register`` has run)."""
    if config.getoption("hypothesis_profile", None):
        return  # hypothesis's own option has loaded it
    settings.load_profile(os.environ.get(PROFILE_ENV) or backend_profile)
