"""Pytest side of snapshots: ``--record-snapshots DIR``, ``--compare-snapshots DIR``, the
``observes(clause, what)`` marker and the ``observe(what, value)`` fixture.

A test takes part when it is a conformance test, uses the ``backend`` fixture, runs no
hypothesis search (its inputs differ on every run) and carries no ``no_snapshot(reason)``.
Recording writes one JSON file per test, whatever its outcome: on AWS a failing test's
responses are exactly the news. Replay fails a test whose responses differ from its recording,
whose snapshot is missing or corrupted, or whose directory is another format.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore
import pytest

from .compare import compare_exchanges, compare_observations
from .normalise import Normaliser
from .record import (
    Recorder,
    SnapshotError,
    check_manifest,
    read_snapshot,
    snapshot_path,
    write_manifest,
    write_snapshot,
)

OBSERVED_PROPERTY = "fsconformance.observed"
_OBSERVATIONS = pytest.StashKey[list]()
_TAKES_PART = pytest.StashKey[bool]()


def add_options(group: Any) -> None:
    group.addoption(
        "--record-snapshots",
        metavar="DIR",
        default=None,
        help="aws backend only: write each test's requests and normalised responses to DIR",
    )
    group.addoption(
        "--compare-snapshots",
        metavar="DIR",
        default=None,
        help="check each test's responses against the recording in DIR (any backend)",
    )


def add_markers(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "observes(clause, what): the test records a named observation for an UNCERTAIN "
        "clause through the observe(what, value) fixture",
    )
    config.addinivalue_line(
        "markers", "no_snapshot(reason): the test's exchanges are not recorded or replayed"
    )
    config.addinivalue_line(
        "markers",
        "evidence(*ids): the public observations of AWS (docs/evidence.toml, E-nn) the test "
        "checks the backend against",
    )


def takes_part(item: pytest.Item) -> bool:
    if item.get_closest_marker("conformance") is None:
        return False
    if "backend" not in getattr(item, "fixturenames", ()):
        return False
    if item.get_closest_marker("no_snapshot") is not None:
        return False
    return not getattr(getattr(item, "obj", None), "is_hypothesis_test", False)


class SnapshotPlugin:
    """Records or replays every taking-part test's exchanges."""

    def __init__(self, backend: Any, record: Path | None, compare: Path | None) -> None:
        self.backend = backend
        self.record_dir = record
        self.compare_dir = compare
        self.recorder = Recorder()
        self.directory_problem: str | None = None
        if compare is not None:
            try:
                check_manifest(compare)
            except SnapshotError as error:
                self.directory_problem = str(error)
        if record is not None:
            write_manifest(record)
        hooks = getattr(backend, "client_hooks", None)
        if hooks is not None:
            hooks.append(self.recorder.attach)
        for client in getattr(backend, "_clients", {}).values():
            self.recorder.attach(client)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        item.stash[_OBSERVATIONS] = []
        item.stash[_TAKES_PART] = takes_part(item)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        """Only the test body's calls: fixtures set up and tear down differently per backend."""
        if item.stash.get(_TAKES_PART, False):
            self.recorder.begin(Normaliser.for_backend(self.backend))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if not item.stash.get(_TAKES_PART, False):
            return report
        if report.when != "call":
            return report
        exchanges = self.recorder.end()
        observations = item.stash.get(_OBSERVATIONS, [])
        if self.record_dir is not None:
            write_snapshot(
                self.record_dir,
                item.nodeid,
                exchanges,
                observations,
                backend=self.backend.name,
                region=self.backend.region,
                botocore_version=botocore.__version__,
                target="endpoint" if self._endpoint() else "aws",
            )
        if self.compare_dir is not None and not report.skipped:
            problems = self._compare(item.nodeid, exchanges, observations)
            if problems:
                text = "snapshot differs:\n  " + "\n  ".join(problems)
                if report.passed:
                    report.outcome = "failed"
                    report.longrepr = text
                else:
                    report.sections.append(("fsconformance snapshot", text))
        return report

    def _endpoint(self) -> str:
        return str(getattr(getattr(self.backend, "options", None), "endpoint_url", "") or "")

    def _compare(self, nodeid: str, exchanges: list, observations: list) -> list[str]:
        if self.directory_problem:
            return [self.directory_problem]
        assert self.compare_dir is not None
        path = snapshot_path(self.compare_dir, nodeid)
        try:
            document = read_snapshot(path)
        except SnapshotError as error:
            return [str(error)]
        problems = compare_exchanges(document["exchanges"], exchanges)
        problems += compare_observations(document.get("observations") or [], observations)
        return [f"{path}: {problem}" for problem in problems[:1]] + problems[1:]


def observe_fixture(request: pytest.FixtureRequest) -> Callable[[str, Any], None]:
    """``observe(what, value)``: record what the backend answered for an UNCERTAIN clause."""
    item = request.node
    declared = {
        str(mark.args[1]): str(mark.args[0])
        for mark in item.iter_markers("observes")
        if len(mark.args) >= 2
    }

    def observe(what: str, value: Any) -> None:
        if what not in declared:
            raise AssertionError(
                f"observe({what!r}): the test declares no @pytest.mark.observes(clause, {what!r})"
            )
        normalised = Normaliser.for_backend(request.getfixturevalue("backend")).value(value)
        entry = {"clause": declared[what], "what": what, "value": normalised}
        item.stash.setdefault(_OBSERVATIONS, []).append(entry)
        item.user_properties.append((OBSERVED_PROPERTY, json.dumps(entry, sort_keys=True)))

    return observe
