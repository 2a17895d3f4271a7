"""The scoreboard: the conformance suites on several backends, side by side.

``fsconformance scoreboard`` runs the packaged suites (``fsconformance run``) once per backend (by default the emulation
``moto``, plain moto ``moto-plain``, and a local ``fsconformance serve`` through ``endpoint``),
each writing JUnit XML, and writes ``scoreboard.md`` and ``scoreboard.html``: per contract clause
and backend the number of tests that passed, failed, were unsupported or are expected gaps
(the backend's expectations file), then every failing test with a command reproducing it.

The docs page ``docs/scoreboard.md`` carries the clause table for ``moto`` and ``moto-plain``
between the markers ``PAGE_BEGIN`` and ``PAGE_END``; ``--page`` rewrites it and ``--check-page``
fails when it differs from what this run (or ``--from-junit`` files) would write.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

from ..contract import CLAUSES
from . import report as report_module

DEFAULT_BACKENDS = ("moto", "moto-plain", "endpoint")
PAGE = "docs/scoreboard.md"
PAGE_BACKENDS = ("moto", "moto-plain")
PAGE_BEGIN = f"<!-- scoreboard:begin (fsconformance scoreboard --page {PAGE}) -->"
PAGE_END = "<!-- scoreboard:end -->"
#: The four counts of a cell, and the report outcomes each one gathers.
KINDS: dict[str, tuple[str, ...]] = {
    "pass": ("passed",),
    "fail": ("failed", "error", "xpassed"),
    "unsupported": ("unsupported", "skipped"),
    "gap": ("xfailed",),
}
_SERVE_LINE = re.compile(r"^fsconformance serve: listening on (http://\S+)$")
_ROW = Template("<tr><td>$clause</td><td>$title</td>$cells</tr>")
_CELL = Template('<td class="$css">$text</td>')
_FAILURE = Template(
    '<li id="$anchor"><b>$backend</b>: <code>$nodeid</code><br>$message<br>'
    "reproduce: <code>$command</code></li>"
)


class ScoreboardError(Exception):
    """A run could not be made or read; the message is one line."""


@dataclass
class Failure:
    backend: str
    nodeid: str
    clauses: list[str]
    message: str
    command: str


@dataclass
class Scoreboard:
    backends: list[str] = field(default_factory=list)
    # clause -> backend -> kind -> count
    cells: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    gaps: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # backend -> (test, why)
    seconds: dict[str, float] = field(default_factory=dict)
    endpoint_url: str = ""

    def clause_order(self) -> list[str]:
        known = [c for c in CLAUSES if c in self.cells]
        return known + sorted(c for c in self.cells if c not in CLAUSES)


def _kind(outcome: str) -> str:
    return next((kind for kind, outcomes in KINDS.items() if outcome in outcomes), "unsupported")


def reproduce(backend: str, nodeid: str, endpoint_url: str = "") -> str:
    """One command that runs the test again on the backend it failed on."""
    if backend == "endpoint":
        url = endpoint_url or "http://127.0.0.1:5000"
        return (
            f"fsconformance serve --port {url.rsplit(':', 1)[-1]} & "
            f"fsconformance run --backend=endpoint --endpoint-url {url} '{nodeid}'"
        )
    return f"fsconformance run --backend={backend} '{nodeid}'"


def build(runs: Mapping[str, Path], seconds: Mapping[str, float] | None = None) -> Scoreboard:
    """The scoreboard of JUnit XML runs, one per backend (the suites' tests only)."""
    board = Scoreboard(seconds=dict(seconds or {}))
    for backend, path in runs.items():
        try:
            cases = report_module.parse_junit(path)
        except (OSError, SyntaxError) as error:
            raise ScoreboardError(f"cannot read {path}: {error}") from None
        board.backends.append(backend)
        totals = board.totals.setdefault(backend, dict.fromkeys(KINDS, 0))
        gaps = board.gaps.setdefault(backend, [])
        for case in cases:
            clauses = (case["properties"].get("fsconformance.clauses") or [""])[0].split()
            if not case["nodeid"].startswith("suites/") or not clauses:
                continue  # a self-test, not a conformance test
            kind = _kind(case["outcome"])
            totals[kind] += 1
            for clause in clauses:
                counts = board.cells.setdefault(clause, {}).setdefault(
                    backend, dict.fromkeys(KINDS, 0)
                )
                counts[kind] += 1
            if kind == "fail":
                board.failures.append(
                    Failure(
                        backend,
                        case["nodeid"],
                        clauses,
                        case["message"],
                        reproduce(backend, case["nodeid"], board.endpoint_url),
                    )
                )
            elif kind == "gap":
                why = (case["properties"].get("fsconformance.expectation") or [""])[0]
                gaps.append((case["nodeid"], why or case["message"]))
    return board


def cell_text(counts: Mapping[str, int] | None) -> str:
    """``12 pass, 1 fail, 3 gap`` (zero counts left out), or a dash when nothing ran."""
    if not counts or not any(counts.values()):
        return "—"
    return ", ".join(
        f"{counts[k]} {k}" for k in ("pass", "fail", "gap", "unsupported") if counts[k]
    )


def cell_class(counts: Mapping[str, int] | None) -> str:
    if not counts or not any(counts.values()):
        return "none"
    for kind in ("fail", "gap", "pass"):
        if counts[kind]:
            return kind
    return "unsupported"


# -- Markdown -----------------------------------------------------------------------------


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def markdown_table(
    board: Scoreboard, backends: Sequence[str] | None = None, clause_link: str = ""
) -> str:
    """Totals and the clause x backend table, in Markdown.

    With ``clause_link`` (a page, as the docs page has ``contract.md``) each clause id links to
    its anchor there.
    """
    names = [b for b in (backends or board.backends) if b in board.backends]
    lines = [_md_row(["tests", *names]), "|---|" + "---|" * len(names)]
    for kind in KINDS:
        lines.append(_md_row([kind, *[str(board.totals[b][kind]) for b in names]]))
    lines += ["", _md_row(["clause", "title", *names]), "|---|---|" + "---|" * len(names)]
    for clause in board.clause_order():
        label = f"[{clause}]({clause_link}#{clause})" if clause_link else clause
        row = [label, CLAUSES.get(clause, "?")]
        row += [cell_text(board.cells[clause].get(b)) for b in names]
        lines.append(_md_row(row))
    return "\n".join(lines) + "\n"


def to_markdown(board: Scoreboard) -> str:
    lines = [
        "# Feature Store conformance scoreboard",
        "",
        "Each cell counts one clause's tests on one backend: pass, fail, gap (an expected "
        "failure listed in the backend's expectations file, with its reason) and unsupported.",
        "",
        markdown_table(board),
        "## Failing tests",
        "",
    ]
    if not board.failures:
        lines.append("None.")
    for failure in board.failures:
        message = f" — {failure.message}" if failure.message else ""
        lines.append(f"- **{failure.backend}** `{failure.nodeid}`{message}")
        lines.append(f"  reproduce: `{failure.command}`")
    lines += ["", "## Run times", ""]
    for backend in board.backends:
        if backend in board.seconds:
            lines.append(f"- {backend}: {board.seconds[backend]:.0f} s")
    return "\n".join(lines).rstrip("\n") + "\n"


# -- HTML ---------------------------------------------------------------------------------


def _template() -> Template:
    text = (
        resources.files("fsconformance.reporting")
        .joinpath("templates/scoreboard.html")
        .read_text("utf-8")
    )
    return Template(text)


def _clause_link(clause: str) -> str:
    """A known clause id links to its clause in the contract.html written beside the page."""
    from .contract_page import href

    text = html.escape(clause)
    return f'<a href="{href(clause)}">{text}</a>' if clause in CLAUSES else text


def to_html(board: Scoreboard) -> str:
    esc = html.escape
    anchors: dict[tuple[str, str], str] = {}
    failure_items = []
    for index, failure in enumerate(board.failures, start=1):
        anchor = f"failure-{index}"
        for clause in failure.clauses:
            anchors.setdefault((clause, failure.backend), anchor)
        failure_items.append(
            _FAILURE.substitute(
                anchor=anchor,
                backend=esc(failure.backend),
                nodeid=esc(failure.nodeid),
                message=esc(failure.message),
                command=esc(failure.command),
            )
        )
    rows = []
    for clause in board.clause_order():
        cells = []
        for backend in board.backends:
            counts = board.cells[clause].get(backend)
            text = esc(cell_text(counts))
            first = anchors.get((clause, backend))
            if first:
                text = f'<a href="#{first}">{text}</a>'
            cells.append(_CELL.substitute(css=cell_class(counts), text=text))
        rows.append(
            _ROW.substitute(
                clause=_clause_link(clause),
                title=esc(CLAUSES.get(clause, "?")),
                cells="".join(cells),
            )
        )
    totals = []
    for backend in board.backends:
        counts = board.totals[backend]
        took = f"{board.seconds[backend]:.0f} s" if backend in board.seconds else "—"
        numbers = "".join(f"<td>{counts[k]}</td>" for k in KINDS)
        totals.append(f"<tr><td>{esc(backend)}</td>{numbers}<td>{took}</td></tr>")
    gaps = []
    for backend in board.backends:
        entries = board.gaps.get(backend, [])
        if not entries:
            continue
        items = "".join(f"<li><code>{esc(test)}</code>: {esc(why)}</li>" for test, why in entries)
        gaps.append(
            f"<details><summary>{esc(backend)}: {len(entries)} expected gaps</summary>"
            f"<ul>{items}</ul></details>"
        )
    return _template().substitute(
        title="Feature Store conformance scoreboard",
        note=esc(
            "Each cell counts one clause's tests on one backend: pass, fail, gap (an expected "
            "failure from the backend's expectations file) and unsupported. Failing cells link "
            "to their first failure."
        ),
        totals="\n".join(totals),
        columns='<col class="backend">' * len(board.backends),
        headers="".join(f"<th>{esc(b)}</th>" for b in board.backends),
        rows="\n".join(rows),
        failures=(
            '<ol class="failures">' + "\n".join(failure_items) + "</ol>"
            if failure_items
            else "<p>None.</p>"
        ),
        gaps="\n".join(gaps) or "<p>None.</p>",
    )


def write(board: Scoreboard, out: Path) -> tuple[Path, Path]:
    """Write ``scoreboard.md`` and ``scoreboard.html`` into ``out``, with the ``contract.html``
    its clause ids link to; return the first two paths."""
    from . import contract_page

    out.mkdir(parents=True, exist_ok=True)
    try:
        contract_page.write(out)
    except OSError as error:
        raise ScoreboardError(str(error)) from None
    md, page = out / "scoreboard.md", out / "scoreboard.html"
    md.write_text(to_markdown(board), encoding="utf-8")
    page.write_text(to_html(board), encoding="utf-8")
    return md, page


# -- the docs page's table ----------------------------------------------------------------


def page_block(board: Scoreboard) -> str:
    """The marked block the docs page carries, clause ids linked to the contract page."""
    table = markdown_table(board, PAGE_BACKENDS, clause_link="contract.md")
    return f"{PAGE_BEGIN}\n{table}{PAGE_END}"


def page_table(text: str) -> str:
    """The page's current block between the markers ('' when the markers are missing)."""
    start, end = text.find(PAGE_BEGIN), text.find(PAGE_END)
    if start < 0 or end < start:
        return ""
    return text[start : end + len(PAGE_END)]


def _read_page(path: Path) -> tuple[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScoreboardError(f"{path}: {error.strerror or error}") from None
    current = page_table(text)
    if not current:
        raise ScoreboardError(f"{path}: no {PAGE_BEGIN} ... {PAGE_END} markers")
    return text, current


def update_page(path: Path, board: Scoreboard) -> bool:
    """Replace the page's block with this board's; return whether it changed."""
    text, current = _read_page(path)
    new = page_block(board)
    path.write_text(text.replace(current, new), encoding="utf-8")
    return current != new


def page_is_current(path: Path, board: Scoreboard) -> bool:
    """Whether the page's block is exactly what this board writes."""
    return _read_page(path)[1] == page_block(board)


# -- running the suites -------------------------------------------------------------------


@contextmanager
def local_serve(timeout: float = 30.0) -> Iterator[str]:
    """``fsconformance serve`` on a free loopback port for the duration; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fsconformance", "serve", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        url = ""
        assert process.stdout is not None
        while not url and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            match = _SERVE_LINE.match(line.strip())
            url = match.group(1) if match else ""
        if not url:
            raise ScoreboardError("fsconformance serve did not report a listening URL")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_suites(
    backend: str,
    junit: Path,
    *,
    workers: int = 2,
    extra: Sequence[str] = (),
    cwd: Path | None = None,
) -> float:
    """``fsconformance run --backend=...`` (the packaged suites) writing ``junit``; return its
    seconds.

    A run whose tests fail is a result; a run that could not start (a usage error, an internal
    error, nothing collected) raises ``ScoreboardError`` with pytest's last line.
    """
    command = [sys.executable, "-m", "fsconformance", "run", f"--backend={backend}", "-q"]
    command += [f"--junitxml={junit}", *extra]
    command += ["-n", str(workers)] if workers > 0 else ["-n", "0"]
    started = time.monotonic()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode not in (0, 1) or not junit.is_file():
        tail = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise ScoreboardError(f"pytest on {backend} exited {done.returncode}: {tail}")
    return time.monotonic() - started


def run(
    backends: Sequence[str],
    out: Path,
    *,
    workers: int = 2,
    extra: Sequence[str] = (),
    cwd: Path | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> Scoreboard:
    """Run the suites on each backend (``endpoint`` against a local serve) and build the board."""
    out.mkdir(parents=True, exist_ok=True)
    runs: dict[str, Path] = {}
    seconds: dict[str, float] = {}
    endpoint_url = ""
    for backend in backends:
        junit = (out / f"{backend}.xml").resolve()
        log(f"{backend}: fsconformance run --backend={backend} -n {workers} ...")
        if backend == "endpoint":
            with local_serve() as url:
                endpoint_url = url
                seconds[backend] = run_suites(
                    backend, junit, workers=workers, extra=[*extra, "--endpoint-url", url], cwd=cwd
                )
        else:
            seconds[backend] = run_suites(backend, junit, workers=workers, extra=extra, cwd=cwd)
        runs[backend] = junit
        log(f"{backend}: done in {seconds[backend]:.0f} s")
    board = build(runs, seconds)
    board.endpoint_url = endpoint_url
    for failure in board.failures:
        failure.command = reproduce(failure.backend, failure.nodeid, endpoint_url)
    return board


def parse_run_argument(text: str) -> tuple[str, Path]:
    """``BACKEND=PATH`` as ``--from-junit`` takes it."""
    backend, sep, path = text.partition("=")
    if not sep or not backend or not path:
        raise ScoreboardError(f"--from-junit {text!r}: expected BACKEND=PATH.xml")
    return backend, Path(path)


def describe(board: Scoreboard) -> list[str]:
    """One line per backend for the terminal."""
    lines = []
    for backend in board.backends:
        counts = board.totals[backend]
        took = f" in {board.seconds[backend]:.0f} s" if backend in board.seconds else ""
        lines.append(
            f"{backend}: {counts['pass']} passed, {counts['fail']} failed, "
            f"{counts['unsupported']} unsupported, {counts['gap']} expected gaps{took}"
        )
    return lines


__all__ = [
    "DEFAULT_BACKENDS",
    "Scoreboard",
    "ScoreboardError",
    "build",
    "run",
    "to_html",
    "to_markdown",
    "page_is_current",
    "update_page",
    "write",
]
