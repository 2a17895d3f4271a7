"""The ledger of UNCERTAIN clauses: what the contract leaves open, which tests touch it, and
what was observed of AWS: by a recording, and in public evidence.

A clause is UNCERTAIN when its text says so, when an UNCERTAIN sentence outside the clauses
(section 1) names it, or when the contract's open-questions table (section 6) lists it.
Tests are found by a static scan of ``suites/`` for ``clause(...)`` and ``observes(...)``
markers, so the ledger needs no backend. Observations come from snapshot files; one recorded
through ``--endpoint-url`` (a local emulation) is shown but does not count as observed on AWS.
Public evidence (``docs/evidence.toml``) is shown per clause apart from them; a clause whose
evidence settled every question it had is listed as settled.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import bundle
from . import evidence as public
from .markers import tests_by_marker

_CLAUSE_START = re.compile(r"(?m)^\*\*(C-\d{3})\s+(.*?)\*\*")
_HEADING = re.compile(r"(?m)^#{2,3} ")
_SENTENCE = re.compile(r"(?<=[.;:])\s+(?=[A-Z(*`])")
_ID = re.compile(r"C-\d{3}")


def contract_path() -> Path:
    """The contract: ``FSCONFORMANCE_CONTRACT``, else ``docs/contract.md`` beside the suites
    (the checkout's, or the installed package's copy)."""
    if os.environ.get("FSCONFORMANCE_CONTRACT"):
        return Path(os.environ["FSCONFORMANCE_CONTRACT"])
    return bundle.root() / bundle.CONTRACT


@dataclass
class Observation:
    clause: str
    what: str
    value: Any
    recorded: str
    region: str
    target: str  # "aws", or "endpoint" for a recording through --endpoint-url
    test: str

    @property
    def on_aws(self) -> bool:
        return self.target == "aws"

    def describe(self) -> str:
        where = self.region if self.on_aws else f"{self.region}, local endpoint, not AWS"
        return f"{self.what}: {json.dumps(self.value)} ({self.recorded}, {where})"


@dataclass
class UncertainClause:
    id: str
    title: str
    spots: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    evidence: list[public.Observation] = field(default_factory=list)

    @property
    def observed_on_aws(self) -> list[Observation]:
        return [o for o in self.observations if o.on_aws]

    @property
    def settled(self) -> bool:
        """No UNCERTAIN left in the contract; listed for its public evidence only."""
        return not self.spots

    @property
    def settled_by_evidence(self) -> bool:
        """Settled, and an entry of the public evidence is what settled it."""
        return self.settled and any(entry.settles for entry in self.evidence)


def _clause_blocks(text: str) -> dict[str, tuple[str, str]]:
    """Clause id -> (title, text up to the next clause or heading)."""
    blocks: dict[str, tuple[str, str]] = {}
    starts = list(_CLAUSE_START.finditer(text))
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        body = text[match.end() : end]
        heading = _HEADING.search(body)
        if heading:
            body = body[: heading.start()]
        blocks.setdefault(match[1], (match[2].rstrip("."), body))
    return blocks


def uncertain_clauses(text: str) -> dict[str, UncertainClause]:
    """Every UNCERTAIN clause of the contract ``text``, in the contract's order."""
    blocks = _clause_blocks(text)
    found: dict[str, UncertainClause] = {}

    def entry(cid: str) -> UncertainClause:
        title = blocks.get(cid, ("?", ""))[0]
        return found.setdefault(cid, UncertainClause(cid, title))

    for cid, (_, body) in blocks.items():
        for line in body.splitlines():
            if "UNCERTAIN" not in line:
                continue
            if re.match(r"\s*- Confidence:", line):
                entry(cid)  # the clause's confidence says so; its sentences say where
                continue
            for sentence in _SENTENCE.split(line.strip().lstrip("- ")):
                if "UNCERTAIN" in sentence:
                    entry(cid).spots.append(sentence.strip())
    # Section 1 sentences that name the clause they belong to ("see C-004").
    section1 = text[: text.find("## 2.")] if "## 2." in text else ""
    for line in section1.splitlines():
        if "UNCERTAIN" in line:
            for cid in _ID.findall(line):
                if cid in blocks:
                    entry(cid).spots.append(line.strip())
    # Section 6, the open questions: | U-n | question | why | clauses |
    start = text.find("## 6.")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        for row in text[start : end if end > 0 else None].splitlines():
            cells = [c.strip() for c in row.strip().strip("|").split("|")]
            if len(cells) >= 4 and re.fullmatch(r"U-\d+", cells[0]):
                for cid in _ID.findall(cells[-1]):
                    if cid in blocks:
                        entry(cid).spots.append(f"open question {cells[0]}: {cells[1]}")
    order = list(blocks)
    return {cid: found[cid] for cid in sorted(found, key=order.index)}


# -- tests, by a static scan ----------------------------------------------------------------


def tests_by_clause(suites: Path) -> dict[str, list[str]]:
    """Clause id -> the tests (``suites/file.py::name``) whose markers name it."""
    return tests_by_marker(suites, {"clause": None, "observes": 1})


# -- observations, from snapshot files -------------------------------------------------------


def observations(directory: Path) -> list[Observation]:
    """Every observation in a snapshot directory (unreadable files are skipped here; replay
    is where they fail)."""
    found: list[Observation] = []
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*/*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for item in document.get("observations") or []:
            found.append(
                Observation(
                    clause=str(item.get("clause")),
                    what=str(item.get("what")),
                    value=item.get("value"),
                    recorded=str(document.get("recorded", "?")),
                    region=str(document.get("region", "?")),
                    target=str(document.get("target", "aws")),
                    test=str(document.get("nodeid", path.name)),
                )
            )
    return found


def build(
    contract: Path | None = None,
    suites: Path | None = None,
    snapshots: Path | None = None,
    evidence: Path | None = None,
) -> dict[str, UncertainClause]:
    """The ledger: every UNCERTAIN clause, then (in the contract's order) every clause whose
    public evidence settled it. Raises ``evidence.EvidenceError`` for a malformed corpus."""
    text = (contract or contract_path()).read_text(encoding="utf-8")
    ledger = uncertain_clauses(text)
    blocks = _clause_blocks(text)
    corpus = public.load(evidence)
    for cid, entries in corpus.by_clause().items():
        if cid in ledger:
            ledger[cid].evidence = list(entries)
        elif cid in blocks:
            ledger[cid] = UncertainClause(cid, blocks[cid][0], evidence=list(entries))
    order = list(blocks)
    ledger = {cid: ledger[cid] for cid in sorted(ledger, key=order.index)}
    tests = tests_by_clause(suites or bundle.root() / "suites")
    for cid, clause in ledger.items():
        clause.tests = sorted(tests.get(cid, []))
    for observation in observations(snapshots or bundle.root() / "snapshots"):
        touched = ledger.get(observation.clause)
        if touched is not None and not any(
            (o.what, o.value, o.recorded, o.region, o.target)
            == (
                observation.what,
                observation.value,
                observation.recorded,
                observation.region,
                observation.target,
            )
            for o in touched.observations
        ):  # parametrised tests observe the same answer once each
            touched.observations.append(observation)
    return ledger


def observation_cell(clause: UncertainClause | None) -> str:
    """The report's column: what AWS answered, or that nobody has looked yet."""
    if clause is None or clause.settled:
        return ""
    if clause.observed_on_aws:
        return "; ".join(o.describe() for o in clause.observed_on_aws)
    return "not yet observed"


def evidence_cell(clause: UncertainClause | None) -> str:
    """The report's column of public evidence: each entry's id, date and kind."""
    if clause is None:
        return ""
    return "; ".join(f"{e.id} ({e.date}, {e.kind_label})" for e in clause.evidence)


def render(ledger: dict[str, UncertainClause], verbose: bool = False) -> str:
    lines = []
    for clause in ledger.values():
        lines.append(f"{clause.id} {clause.title}")
        if clause.settled:
            status = (
                "settled by public evidence"
                if clause.settled_by_evidence
                else "not UNCERTAIN in the contract"
            )
            lines.append(f"  {status}; tests: {len(clause.tests)}")
        else:
            lines.append(f"  uncertain: {len(clause.spots)} spot(s); tests: {len(clause.tests)}")
        if verbose:
            lines += [f"    - {spot}" for spot in clause.spots]
            lines += [f"    test {test}" for test in clause.tests]
        if clause.observations:
            for observation in clause.observations:
                lines.append(f"  observed {observation.describe()}")
        if not clause.observed_on_aws and not clause.settled:
            lines.append(
                "  not yet observed on AWS" if clause.observations else "  not yet observed"
            )
        for entry in clause.evidence:
            settles = ", settles it" if entry.settles else ""
            lines.append(f"  observed in public evidence {entry.describe()}{settles}")
            if verbose:
                lines.append(f"    source {entry.source}")
    uncertain = [c for c in ledger.values() if not c.settled]
    touched = sum(1 for c in uncertain if c.tests)
    observed = sum(1 for c in uncertain if c.observed_on_aws)
    evidenced = sum(1 for c in uncertain if c.evidence)
    settled = [c.id for c in ledger.values() if c.settled_by_evidence]
    lines.append(
        f"{len(uncertain)} UNCERTAIN clauses: {touched} touched by tests, {observed} observed "
        f"on AWS, {evidenced} observed in public evidence"
    )
    lines.append(
        f"{len(settled)} clauses settled by public evidence"
        + (f": {', '.join(settled)}" if settled else "")
    )
    return "\n".join(lines) + "\n"


# -- the conformance report's view -----------------------------------------------------------


def load_for_report(snapshots: Path | None) -> dict[str, UncertainClause]:
    """The ledger for the report, or an empty one when the contract or the evidence cannot
    be read."""
    try:
        return build(snapshots=snapshots)
    except (OSError, public.EvidenceError):
        return {}


def contradictions(
    observed: dict[tuple[str, str], dict[str, Any]], ledger: dict[str, UncertainClause]
) -> list[str]:
    """Where a run observed something other than what the recording on AWS observed.

    ``observed`` maps (clause, what) to {cell: value} from the runs' JUnit properties.
    """
    lines = []
    for (cid, what), cells in sorted(observed.items()):
        clause = ledger.get(cid)
        recorded = [o for o in (clause.observed_on_aws if clause else []) if o.what == what]
        if not recorded:
            continue
        truth = recorded[-1]
        for cell, value in sorted(cells.items()):
            if value != truth.value:
                lines.append(
                    f"{cid} {what!r}: AWS answered {json.dumps(truth.value)} "
                    f"({truth.recorded}, {truth.region}); {cell} answers {json.dumps(value)}"
                )
    return lines
