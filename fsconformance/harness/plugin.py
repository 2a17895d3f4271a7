"""The pytest plugin's entry point, loaded in every pytest run of a project that installs
fsconformance: it imports the standard library and pytest only, prints nothing, and costs
nothing until a test asks for it.

Always here: the ``--backend`` option (env ``FSCONFORMANCE_BACKEND``, default ``moto``), the
``clause`` and ``conformance`` markers, the rule that a conformance test names known contract
clauses, and the ``backend`` fixture, which loads the chosen backend (and boto3, moto, ...)
the first time a test uses it.

A test is a conformance test when it carries the ``conformance`` marker; every test in the
suites gets it from ``suites/conftest.py``. A test the project did not mark is never held to
a conformance rule.

The conformance run itself (its options, header lines, expectations files, report properties,
summary, snapshots and hypothesis profiles) is ``fsconformance.harness.conformance``, loaded by
``fsconformance run``, by the repository's conftest.py, or with
``-p fsconformance.harness.conformance``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ..backends import BACKEND_NAMES
from ..contract import CLAUSES
from .session import BACKEND, session_backend

if TYPE_CHECKING:
    from ..backends import Backend

_CLAUSE_ID = re.compile(r"C-\d{3}")
_FAILED = pytest.StashKey[bool]()


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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "clause(*ids): the contract clauses (C-nnn) a conformance test checks; required on "
        "every conformance test",
    )
    config.addinivalue_line(
        "markers",
        "conformance: a conformance test (every test in the fsconformance suites): it must "
        "name the contract clauses it checks",
    )


def is_conformance_test(item: pytest.Item) -> bool:
    return item.get_closest_marker("conformance") is not None


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """A conformance test names the contract clauses it checks, and only known ones; a clause
    marker on any other test names known clauses too."""
    problems = []
    for item in items:
        ids = [cid for mark in item.iter_markers("clause") for cid in mark.args]
        if not ids and is_conformance_test(item):
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
    backend = session_backend(pytestconfig)
    backend.start()
    try:
        yield backend
    finally:
        backend.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether a test failed, for ``--keep-on-failure``."""
    report: pytest.TestReport = yield
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
    from .snapshots import plugin as snapshots

    return snapshots.observe_fixture(request)


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Resources a teardown could not delete fail the whole run: a real account must be left
    as it was found."""
    backend = session.config.stash.get(BACKEND, None)
    if backend is not None and _is_controller(session.config) and backend.session_leftovers():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List what teardown left behind, and what --keep-on-failure kept."""
    backend = terminalreporter.config.stash.get(BACKEND, None)
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
