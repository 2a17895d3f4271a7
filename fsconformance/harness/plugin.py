"""The pytest plugin: backend options, markers, the report header and the ``backend`` fixture.

Options have environment fallbacks: ``--backend`` / ``FSCONFORMANCE_BACKEND`` (default
``moto``) and ``--region`` / ``FSCONFORMANCE_REGION`` (default ``us-east-1``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore
import pytest

from ..backends import BACKEND_NAMES, Backend, BackendUnavailable, make_backend
from ..backends.options import add_backend_options, backend_options
from ..emulator import moto_seam
from .contract import CLAUSES
from .snapshots import plugin as snapshots
from .summary import SummaryPlugin, add_summary_options

FEATURE_MARKERS = {
    "control_plane": "feature-group lifecycle, listing, metadata and tags",
    "online_store": "PutRecord, GetRecord, BatchGetRecord, DeleteRecord",
    "offline_store": "Parquet in S3, the Glue table and Athena",
    "schema_evolution": "adding features with UpdateFeatureGroup",
    "slow": "takes minutes on a real account",
}
_CLAUSE_ID = re.compile(r"C-\d{3}")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fsconformance", "SageMaker Feature Store conformance")
    group.addoption(
        "--backend",
        choices=BACKEND_NAMES,
        default=None,
        help="where the suites run: moto (in-process emulation, default), moto-server (the "
        "emulation over HTTP on 127.0.0.1), aws (a real account), endpoint (any AWS-speaking "
        "service at --endpoint-url) or moto-plain (moto alone, no emulation) "
        "(env FSCONFORMANCE_BACKEND)",
    )
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


def _resolve(config: pytest.Config) -> tuple[str, str]:
    name = config.getoption("backend") or os.environ.get("FSCONFORMANCE_BACKEND") or "moto"
    if name not in BACKEND_NAMES:
        raise pytest.UsageError(
            f"fsconformance: FSCONFORMANCE_BACKEND={name!r} is not a backend; choose one of "
            f"{', '.join(BACKEND_NAMES)}"
        )
    region = config.getoption("region") or os.environ.get("FSCONFORMANCE_REGION") or "us-east-1"
    return name, region


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "clause(*ids): the contract clauses (C-nnn) a conformance test checks; required in suites/",
    )
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
    name, region = _resolve(config)
    try:
        config.stash[_BACKEND] = make_backend(name, region, backend_options(config))
    except BackendUnavailable as error:
        raise pytest.UsageError(f"fsconformance: {error}") from None
    _register_outcome_plugins(config, config.stash[_BACKEND])


def _register_outcome_plugins(config: pytest.Config, backend: Backend) -> None:
    """Unsupported outcomes, expectations files and the report's per-test properties."""
    from . import capabilities, expectations, report

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


_BACKEND = pytest.StashKey[Backend]()


def pytest_report_header(config: pytest.Config) -> list[str]:
    backend = config.stash[_BACKEND]
    return backend.header_lines() + [
        f"fsconformance versions: boto3 {boto3.__version__}, botocore {botocore.__version__}, "
        f"moto {moto_seam.moto_version()}"
    ]


def _in_suites(item: pytest.Item) -> bool:
    return "suites" in Path(str(item.path)).parent.parts


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Every test in suites/ names the contract clauses it checks, and only known ones;
    ``--client`` keeps only the named clients' tests."""
    _select_clients(config, items)
    problems = []
    for item in items:
        if not _in_suites(item):
            continue
        ids = [cid for mark in item.iter_markers("clause") for cid in mark.args]
        if not ids:
            problems.append(f"{item.nodeid}: no @pytest.mark.clause(...) naming a contract clause")
        for cid in ids:
            if not (isinstance(cid, str) and _CLAUSE_ID.fullmatch(cid) and cid in CLAUSES):
                problems.append(f"{item.nodeid}: {cid!r} is not a clause of the contract")
    if problems:
        raise pytest.UsageError(
            "fsconformance: conformance tests must name known clauses:\n  " + "\n  ".join(problems)
        )


def _select_clients(config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = config.getoption("client") or os.environ.get("FSCONFORMANCE_CLIENT")
    if not chosen:
        return
    wanted = {name.strip() for name in chosen.split(",") if name.strip()}
    kept, dropped = [], []
    for item in items:
        names = {arg for mark in item.iter_markers("client") for arg in mark.args}
        (dropped if names and not names & wanted else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def fsconformance_session(pytestconfig: pytest.Config) -> Iterator[Backend]:
    """The backend for this pytest process, started once and stopped at the end."""
    backend = pytestconfig.stash[_BACKEND]
    backend.start()
    try:
        yield backend
    finally:
        backend.stop()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Remember whether a test failed, for ``--keep-on-failure``."""
    report = yield
    if report.when in ("setup", "call") and report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture
def backend(fsconformance_session: Backend, request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The backend, with everything the test creates deleted after it."""
    fsconformance_session.begin_test()
    try:
        yield fsconformance_session
    finally:
        leftovers = fsconformance_session.end_test(request.node.stash.get(_FAILED, False))
    assert not leftovers, "cleanup left resources behind:\n" + "\n".join(leftovers)


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Callable[[str, Any], None]:
    """``observe(what, value)`` records an observation the test's ``observes`` marker names."""
    return snapshots.observe_fixture(request)


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Resources a teardown could not delete fail the whole run: a real account must be
    left as it was found."""
    backend = session.config.stash.get(_BACKEND, None)
    if backend is not None and _is_controller(session.config) and backend.session_leftovers():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List what teardown left behind, and what --keep-on-failure kept."""
    backend = terminalreporter.config.stash.get(_BACKEND, None)
    if backend is None or not _is_controller(terminalreporter.config):
        return
    for title, lines in (
        (
            "resources left behind (delete them, or run fsconformance sweep)",
            backend.session_leftovers(),
        ),
        ("resources kept for inspection (--keep-on-failure)", backend.session_kept()),
    ):
        if lines:
            terminalreporter.section(f"fsconformance: {title}")
            for line in lines:
                terminalreporter.line(line)
