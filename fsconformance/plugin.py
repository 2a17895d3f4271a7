"""The pytest plugin: backend options, markers, the report header and the ``backend`` fixture.

Options have environment fallbacks: ``--backend`` / ``FSCONFORMANCE_BACKEND`` (default
``moto``) and ``--region`` / ``FSCONFORMANCE_REGION`` (default ``us-east-1``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore
import pytest

from .backends import BACKEND_NAMES, Backend, BackendUnavailable, make_backend
from .contract import CLAUSES

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
        help="where the suites run: moto (in-process emulation, default) or aws "
        "(env FSCONFORMANCE_BACKEND)",
    )
    group.addoption(
        "--region",
        default=None,
        help="AWS region for every client (env FSCONFORMANCE_REGION, default us-east-1)",
    )


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
    name, region = _resolve(config)
    try:
        config.stash[_BACKEND] = make_backend(name, region)
    except BackendUnavailable as error:
        raise pytest.UsageError(f"fsconformance: {error}") from None


_BACKEND = pytest.StashKey[Backend]()


def pytest_report_header(config: pytest.Config) -> list[str]:
    backend = config.stash[_BACKEND]
    import moto

    return backend.header_lines() + [
        f"fsconformance versions: boto3 {boto3.__version__}, botocore {botocore.__version__}, "
        f"moto {moto.__version__}"
    ]


def _in_suites(item: pytest.Item) -> bool:
    return "suites" in Path(str(item.path)).parent.parts


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Every test in suites/ names the contract clauses it checks, and only known ones."""
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


@pytest.fixture(scope="session")
def fsconformance_session(pytestconfig: pytest.Config) -> Iterator[Backend]:
    """The backend for this pytest process, started once and stopped at the end."""
    backend = pytestconfig.stash[_BACKEND]
    backend.start()
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture
def backend(fsconformance_session: Backend) -> Iterator[Backend]:
    """The backend, with everything the test creates deleted after it."""
    fsconformance_session.begin_test()
    try:
        yield fsconformance_session
    finally:
        leftovers = fsconformance_session.end_test()
    assert not leftovers, "cleanup left resources behind:\n" + "\n".join(leftovers)
