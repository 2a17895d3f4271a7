"""The self-tests' hooks and fixtures: the ``slow`` tier, the ``wire`` fixture, a fresh account.

What the tests share besides fixtures (requests, clients, ``Wire``) is in ``tests/helpers.py``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from fsconformance.backends.moto_server import reset_server
from fsconformance.emulator import settings
from fsconformance.emulator.transports.wsgi import EmulatorServer
from fsconformance.mock import mock_featurestore
from tests.helpers import FAST, Wire

# Many self-tests start pytest (or serve) in a child process. pytest rewrites the assertions of
# every package with a pytest plugin (hypothesis's, this project's) and caches the result as
# bytecode; with PYTHONDONTWRITEBYTECODE set it rewrites them afresh in every child, about half
# a second each. The children may cache: it changes what they write to __pycache__, nothing
# they do.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


HERE = Path(__file__).resolve().parent
SYSTEM = HERE / "system"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "slow: a self-test that starts processes (serve, pytest, a browser, node, worker "
        "pools) or runs for long; every test in tests/system/ is one. Left out of the default "
        "run; `pytest tests -m slow -n 2` runs them (CI's slow stage)",
    )


@pytest.hookimpl(tryfirst=True)  # before -m reads the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/system/ is slow. Slow self-tests run only when a marker
    expression asks for them (``pytest -m slow``); the default run leaves them out."""
    for item in items:
        if SYSTEM in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.slow)
    if config.getoption("markexpr"):
        return
    # Only the self-tests here: in the suites, ``slow`` means slow on a real account.
    slow = [
        item
        for item in items
        if item.get_closest_marker("slow") and HERE in Path(str(item.path)).resolve().parents
    ]
    if slow:
        config.hook.pytest_deselected(items=slow)
        chosen = set(map(id, slow))
        items[:] = [item for item in items if id(item) not in chosen]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under CI a slow self-test that cannot run fails instead of skipping: CI provides what
    each one needs (.ci/run), and a skip there would hide that it did not."""
    report = yield
    if (
        os.environ.get("CI")
        and report.skipped
        and not hasattr(report, "wasxfail")
        and item.get_closest_marker("slow")
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"a slow self-test cannot skip under CI: {reason}"
    return report


@pytest.fixture(params=["inprocess", "serve"])
def wire(request: pytest.FixtureRequest) -> Iterator[Wire]:
    """The emulation with zero delays, reached in-process or over HTTP."""
    if request.param == "inprocess":
        with mock_featurestore(FAST):
            yield Wire("inprocess")
        return
    server = EmulatorServer("127.0.0.1", 0, FAST)
    url = server.start()
    reset_server(url)
    try:
        yield Wire("serve", url)
    finally:
        server.shutdown()
        settings.configure(settings.delays_from_env())


@pytest.fixture
def fresh_account(monkeypatch: pytest.MonkeyPatch) -> str:
    """A random account id for this test: its emulated state is new even inside an outer mock
    (the suites' session backend), so the delays a test configures apply to it alone."""
    account_id = f"{random.randrange(10**11, 10**12)}"
    monkeypatch.setenv("MOTO_ACCOUNT_ID", account_id)
    return account_id


# The moto services an in-process server of the emulation answers.
MOTO_SERVICES = ("athena", "glue", "iam", "kms", "s3", "sagemaker", "sts")


def _import_motos_models() -> None:
    """pytester unloads, when its test ends, every module imported during it. A moto models
    module first imported by an in-process server there would come back on its next import as
    a second set of classes, beside the ones moto's instance tracker registered; the tracker
    then misses their instances (moto_seam.release_forgotten_models walks the registered
    ones). Imported before pytester starts, they are kept."""
    from moto.backends import get_backend

    for service in MOTO_SERVICES:
        get_backend(service)  # type: ignore[call-overload]


@pytest.fixture(autouse=True)
def _inner_runs_are_conformance_runs(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pytest run a self-test starts (``pytester``) opts into the conformance plugin, as
    this checkout's own runs do through conftest.py; tests/harness/test_plugin.py clears it to test
    the entry point alone."""
    if "pytester" in request.fixturenames:
        _import_motos_models()
        request.getfixturevalue("pytester")  # which clears PYTEST_ADDOPTS when it starts
        monkeypatch.setenv("PYTEST_ADDOPTS", "-p fsconformance.harness.conformance")
