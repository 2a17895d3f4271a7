"""The conformance report: which clauses each backend and boto3 version meets.

Two halves:

* ``RecordPlugin`` (pytest hooks) writes, on every test, the properties JUnit XML carries:
  ``fsconformance.nodeid``, ``.backend``, ``.boto3``, ``.botocore``, ``.clauses``,
  ``.uncertain``, ``.tox_env`` and one ``fsconformance.wait.<kind>`` per wait with its seconds.
* ``build``/``write`` read one or more JUnit XML files (``pytest --junitxml``) and write
  ``conformance.md`` and a self-contained ``conformance.html``: per clause the outcome on every
  (backend, boto3) cell that ran, what a recording on AWS observed of an UNCERTAIN clause and,
  apart from it, what public evidence observed (``docs/evidence.toml``: id, date and kind),
  totals, a command reproducing each failure, and the min/median/max duration of each kind of
  wait per backend.
"""

from __future__ import annotations

import html
import json
import os
import re
import statistics
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import pytest

from ..backends.capabilities import is_unsupported_reason
from ..contract import CLAUSES

PREFIX = "fsconformance."
WAIT_PREFIX = PREFIX + "wait."

# -- recording (pytest side) ------------------------------------------------------------------


class RecordPlugin:
    """Pytest hooks adding the report's properties to every test's JUnit record."""

    def __init__(self, backend_name: str) -> None:
        import boto3
        import botocore

        self.static = [
            (PREFIX + "backend", backend_name),
            (PREFIX + "boto3", boto3.__version__),
            (PREFIX + "botocore", botocore.__version__),
        ]
        if os.environ.get("TOX_ENV_NAME"):
            self.static.append((PREFIX + "tox_env", os.environ["TOX_ENV_NAME"]))
        self._current: pytest.Item | None = None
        from ..waiters import WAIT_OBSERVERS

        WAIT_OBSERVERS.append(self._on_wait)

    def _on_wait(self, kind: str, seconds: float, succeeded: bool) -> None:
        if self._current is not None:
            suffix = "" if succeeded else " timeout"
            self._current.user_properties.append((WAIT_PREFIX + kind, f"{seconds:.3f}{suffix}"))

    def pytest_unconfigure(self) -> None:
        from ..waiters import WAIT_OBSERVERS

        if self._on_wait in WAIT_OBSERVERS:
            WAIT_OBSERVERS.remove(self._on_wait)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            clauses = [c for mark in item.iter_markers("clause") for c in mark.args]
            questions = [q for mark in item.iter_markers("uncertain") for q in mark.args]
            item.user_properties.append((PREFIX + "nodeid", item.nodeid))
            item.user_properties.extend(self.static)
            if clauses:
                item.user_properties.append((PREFIX + "clauses", " ".join(map(str, clauses))))
            for question in questions:
                item.user_properties.append((PREFIX + "uncertain", str(question)))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        self._current = item
        try:
            yield
        finally:
            self._current = None


# -- reading JUnit XML ------------------------------------------------------------------------


def _nodeid_from(case: ET.Element) -> str:
    """The node id when the plugin did not record it: rebuilt from classname and name."""
    classname = case.get("classname", "")
    parts = classname.split(".")
    cut = next(
        (n for n in range(len(parts), 0, -1) if Path("/".join(parts[:n]) + ".py").is_file()),
        len(parts),  # no such file here: take the whole classname as the module
    )
    return "::".join(["/".join(parts[:cut]) + ".py", *parts[cut:], case.get("name", "")])


def parse_junit(path: Path) -> list[dict[str, Any]]:
    """Every test case of a JUnit XML file: nodeid, outcome, message, text, properties."""
    root = ET.parse(path).getroot()
    cases = []
    for case in root.iter("testcase"):
        properties: dict[str, list[str]] = defaultdict(list)
        for prop in case.iter("property"):
            properties[prop.get("name", "")].append(prop.get("value", ""))
        outcome, message, text = "passed", "", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is None:
                continue
            message, text = node.get("message", ""), node.text or ""
            if tag == "skipped":
                if node.get("type") == "pytest.xfail":
                    outcome = "xfailed"
                elif is_unsupported_reason(message):
                    outcome = "unsupported"
                else:
                    outcome = "skipped"
            elif tag == "failure" and message.startswith("[XPASS(strict)]"):
                outcome = "xpassed"
            else:
                outcome = "failed" if tag == "failure" else "error"
            break
        nodeid = (properties.get(PREFIX + "nodeid") or [_nodeid_from(case)])[0]
        cases.append(
            {
                "nodeid": nodeid,
                "outcome": outcome,
                "message": message.strip().splitlines()[0] if message.strip() else "",
                "text": text,
                "properties": dict(properties),
                "source": str(path),
            }
        )
    return cases


# -- the report -------------------------------------------------------------------------------

OUTCOMES = ("passed", "failed", "error", "xpassed", "xfailed", "unsupported", "skipped")
# What was observed of AWS, per clause: a nightly recording, and public evidence, apart.
OBSERVED_COLUMNS = ("UNCERTAIN: observed on AWS", "observed in public evidence")
# How one clause's tests in one cell read, worst first.
_CELL_ORDER = ("failed", "error", "xpassed", "xfailed", "passed", "unsupported", "skipped")
_SYMBOL = {
    "passed": "pass",
    "failed": "FAIL",
    "error": "ERROR",
    "xpassed": "XPASS",
    "xfailed": "known gap",
    "unsupported": "unsupported",
    "skipped": "skipped",
}


@dataclass
class Report:
    cells: list[str] = field(default_factory=list)  # "moto / boto3 1.43.11"
    # clause -> cell -> outcome -> count
    clauses: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    waits: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # backend -> kind
    sources: list[str] = field(default_factory=list)
    # (clause, what) -> cell -> value, from the observe fixture; and the UNCERTAIN ledger
    observed: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    uncertain: dict[str, Any] = field(default_factory=dict)


def _first(properties: dict[str, list[str]], name: str, default: str) -> str:
    return (properties.get(PREFIX + name) or [default])[0]


def _seed(text: str) -> str | None:
    match = re.search(r"--hypothesis-seed=(\d+)", text) or re.search(r"@seed\((\d+)\)", text)
    return match.group(1) if match else None


def reproduce_command(case: dict[str, Any]) -> str:
    """One line that runs this test again the way it ran."""
    properties = case["properties"]
    backend = _first(properties, "backend", "moto")
    command = f"pytest --backend={backend} '{case['nodeid']}'"
    seed = _seed(case["text"] + "\n" + case["message"])
    if seed:
        command += f" --hypothesis-seed={seed}"
    tox_env = _first(properties, "tox_env", "")
    if tox_env:
        command = f"tox -e {tox_env} -- " + command.removeprefix("pytest ")
    return command


def build(paths: Iterable[Path], snapshots: Path | None = None) -> Report:
    """Aggregate JUnit XML runs into a report; ``snapshots`` holds the recorded observations."""
    from . import ledger

    report = Report(uncertain=ledger.load_for_report(snapshots))
    for path in paths:
        add_cases(report, parse_junit(path), str(path))
    return report


def add_cases(report: Report, cases: Iterable[dict[str, Any]], source: str) -> Report:
    """Add test cases shaped as ``parse_junit`` returns them (from a file or a live run)."""
    report.sources.append(source)
    for case in cases:
        properties = case["properties"]
        backend = _first(properties, "backend", "unknown")
        cell = f"{backend} / boto3 {_first(properties, 'boto3', '?')}"
        if cell not in report.cells:
            report.cells.append(cell)
            report.totals[cell] = dict.fromkeys(OUTCOMES, 0)
        report.totals[cell][case["outcome"]] += 1
        for clause in _first(properties, "clauses", "").split():
            counts = report.clauses.setdefault(clause, {}).setdefault(cell, {})
            counts[case["outcome"]] = counts.get(case["outcome"], 0) + 1
        if case["outcome"] in ("failed", "error", "xpassed"):
            report.failures.append(
                {
                    "cell": cell,
                    "nodeid": case["nodeid"],
                    "outcome": case["outcome"],
                    "message": case["message"],
                    "command": reproduce_command(case),
                    "clauses": _first(properties, "clauses", ""),
                }
            )
        for value in properties.get(PREFIX + "observed", []):
            seen = json.loads(value)
            key = (seen["clause"], seen["what"])
            report.observed.setdefault(key, {})[cell] = seen["value"]
        for name, values in properties.items():
            if name.startswith(WAIT_PREFIX):
                kind = name.removeprefix(WAIT_PREFIX)
                bucket = report.waits.setdefault(backend, {}).setdefault(kind, [])
                bucket += [float(v.split()[0]) for v in values if v]
    return report


def cell_summary(counts: dict[str, int] | None) -> str:
    """How a clause fared in one cell: its worst outcome, with counts when mixed."""
    if not counts:
        return "—"
    present = [o for o in _CELL_ORDER if counts.get(o)]
    worst = present[0]
    if len(present) == 1:
        return f"{_SYMBOL[worst]} ({counts[worst]})"
    return f"{_SYMBOL[worst]} (" + ", ".join(f"{counts[o]} {_SYMBOL[o]}" for o in present) + ")"


def _observed(report: Report, clause: str) -> str:
    from .ledger import observation_cell

    return observation_cell(report.uncertain.get(clause)) if clause in report.uncertain else ""


def _evidence(report: Report, clause: str) -> str:
    from .ledger import evidence_cell

    return evidence_cell(report.uncertain.get(clause))


def _contradictions(report: Report) -> list[str]:
    from .ledger import contradictions

    return contradictions(report.observed, report.uncertain)


def _clause_order(report: Report) -> list[str]:
    known = [c for c in CLAUSES if c in report.clauses]
    return known + sorted(c for c in report.clauses if c not in CLAUSES)


def _wait_rows(report: Report) -> list[list[str]]:
    rows = []
    for backend in sorted(report.waits):
        for kind in sorted(report.waits[backend]):
            values = report.waits[backend][kind]
            if values:
                rows.append(
                    [
                        backend,
                        kind,
                        str(len(values)),
                        f"{min(values):.3f}",
                        f"{statistics.median(values):.3f}",
                        f"{max(values):.3f}",
                    ]
                )
    return rows


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def esc(cell: str) -> str:
        return cell.replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return lines


def to_markdown(report: Report) -> str:
    lines = ["# Feature Store conformance", ""]
    lines.append("Runs: " + ", ".join(f"`{s}`" for s in report.sources))
    lines += ["", "## Totals", ""]
    lines += _md_table(
        ["outcome", *report.cells],
        [[o, *[str(report.totals[c][o]) for c in report.cells]] for o in OUTCOMES],
    )
    lines += ["", "## Clauses", ""]
    lines += _md_table(
        ["clause", "title", *report.cells, *OBSERVED_COLUMNS],
        [
            [
                c,
                CLAUSES.get(c, "?"),
                *[cell_summary(report.clauses[c].get(x)) for x in report.cells],
                _observed(report, c),
                _evidence(report, c),
            ]
            for c in _clause_order(report)
        ],
    )
    lines += ["", "## Recordings that contradict a backend", ""]
    lines += [f"- {line}" for line in _contradictions(report)] or ["None."]
    lines += ["", "## Failures", ""]
    if not report.failures:
        lines.append("None.")
    for failure in report.failures:
        lines.append(
            f"- **{failure['outcome']}** on {failure['cell']}: `{failure['nodeid']}`"
            + (f" — {failure['message']}" if failure["message"] else "")
        )
        lines.append(f"  reproduce: `{failure['command']}`")
    lines += ["", "## Wait durations (seconds)", ""]
    rows = _wait_rows(report)
    if rows:
        lines += _md_table(["backend", "wait", "count", "min", "median", "max"], rows)
    else:
        lines.append("No waits recorded.")
    return "\n".join(lines) + "\n"


_CELL = Template('<td class="$css">$text</td>')
_HEADER_CELL = Template("<th>$text</th>")
_FAILURE_ITEM = Template(
    '<li id="$anchor"><b>$outcome</b> on $cell: <code>$nodeid</code> $message'
    "<br>reproduce: <code>$command</code></li>"
)


def _page_template() -> Template:
    text = (
        resources.files("fsconformance.reporting")
        .joinpath("templates/report.html")
        .read_text("utf-8")
    )
    return Template(text)


def _html_table(
    header: list[str],
    rows: list[list[str]],
    classes: bool = False,
    links: dict[tuple[int, int], str] | None = None,
    columns: str = "",
) -> str:
    """A table; ``links`` maps (row, column) to the address the cell links to."""
    head = "".join(_HEADER_CELL.substitute(text=html.escape(h)) for h in header)
    body = []
    for r, row in enumerate(rows):
        cells = []
        for c, cell in enumerate(row):
            text = html.escape(cell)
            anchor = (links or {}).get((r, c))
            if anchor:
                text = f'<a href="{html.escape(anchor)}">{text}</a>'
            css = html.escape(cell.split(" ")[0]) if classes else ""
            cells.append(_CELL.substitute(css=css, text=text))
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>{columns}<tr>{head}</tr>\n" + "\n".join(body) + "</table>"


def _clause_links(order: list[str]) -> dict[tuple[int, int], str]:
    """Each known clause id in the first column links to its clause in contract.html."""
    from .contract_page import href

    return {(r, 0): href(clause) for r, clause in enumerate(order) if clause in CLAUSES}


def to_html(report: Report) -> str:
    """The report as one self-contained page (``templates/report.html``)."""
    anchors: dict[tuple[str, str], str] = {}  # (clause, cell) -> the first failure's anchor
    items = []
    for index, failure in enumerate(report.failures, start=1):
        anchor = f"failure-{index}"
        for clause in failure.get("clauses", "").split():
            anchors.setdefault((clause, failure["cell"]), anchor)
        items.append(
            _FAILURE_ITEM.substitute(
                anchor=anchor,
                outcome=html.escape(failure["outcome"]),
                cell=html.escape(failure["cell"]),
                nodeid=html.escape(failure["nodeid"]),
                message=html.escape(failure["message"]),
                command=html.escape(failure["command"]),
            )
        )
    order = _clause_order(report)
    links = {
        (r, 2 + c): "#" + anchors[(clause, cell)]
        for r, clause in enumerate(order)
        for c, cell in enumerate(report.cells)
        if (clause, cell) in anchors
    }
    links.update(_clause_links(order))
    clause_rows = [
        [
            c,
            CLAUSES.get(c, "?"),
            *[cell_summary(report.clauses[c].get(x)) for x in report.cells],
            _observed(report, c),
            _evidence(report, c),
        ]
        for c in order
    ]
    rows = _wait_rows(report)
    return _page_template().substitute(
        sources=", ".join(f"<code>{html.escape(s)}</code>" for s in report.sources),
        totals=_html_table(
            ["outcome", *report.cells],
            [[o, *[str(report.totals[c][o]) for c in report.cells]] for o in OUTCOMES],
        ),
        clauses=_html_table(
            ["clause", "title", *report.cells, *OBSERVED_COLUMNS],
            clause_rows,
            classes=True,
            links=links,
            columns='<colgroup><col class="clause"><col class="title"></colgroup>',
        ),
        failures=(
            '<ul class="failures">' + "\n".join(items) + "</ul>" if items else "<p>None.</p>"
        ),
        waits=(
            _html_table(["backend", "wait", "count", "min", "median", "max"], rows)
            if rows
            else "<p>No waits recorded.</p>"
        ),
        contradictions=(
            "<ul>"
            + "".join(f"<li>{html.escape(x)}</li>" for x in _contradictions(report))
            + "</ul>"
            if _contradictions(report)
            else "<p>None.</p>"
        ),
    )


def write(paths: Iterable[Path], out: Path, snapshots: Path | None = None) -> tuple[Path, Path]:
    """Write ``conformance.md`` and ``conformance.html`` into ``out``, with the
    ``contract.html`` its clause ids link to; return the first two paths."""
    from . import contract_page

    report = build(paths, snapshots)
    out.mkdir(parents=True, exist_ok=True)
    contract_page.write(out)
    md, page = out / "conformance.md", out / "conformance.html"
    md.write_text(to_markdown(report), encoding="utf-8")
    page.write_text(to_html(report), encoding="utf-8")
    return md, page
