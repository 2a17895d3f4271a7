"""Public evidence of what real AWS did: the corpus ``docs/evidence.toml`` and its page.

Each observation names the contract clause it speaks to, what was observed (the value or the
message, quoted), where (a repository, path and commit, or a URL), when, and what kind of
evidence it is. The ledger (``fsconformance uncertain``) and the conformance report show them
per clause, apart from what a nightly run on AWS recorded; ``docs/evidence.md`` is generated
from the file::

    python -m fsconformance.reporting.evidence > docs/evidence.md

A malformed file is refused with one line naming the file and the entry.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import bundle
from ..contract import CLAUSES
from .markers import tests_by_marker

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: The kinds of evidence, as the page and the ledger name them.
KINDS: dict[str, str] = {
    "recorded-response": "recorded response",
    "aws-run-test": "AWS-run test",
    "client-code": "client code around a real error",
    "aws-documentation": "AWS documentation",
}
KIND_MEANINGS: dict[str, str] = {
    "recorded-response": "a response AWS sent, saved in an executed notebook, printed in a "
    "page, or pasted by a user who met it",
    "aws-run-test": "a test that passes only against real AWS (AWS's own integration tests, a "
    "provider's acceptance tests); it asserts the behaviour but records no response",
    "client-code": "code written to handle an error AWS really sent; the error's text is real, "
    "no response is recorded",
    "aws-documentation": "an AWS-authored sample, screenshot or code comment, with no saved output",
}
VERDICTS = ("confirms", "refines", "contradicts", "inconclusive")
EMULATION = ("follows", "differs", "not-applicable")

_ID = re.compile(r"E-\d{2,3}")
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_CLAUSE = re.compile(r"C-\d{3}")
_REQUIRED = ("id", "clause", "question", "observed", "kind", "date", "verdict", "summary")


class EvidenceError(ValueError):
    """The evidence file is malformed; the message is one line naming file and entry."""


def evidence_path() -> Path:
    """The corpus: ``FSCONFORMANCE_EVIDENCE``, else ``docs/evidence.toml`` beside the contract
    (the checkout's, or the installed package's copy)."""
    if os.environ.get("FSCONFORMANCE_EVIDENCE"):
        return Path(os.environ["FSCONFORMANCE_EVIDENCE"])
    return bundle.root() / bundle.EVIDENCE


@dataclass(frozen=True)
class Observation:
    """One thing AWS was seen to do."""

    id: str
    clause: str
    question: str
    observed: str
    kind: str
    date: str
    verdict: str
    summary: str
    settles: bool = False
    repository: str = ""
    path: str = ""
    commit: str = ""
    url: str = ""
    locator: str = ""
    emulation: str = "follows"
    emulation_note: str = ""

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def source(self) -> str:
        """Where it is, in one line."""
        if self.repository:
            return f"{self.repository} {self.path} at {self.commit[:8]}"
        return self.url

    @property
    def link(self) -> str:
        """A URL to the source at its commit."""
        if self.url:
            return self.url
        return f"https://github.com/{self.repository}/blob/{self.commit}/{self.path}"

    def describe(self) -> str:
        """The ledger's line: id, date and kind, then the value."""
        return f"{self.id} ({self.date}, {self.kind_label}): {self.observed}"


@dataclass(frozen=True)
class Choice:
    """A behaviour the evidence does not show, and what the emulation chose."""

    behaviour: str
    clauses: tuple[str, ...]
    why: str


@dataclass
class Corpus:
    observations: list[Observation] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)

    def by_clause(self) -> dict[str, list[Observation]]:
        found: dict[str, list[Observation]] = {}
        for observation in self.observations:
            found.setdefault(observation.clause, []).append(observation)
        return found

    def get(self, evidence_id: str) -> Observation | None:
        return next((o for o in self.observations if o.id == evidence_id), None)


def _observation(path: Path, index: int, entry: Any) -> Observation:
    where = f"{path}: observation {index + 1}"
    if not isinstance(entry, dict):
        raise EvidenceError(f"{where}: not a table")
    if "id" in entry:
        where = f"{path}: {entry['id']}"
    missing = [name for name in _REQUIRED if not str(entry.get(name, "")).strip()]
    if missing:
        raise EvidenceError(f"{where}: missing {', '.join(missing)}")
    known = {f.name for f in Observation.__dataclass_fields__.values()}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise EvidenceError(f"{where}: unknown field {', '.join(unknown)}")
    if not _ID.fullmatch(entry["id"]):
        raise EvidenceError(f"{where}: the id must look like E-01")
    if not (_CLAUSE.fullmatch(entry["clause"]) and entry["clause"] in CLAUSES):
        raise EvidenceError(f"{where}: {entry['clause']!r} is not a clause of the contract")
    if entry["kind"] not in KINDS:
        raise EvidenceError(f"{where}: kind {entry['kind']!r} is not one of {', '.join(KINDS)}")
    if not _DATE.fullmatch(str(entry["date"])):
        raise EvidenceError(f"{where}: date {entry['date']!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    if entry["verdict"] not in VERDICTS:
        raise EvidenceError(f"{where}: verdict {entry['verdict']!r} is not one of {VERDICTS}")
    if entry.get("emulation", "follows") not in EMULATION:
        raise EvidenceError(f"{where}: emulation {entry['emulation']!r} is not one of {EMULATION}")
    if entry.get("emulation") == "differs" and not entry.get("emulation_note"):
        raise EvidenceError(f"{where}: emulation = differs needs an emulation_note saying why")
    if not entry.get("url") and not all(entry.get(k) for k in ("repository", "path", "commit")):
        raise EvidenceError(f"{where}: give url, or repository, path and commit")
    if not isinstance(entry.get("settles", False), bool):
        raise EvidenceError(f"{where}: settles must be true or false")
    text = {k: str(v) for k, v in entry.items() if k != "settles"}
    return Observation(
        id=text["id"],
        clause=text["clause"],
        question=text["question"],
        observed=text["observed"],
        kind=text["kind"],
        date=text["date"],
        verdict=text["verdict"],
        summary=text["summary"],
        settles=bool(entry.get("settles", False)),
        repository=text.get("repository", ""),
        path=text.get("path", ""),
        commit=text.get("commit", ""),
        url=text.get("url", ""),
        locator=text.get("locator", ""),
        emulation=text.get("emulation", "follows"),
        emulation_note=text.get("emulation_note", ""),
    )


def _choice(path: Path, index: int, entry: Any) -> Choice:
    where = f"{path}: choice {index + 1}"
    if not isinstance(entry, dict) or not entry.get("behaviour") or not entry.get("why"):
        raise EvidenceError(f"{where}: needs behaviour and why")
    clauses = tuple(entry.get("clauses") or ())
    for clause in clauses:
        if clause not in CLAUSES:
            raise EvidenceError(f"{where}: {clause!r} is not a clause of the contract")
    return Choice(str(entry["behaviour"]), clauses, str(entry["why"]))


def load(path: Path | None = None) -> Corpus:
    """The corpus in ``path`` (default ``evidence_path()``); a missing file holds nothing."""
    path = path or evidence_path()
    if not path.is_file():
        return Corpus()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise EvidenceError(f"{path}: not valid TOML: {error}") from None
    unknown = sorted(set(data) - {"observation", "choice"})
    if unknown:
        raise EvidenceError(f"{path}: unknown table {', '.join(unknown)}")
    observations = [_observation(path, i, e) for i, e in enumerate(data.get("observation", []))]
    seen: set[str] = set()
    for observation in observations:
        if observation.id in seen:
            raise EvidenceError(f"{path}: {observation.id} appears twice")
        seen.add(observation.id)
    choices = [_choice(path, i, e) for i, e in enumerate(data.get("choice", []))]
    return Corpus(observations, choices)


def tests_by_evidence(suites: Path | None = None) -> dict[str, list[str]]:
    """Evidence id -> the suite tests whose ``evidence`` marker names it (a static scan)."""
    return tests_by_marker(suites or bundle.root() / "suites", {"evidence": None})


# -- the page ----------------------------------------------------------------------------------

_INTRO = """\
No AWS account records for this project yet, so the contract's open questions were taken to
what AWS was seen to do in public: executed notebooks with their saved outputs, AWS's and a
provider's tests that pass only against AWS, client code written around real errors, and
AWS's own samples. Each entry below is one observation: the clause it speaks to, the value or
message observed (quoted as the source shows it), where and when, and what kind of evidence it
is. An entry that answers a clause's open question *settles* it: the contract then drops its
UNCERTAIN there and cites the entry. `fsconformance uncertain` and the conformance report show
the entries per clause, apart from what a nightly run on AWS recorded.

The corpus is `docs/evidence.toml`; this page is generated from it
(`python -m fsconformance.reporting.evidence > docs/evidence.md`) and a self-test keeps the two
in step. A suite test that checks an entry says so with `@pytest.mark.evidence("E-nn")`.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(corpus: Corpus, tests: dict[str, list[str]] | None = None) -> str:
    """``docs/evidence.md``: the entries by clause, then where the emulation differs on
    purpose and what it chose where the evidence is silent."""
    tests = tests or {}
    lines = ["# What AWS was seen to do: public evidence", "", _INTRO, "## Kinds of evidence", ""]
    lines += ["| kind | what it is |", "|---|---|"]
    lines += [f"| {KINDS[k]} | {KIND_MEANINGS[k]} |" for k in KINDS]
    counts = {k: sum(1 for o in corpus.observations if o.kind == k) for k in KINDS}
    settled = sorted({o.clause for o in corpus.observations if o.settles})
    lines += [
        "",
        f"{len(corpus.observations)} observations over "
        f"{len(corpus.by_clause())} clauses ("
        + ", ".join(f"{n} {KINDS[k]}" for k, n in counts.items() if n)
        + f"); they settle a question of {', '.join(settled) or 'no clause'}.",
        "",
        "## Observations by clause",
        "",
    ]
    order = list(CLAUSES)
    for clause in sorted(corpus.by_clause(), key=order.index):
        lines += [f"### {clause} {CLAUSES[clause]}", ""]
        for o in corpus.by_clause()[clause]:
            settles = "; settles the question" if o.settles else ""
            lines.append(f"**{o.id}**: {o.kind_label}, {o.date}, {o.verdict}{settles}.")
            lines.append("")
            lines.append(f"- Question: {o.question}")
            lines.append(f"- Observed: `{o.observed}`")
            locator = f" ({o.locator})" if o.locator else ""
            lines.append(f"- Source: [{o.source}]({o.link}){locator}")
            lines.append(f"- What it shows: {o.summary}")
            emulation = {
                "follows": "follows it",
                "differs": "differs on purpose",
                "not-applicable": "nothing to emulate",
            }[o.emulation]
            note = f": {o.emulation_note}" if o.emulation_note else ""
            lines.append(f"- The emulation: {emulation}{note}")
            checked = tests.get(o.id, [])
            if checked:
                lines.append("- Checked by: " + ", ".join(f"`{t}`" for t in checked))
            lines.append("")
    lines += ["## Where the emulation differs from the evidence, on purpose", ""]
    differing = [o for o in corpus.observations if o.emulation == "differs"]
    lines += [
        "| entry | clause | observed | what the emulation does, and why |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {o.id} | {o.clause} | {_cell(o.observed)} | {_cell(o.emulation_note)} |"
        for o in differing
    ]
    lines += ["", "## Where the evidence is silent: the emulation's choices", ""]
    lines += ["| clauses | behaviour | why |", "|---|---|---|"]
    lines += [
        f"| {', '.join(c.clauses)} | {_cell(c.behaviour)} | {_cell(c.why)} |"
        for c in corpus.choices
    ]
    return "\n".join(lines) + "\n"


def check_markers(corpus: Corpus, tests: dict[str, list[str]]) -> list[str]:
    """Problems with the suites' ``evidence`` markers: ids the corpus does not have."""
    return [
        f"{test}: evidence {evidence_id} is not in the corpus"
        for evidence_id, names in sorted(tests.items())
        if corpus.get(evidence_id) is None
        for test in names
    ]


def main(argv: Iterable[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0]) if args else None
    try:
        corpus = load(path)
    except EvidenceError as error:
        print(f"fsconformance evidence: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(render_markdown(corpus, tests_by_evidence()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
