"""A run that tells its result: a terminal summary per contract section, and the report.

``SummaryPlugin`` collects every test's outcome and properties from ``pytest_runtest_logreport``
in the controller process (under xdist, workers send their reports there), so the numbers are
the whole run's whatever ``-n`` is. At the end it prints, per section of the contract, how many
clauses passed, failed, were unsupported or are expected gaps, and the slowest waits; with
``--conformance-report DIR`` it writes ``conformance.md`` and ``conformance.html`` through
``fsconformance.reporting.report``, without a JUnit step.

``--clauses C-018,C-040`` keeps only the tests that name one of the clauses (all of them, in
every module), so a subset of the contract can be run whole.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from ..backends.capabilities import is_unsupported_reason, skip_message
from ..contract import CLAUSES
from ..reporting import report as report_module

#: The contract's sections (docs/contract.md §2), by the clause numbers they hold.
SECTIONS: tuple[tuple[str, str, int, int], ...] = (
    ("A", "Client, protocol and error handling", 1, 9),
    ("B", "CreateFeatureGroup and feature-group state", 10, 19),
    ("C", "Data types, value encoding and event time", 20, 29),
    ("D", "PutRecord", 30, 39),
    ("E", "Online store reads", 40, 49),
    ("F", "UpdateFeatureGroup", 50, 59),
    ("G", "Offline store in S3", 60, 79),
    ("H", "Glue Data Catalog table", 80, 89),
    ("I", "Athena queries", 90, 99),
    ("J", "DeleteRecord", 100, 109),
    ("K", "TTL and ExpiresAt", 110, 119),
    ("L", "Collection types and InMemory", 120, 129),
    ("M", "Delete, List, feature metadata", 130, 139),
    ("N", "Quotas", 140, 149),
    ("O", "Seed data", 150, 159),
    ("§8", "botocore 1.44.8 additions", 160, 999),
)
#: A clause's outcome in a run: its worst test outcome, in this order.
CLAUSE_OUTCOMES = ("failed", "expected gap", "passed", "unsupported")
_SLOWEST = 5


def section_of(clause: str) -> tuple[str, str]:
    """(letter, title) of the contract section a clause id belongs to."""
    number = int(clause.removeprefix("C-"))
    for letter, title, low, high in SECTIONS:
        if low <= number <= high:
            return letter, title
    return "?", "outside the contract's sections"


def clause_outcome(outcomes: dict[str, int]) -> str:
    """One word for a clause from its tests' outcomes (``report.OUTCOMES`` counts)."""
    if outcomes.get("failed") or outcomes.get("error") or outcomes.get("xpassed"):
        return "failed"
    if outcomes.get("xfailed"):
        return "expected gap"
    if outcomes.get("passed"):
        return "passed"
    return "unsupported"  # every test unsupported or skipped


def add_summary_options(group: Any) -> None:
    """Register ``--conformance-report`` and ``--clauses`` on the plugin's option group."""
    group.addoption(
        "--conformance-report",
        default=None,
        metavar="DIR",
        help="write conformance.md and conformance.html for this run into DIR "
        "(env FSCONFORMANCE_REPORT_DIR)",
    )
    group.addoption(
        "--clauses",
        default=None,
        metavar="C-nnn,...",
        help="run only the tests that name one of these contract clauses",
    )


def _outcome(report: pytest.TestReport) -> str | None:
    """The outcome this phase's report decides, in ``report.OUTCOMES`` terms, or None."""
    if report.when == "call":
        if report.passed:
            return "passed"
        if report.skipped:
            return "xfailed" if hasattr(report, "wasxfail") else _skip_kind(report)
        text = str(getattr(report, "longrepr", ""))
        return "xpassed" if "[XPASS(strict)]" in text else "failed"
    if report.when == "setup":
        if report.skipped:
            return "xfailed" if hasattr(report, "wasxfail") else _skip_kind(report)
        if report.failed:
            return "error"
    if report.when == "teardown" and report.failed:
        return "error"
    return None


def _skip_kind(report: pytest.TestReport) -> str:
    return "unsupported" if is_unsupported_reason(skip_message(report)) else "skipped"


def _message(report: pytest.TestReport) -> str:
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    if crash is not None:
        return str(crash.message).strip().splitlines()[0] if str(crash.message).strip() else ""
    text = str(getattr(report, "longrepr", "") or "")
    return text.strip().splitlines()[-1] if text.strip() else ""


class SummaryPlugin:
    """Pytest hooks: aggregate outcomes in the controller; summarise and write the report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.cases: dict[str, dict[str, Any]] = {}
        option = config.getoption("conformance_report", None)
        self.report_dir = option or os.environ.get("FSCONFORMANCE_REPORT_DIR") or None
        text = config.getoption("clauses", None) or ""
        self.only = {c.strip() for c in text.split(",") if c.strip()}
        unknown = sorted(c for c in self.only if c not in CLAUSES)
        if unknown:
            raise pytest.UsageError(
                f"fsconformance: --clauses names unknown clauses: {', '.join(unknown)}"
            )

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if not self.only:
            return
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            ids = {c for mark in item.iter_markers("clause") for c in mark.args}
            (keep if ids & self.only else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if hasattr(self.config, "workerinput"):
            return  # a worker: the controller receives this report too
        outcome = _outcome(report)
        properties: dict[str, list[str]] = defaultdict(list)
        for name, value in report.user_properties:
            properties[str(name)].append(str(value))
        case = self.cases.get(report.nodeid)
        if case is None:
            case = {
                "nodeid": report.nodeid,
                "outcome": "passed",
                "message": "",
                "text": "",
                "properties": {},
                "source": "this run",
                "decided": False,
            }
            self.cases[report.nodeid] = case
        # user_properties grow through the phases; the latest report carries them all.
        if len(properties) >= len(case["properties"]):
            case["properties"] = dict(properties)
        if outcome is None:
            return
        if case["decided"] and outcome != "error":
            return
        if case["decided"] and case["outcome"] in ("failed", "error", "xpassed"):
            return  # the first failure is the one to report
        case["outcome"] = outcome
        case["decided"] = True
        if outcome in ("failed", "error", "xpassed"):
            case["message"] = _message(report)
            case["text"] = str(getattr(report, "longreprtext", ""))

    # -- results ---------------------------------------------------------------------------

    def _suite_cases(self) -> list[dict[str, Any]]:
        return [c for c in self.cases.values() if c["properties"].get("fsconformance.clauses")]

    def clause_outcomes(self) -> dict[str, str]:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for case in self._suite_cases():
            for clause in case["properties"]["fsconformance.clauses"][0].split():
                counts[clause][case["outcome"]] += 1
        return {clause: clause_outcome(c) for clause, c in counts.items()}

    def slowest_waits(self) -> list[tuple[float, str, str]]:
        waits = []
        for case in self._suite_cases():
            for name, values in case["properties"].items():
                if name.startswith(report_module.WAIT_PREFIX):
                    kind = name.removeprefix(report_module.WAIT_PREFIX)
                    for value in values:
                        seconds, _, note = value.partition(" ")
                        label = f"{kind} ({note})" if note else kind
                        waits.append((float(seconds), label, case["nodeid"]))
        return sorted(waits, reverse=True)[:_SLOWEST]

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput") or not self._suite_cases():
            return
        per_section: dict[tuple[str, str], dict[str, int]] = {}
        for clause, outcome in sorted(self.clause_outcomes().items()):
            counts = per_section.setdefault(section_of(clause), dict.fromkeys(CLAUSE_OUTCOMES, 0))
            counts[outcome] += 1
        write = terminalreporter.write_line
        terminalreporter.write_sep("=", "fsconformance: clauses per contract section")
        write(f"{'section':<52} {'passed':>6} {'failed':>6} {'unsup.':>6} {'exp.gap':>7}")
        order = [letter for letter, *_ in SECTIONS]
        totals = dict.fromkeys(CLAUSE_OUTCOMES, 0)
        for (letter, title), counts in sorted(
            per_section.items(), key=lambda item: order.index(item[0][0])
        ):
            for key in totals:
                totals[key] += counts[key]
            write(
                f"{letter + '. ' + title:<52} {counts['passed']:>6} {counts['failed']:>6} "
                f"{counts['unsupported']:>6} {counts['expected gap']:>7}"
            )
        write(
            f"{'all clauses':<52} {totals['passed']:>6} {totals['failed']:>6} "
            f"{totals['unsupported']:>6} {totals['expected gap']:>7}"
        )
        slowest = self.slowest_waits()
        if slowest:
            write("slowest waits:")
            for seconds, kind, nodeid in slowest:
                write(f"  {seconds:8.3f} s  {kind:<12} {nodeid}")
        if self.report_dir:
            md, page = self.write_report(Path(self.report_dir))
            write(f"conformance report: {md} and {page}")

    def write_report(self, out: Path) -> tuple[Path, Path]:
        """Write the conformance report of this run's cases into ``out``."""
        built = report_module.add_cases(
            report_module.Report(), list(self.cases.values()), "this run"
        )
        out.mkdir(parents=True, exist_ok=True)
        md, page = out / "conformance.md", out / "conformance.html"
        md.write_text(report_module.to_markdown(built), encoding="utf-8")
        page.write_text(report_module.to_html(built), encoding="utf-8")
        return md, page
