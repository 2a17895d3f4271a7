"""The conformance run: everything the suites need from pytest beyond the entry point.

Loaded by ``fsconformance run``, by the repository's conftest.py (so ``pytest --backend=moto``
in a checkout runs as it always has), or by ``-p fsconformance.harness.conformance``. It adds
the run's options (``--region``, ``--client``, the backends' options, ``--conformance-report``,
``--clauses``, the snapshot options), the other markers, the header lines naming the backend
and the client versions, and the plugins that judge the run: unsupported outcomes,
expectations files, the report's per-test properties, the summary and snapshots. The backend
is made at configure time, so a backend that cannot run stops the run with one line before
anything is collected.

Options have environment fallbacks: ``--region`` / ``FSCONFORMANCE_REGION`` (default
``us-east-1``), ``--client`` / ``FSCONFORMANCE_CLIENT``.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Generator
from pathlib import Path

import boto3
import botocore
import pytest

from ..backends import Backend
from ..backends.options import add_backend_options
from ..emulator import moto_seam
from . import profiles
from .session import BACKEND, make_session_backend
from .snapshots import plugin as snapshots
from .summary import SummaryPlugin, add_summary_options

FEATURE_MARKERS = {
    "control_plane": "feature-group lifecycle, listing, metadata and tags",
    "online_store": "PutRecord, GetRecord, BatchGetRecord, DeleteRecord",
    "offline_store": "Parquet in S3, the Glue table and Athena",
    "schema_evolution": "adding features with UpdateFeatureGroup",
    "slow": "takes minutes on a real account",
}
# Before any plugin's configure: hypothesis's own --hypothesis-profile loads one of these there.
profiles.register()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fsconformance", "SageMaker Feature Store conformance")
    group.addoption(
        "--region",
        default=None,
        help="AWS region for every client (env FSCONFORMANCE_REGION, default us-east-1)",
    )
    group.addoption(
        "--client",
        default=None,
        help="run the client dimension (suites/test_clients.py) only for these clients, "
        "comma-separated: boto3, sdk2, sdk3, pyathena, awswrangler (env FSCONFORMANCE_CLIENT; "
        "default all)",
    )
    add_backend_options(group)  # --aws-account-id, --endpoint-url, --keep-on-failure, ...
    add_summary_options(group)  # --conformance-report, --clauses
    snapshots.add_options(group)  # --record-snapshots, --compare-snapshots


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "uncertain(question): the expectation is the documented one but the contract marks it "
        "UNCERTAIN; the nightly AWS run pins it",
    )
    for marker, description in FEATURE_MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {description}")
    snapshots.add_markers(config)
    config.addinivalue_line(
        "markers",
        "client(name): the test drives a real client (boto3, sdk2, sdk3, pyathena, awswrangler); "
        "--client selects which",
    )
    backend = config.stash[BACKEND] = make_session_backend(config)
    _register_outcome_plugins(config, backend)
    profiles.load(config, backend.hypothesis_profile)


def _register_outcome_plugins(config: pytest.Config, backend: Backend) -> None:
    """Unsupported outcomes, expectations files and the report's per-test properties."""
    from ..backends import capabilities
    from ..reporting import report
    from . import expectations

    config.addinivalue_line(
        "markers",
        "requires(operations=[...], members=[...], features=[...], packages=[...]): what the "
        "test needs from the installed botocore, the backend and the installed clients; unmet "
        "needs report the test unsupported",
    )
    manager = config.pluginmanager
    manager.register(capabilities.RequiresPlugin(backend.capabilities), "fsconformance-requires")
    path = os.environ.get("FSCONFORMANCE_EXPECTATIONS") or expectations.default_path(
        config.rootpath, backend.name
    )
    manager.register(expectations.ExpectationsPlugin(Path(path)), "fsconformance-expectations")
    manager.register(report.RecordPlugin(backend.name), "fsconformance-record")
    manager.register(SummaryPlugin(config), "fsconformance-summary")
    record, compare = config.getoption("record_snapshots"), config.getoption("compare_snapshots")
    if record and backend.name != "aws":
        raise pytest.UsageError(
            "fsconformance: --record-snapshots records real responses: use it with --backend=aws"
        )
    if record or compare:
        plugin = snapshots.SnapshotPlugin(
            backend, Path(record) if record else None, Path(compare) if compare else None
        )
        manager.register(plugin, "fsconformance-snapshots")


def pytest_report_header(config: pytest.Config) -> list[str]:
    backend = config.stash[BACKEND]
    lines = backend.header_lines() + [
        f"fsconformance versions: boto3 {boto3.__version__}, botocore {botocore.__version__}, "
        f"moto {moto_seam.moto_version()}"
    ]
    moved = _drift(config)
    return lines + ([f"fsconformance drift: {moved}"] if moved else [])


_DRIFT = pytest.StashKey["str | None"]()


def _drift(config: pytest.Config) -> str | None:
    """The drift report's first line when the installed botocore models differ from the
    tested set (worked out once per process), else ``None``."""
    if _DRIFT not in config.stash:
        from .. import drift

        config.stash[_DRIFT] = drift.headline()
    return config.stash[_DRIFT]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """When the installed botocore models differ from the tested set, a failure's first line
    says so: the likeliest cause when a new release breaks something."""
    report: pytest.TestReport = yield
    if report.when in ("setup", "call") and report.failed:
        moved = _drift(item.config)
        crash = getattr(report.longrepr, "reprcrash", None)
        if moved and crash is not None:
            # The failure's message (the summary line, the JUnit message, the report) leads
            # with the drift; the traceback below it is the test's own.
            crash.message = f"fsconformance drift: {moved} | {crash.message}"
        elif moved:
            report.longrepr = f"fsconformance drift: {moved}\n\n{report.longreprtext}"
    return report


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """``--client`` keeps only the named clients' tests."""
    chosen = config.getoption("client") or os.environ.get("FSCONFORMANCE_CLIENT")
    if not chosen:
        return
    wanted = {name.strip() for name in chosen.split(",") if name.strip()}
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        names = {arg for mark in item.iter_markers("client") for arg in mark.args}
        (dropped if names and not names & wanted else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_collection_finish(session: pytest.Session) -> None:
    """Tune the garbage collector for the suites' heap, in each process that runs tests.

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
