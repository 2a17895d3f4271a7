"""Known non-conformances as reviewed data, each with its reason.

``expectations/<backend>.toml`` lists the tests a backend is known to fail, each with a reason::

    [[expected_failure]]
    test = "suites/test_describe.py::test_describe_accepts_the_arn_in_place_of_the_name"
    reason = "the emulation does not yet accept an ARN here"

An entry may hold only where the installed botocore models give services a protocol:
``protocol = { athena = "rest-json" }`` applies the entry only while botocore's Athena model
speaks ``rest-json`` (plain moto cannot route it there, and can elsewhere).

``test`` is a node id or an ``fnmatch`` pattern over node ids. The plugin marks every matching
test as a strict xfail, so a test that starts passing fails the run until its entry is removed.
An entry that matches no test stops collection with one line naming the file and the entry
(entries for modules outside the run are not checked).

``fsconformance expectations --from-junit RUN.xml --backend NAME`` proposes a new file from a
run's failures, keeping the reasons of entries that still apply.
"""

from __future__ import annotations

import fnmatch
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_DIR = "expectations"


class ExpectationsError(Exception):
    """The expectations file is malformed; the message is one line naming file and entry."""


@dataclass(frozen=True)
class Expectation:
    test: str
    reason: str
    protocols: tuple[tuple[str, str], ...] = ()  # (service, protocol) that must hold

    def applies(self) -> bool:
        """Whether the installed botocore models are those the entry was written for."""
        if not self.protocols:
            return True
        import botocore.session

        session = botocore.session.get_session()
        return all(
            session.get_service_model(service).protocol == protocol
            for service, protocol in self.protocols
        )

    def matches(self, nodeid: str) -> bool:
        return nodeid == self.test or fnmatch.fnmatchcase(nodeid, self.test)

    @property
    def module(self) -> str:
        return self.test.split("::", 1)[0]


def load(path: Path) -> list[Expectation]:
    """The entries of one expectations file; a missing file has none."""
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ExpectationsError(f"{path}: not valid TOML: {error}") from None
    unknown = set(data) - {"expected_failure"}
    if unknown:
        raise ExpectationsError(
            f"{path}: unknown table(s) {sorted(unknown)}; use [[expected_failure]]"
        )
    entries = []
    for index, entry in enumerate(data.get("expected_failure", []), start=1):
        test, reason = entry.get("test"), entry.get("reason")
        if not isinstance(test, str) or not test.strip():
            raise ExpectationsError(f"{path}: expected_failure #{index} has no 'test' node id")
        if not isinstance(reason, str) or not reason.strip():
            raise ExpectationsError(f"{path}: expected_failure {test!r} has no 'reason'")
        protocols = entry.get("protocol", {})
        if not isinstance(protocols, dict) or not all(
            isinstance(v, str) for v in protocols.values()
        ):
            raise ExpectationsError(
                f"{path}: expected_failure {test!r}: 'protocol' must map services to protocols"
            )
        entry_protocols = tuple(sorted(protocols.items()))
        entries.append(Expectation(test.strip(), reason.strip(), entry_protocols))
    return [entry for entry in entries if entry.applies()]


def stale(entries: list[Expectation], nodeids: list[str], root: Path) -> list[Expectation]:
    """Entries that match no collected test although their module was collected or is gone."""
    collected_modules = {nodeid.split("::", 1)[0] for nodeid in nodeids}
    result = []
    for entry in entries:
        if any(entry.matches(nodeid) for nodeid in nodeids):
            continue
        module_collected = any(fnmatch.fnmatchcase(m, entry.module) for m in collected_modules)
        module_exists = any(root.glob(entry.module)) if entry.module else False
        if module_collected or not module_exists:
            result.append(entry)
    return result


class ExpectationsPlugin:
    """Pytest hooks: apply a backend's expectations file as strict xfail markers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.entries = load(path)
        except ExpectationsError as error:
            raise pytest.UsageError(f"fsconformance: {error}") from None

    @pytest.hookimpl(tryfirst=True)  # before -k/-m deselect, so every collected test counts
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if not self.entries:
            return
        nodeids = [item.nodeid for item in items]
        unmatched = stale(self.entries, nodeids, config.rootpath)
        if unmatched:
            entry = unmatched[0]
            more = f" (and {len(unmatched) - 1} more)" if len(unmatched) > 1 else ""
            raise pytest.UsageError(
                f"fsconformance: {self.path}: entry {entry.test!r} matches no test{more}; "
                "remove or correct it"
            )
        for item in items:
            for entry in self.entries:
                if entry.matches(item.nodeid):
                    item.add_marker(
                        pytest.mark.xfail(reason=f"{self.path.name}: {entry.reason}", strict=True)
                    )
                    item.user_properties.append(("fsconformance.expectation", entry.reason))
                    break

    def pytest_report_header(self) -> list[str]:
        return [f"fsconformance expectations: {self.path} ({len(self.entries)} entries)"]


def default_path(root: Path, backend: str) -> Path:
    return root / DEFAULT_DIR / f"{backend}.toml"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def propose(
    cases: list[dict[str, Any]], existing: list[Expectation], backend: str, source: str
) -> str:
    """A proposed expectations file: every failed, errored or still-expected-failing test.

    ``cases`` are parsed test cases (``fsconformance.reporting.report.parse_junit``); an existing entry's
    reason is kept when it still matches a failing test; new ones get a reason to review.
    """
    lines = [
        f"# Known non-conformances of the {backend} backend: proposed from {source}.",
        "# Review every entry: each one becomes a strict xfail (an unexpected pass fails the run).",
        "",
    ]
    seen: set[str] = set()
    for case in sorted(cases, key=lambda c: c["nodeid"]):
        if case["outcome"] not in ("failed", "error", "xfailed") or case["nodeid"] in seen:
            continue
        if case["outcome"] == "xfailed" and "fsconformance.expectation" not in case["properties"]:
            continue  # an xfail written in the test itself, not one from this file
        seen.add(case["nodeid"])
        old = next((e for e in existing if e.matches(case["nodeid"])), None)
        reason = old.reason if old else "TODO review: " + (case["message"] or "failed")[:160]
        lines += [
            "[[expected_failure]]",
            f"test = {_quote(case['nodeid'])}",
            f"reason = {_quote(reason)}",
            "",
        ]
    if not seen:
        lines.append("# No failures in this run: nothing is expected to fail.")
    return "\n".join(lines).rstrip("\n") + "\n"
