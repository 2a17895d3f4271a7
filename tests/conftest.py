"""The self-tests' hooks and fixtures: the ``slow`` tier, the ``wire`` fixture, a fresh account.

What the tests share besides fixtures (requests, clients, ``Wire``) is in ``tests/helpers.py``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a self-test of a minute or more, run on its own (pytest -m slow)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow self-tests (the crash-consistency run) run only when a marker expression asks for
    them (``pytest -m slow``); the default run leaves them out."""
    if config.getoption("markexpr"):
        return
    # Only the self-tests here: in the suites, ``slow`` means slow on a real account.
    here = Path(__file__).resolve().parent
    slow = [
        item
        for item in items
        if item.get_closest_marker("slow") and here in Path(str(item.path)).resolve().parents
    ]
    if slow:
        config.hook.pytest_deselected(items=slow)
        chosen = set(map(id, slow))
        items[:] = [item for item in items if id(item) not in chosen]


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


@pytest.fixture(autouse=True)
def _inner_runs_are_conformance_runs(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pytest run a self-test starts (``pytester``) opts into the conformance plugin, as
    this checkout's own runs do through conftest.py; tests/harness/test_plugin.py clears it to test
    the entry point alone."""
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester")  # which clears PYTEST_ADDOPTS when it starts
        monkeypatch.setenv("PYTEST_ADDOPTS", "-p fsconformance.harness.conformance")
