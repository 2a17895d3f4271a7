"""Repository-level pytest configuration.

The fsconformance plugin itself is loaded through its ``pytest11`` entry point once the
package is installed (``pip install -e .``); this file only adds what the self-tests need,
and the hypothesis profiles of the property and stateful suites:

- ``moto``: enough examples for the in-process emulation in every run (the default);
- ``moto-deep``: twice as many, for a deeper run of the emulation (nightly, or by hand:
  ``FSCONFORMANCE_HYPOTHESIS_PROFILE=moto-deep pytest``);
- ``aws``: a few examples, for a real account where every example costs minutes;
- ``quick``: a handful, for the suite-power self-test's runs against mutants.

The profile comes from hypothesis's own ``--hypothesis-profile`` option, else from
``FSCONFORMANCE_HYPOTHESIS_PROFILE``, else from the backend's ``hypothesis_profile``.
Every profile prints the reproduction blob of a failing example (``print_blob``) and has no
deadline (emulated asynchrony and real latency make per-example time meaningless).
"""

from __future__ import annotations

import gc
import os

import pytest
from hypothesis import HealthCheck, Phase, settings

pytest_plugins = ["pytester"]

_COMMON = {
    "deadline": None,
    "print_blob": True,
    "database": None,  # reproduce from the printed blob, not from a local example database
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
# The property and stateful tests wait out the emulated delays for real (each example creates
# groups and waits for offline rows), so examples cost seconds: the default run takes 15, the
# deep one the 30 the default took before the suite had a time budget.
settings.register_profile("moto", max_examples=15, stateful_step_count=20, **_COMMON)
settings.register_profile("moto-deep", max_examples=30, stateful_step_count=20, **_COMMON)
settings.register_profile("aws", max_examples=3, stateful_step_count=10, **_COMMON)
# No shrinking for the suite-power runs: a caught mutant needs one failing example, not the
# smallest one (shrinking would create feature groups for minutes).
settings.register_profile(
    "quick",
    max_examples=12,
    stateful_step_count=15,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    derandomize=True,  # the same examples every run, so a catch table is reproducible
    **_COMMON,
)

PROFILE_ENV = "FSCONFORMANCE_HYPOTHESIS_PROFILE"


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("hypothesis_profile", None):
        return  # hypothesis's own option has loaded it
    name = os.environ.get(PROFILE_ENV)
    if name is None:
        from fsconformance.harness.plugin import _BACKEND

        backend = config.stash.get(_BACKEND, None)
        name = getattr(backend, "hypothesis_profile", "moto")
    settings.load_profile(name)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Tune the garbage collector for this suite's heap, in each process that runs tests.

    Measured in the xdist workers of ``pytest -n 2``: full collections took 15% of each
    worker's time (17-19 s of about 120), walking a few hundred thousand objects that live
    the whole session (service models' parsed JSON, modules, strategies) some fifty times.
    What imports and collection made is frozen (never walked again), and collections run
    after 20,000 allocations instead of 700, so fewer objects survive into the old
    generation: GC time 5-9 s a worker, the suite about 10 s shorter. What the tests make is
    collected as before, only in larger steps.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
