"""The contract as one HTML page beside a report or a scoreboard, so that every clause id on
those pages links to its clause: ``contract.html#C-nnn`` (each clause of ``docs/contract.md``
carries ``<a id="C-nnn"></a>``).

The page is rendered from the contract the package carries (or ``FSCONFORMANCE_CONTRACT``), so
the links work offline and always show the text the run was judged against.
"""

from __future__ import annotations

import html
from pathlib import Path

import markdown

from .ledger import contract_path

PAGE = "contract.html"
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:60em;color:#222}"
    "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25em .5em;"
    "vertical-align:top}code{font-size:90%}:target+strong{background:#fff3cd}"
)


def href(clause: str) -> str:
    """Where a clause id links from a page written beside ``contract.html``."""
    return f"{PAGE}#{clause}"


def render(text: str) -> str:
    body = markdown.markdown(text, extensions=["tables", "fenced_code"])
    title = "Feature Store conformance contract"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def write(out: Path) -> Path:
    """Write ``contract.html`` into ``out``; return its path. A missing contract raises
    ``FileNotFoundError`` naming it."""
    source = contract_path()
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such file (the contract the pages link to)")
    page = out / PAGE
    page.write_text(render(source.read_text(encoding="utf-8")), encoding="utf-8")
    return page
