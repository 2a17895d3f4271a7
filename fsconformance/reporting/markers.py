"""Which suite tests carry which markers, found by reading ``suites/`` (no import, no backend).

The ledger counts the tests of each clause (``clause``, ``observes``) and the evidence page
lists the tests that check each public observation (``evidence``) from the same scan.
"""

from __future__ import annotations

import ast
from pathlib import Path


def _mark_name(node: ast.expr) -> str | None:
    """``pytest.mark.clause(...)`` -> ``clause``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        value = node.func.value
        if isinstance(value, ast.Attribute) and value.attr == "mark":
            return node.func.attr
    return None


def _string_args(call: ast.Call) -> list[str]:
    return [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def tests_by_marker(suites: Path, markers: dict[str, int | None]) -> dict[str, list[str]]:
    """Marker argument -> the tests (``suites/file.py::name``) whose markers name it.

    ``markers`` maps each marker name to how many of its leading string arguments count
    (``None`` for all of them): ``{"clause": None, "observes": 1}``.
    """
    found: dict[str, list[str]] = {}
    for path in sorted(suites.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if not node.name.startswith("test"):
                continue
            ids: set[str] = set()
            for decorator in node.decorator_list:
                name = _mark_name(decorator)
                if name in markers:
                    args = _string_args(decorator)  # type: ignore[arg-type]
                    ids.update(args[: markers[name]])
            test = f"{path.parent.name}/{path.name}::{node.name}"
            for argument in sorted(ids):
                found.setdefault(argument, []).append(test)
    return found
