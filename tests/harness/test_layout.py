"""The self-tests' own shape: each in the folder of what it tests, none importing another.

What tests share lives in helper modules (``tests/helpers.py``, ``tests/mutants.py``,
``tests/system/restarts.py``...) and fixtures in conftest.py, which pytest loads itself.
"""

from __future__ import annotations

import ast

from tests.helpers import REPO

TESTS = REPO / "tests"
FOLDERS = {"model", "emulator", "harness", "backends", "system"}


def test_every_test_module_is_in_the_folder_of_what_it_tests() -> None:
    stray = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("test_*.py")
        if path.relative_to(TESTS).parts[0] not in FOLDERS
    ]
    assert stray == []


def test_no_module_imports_a_test_module_or_a_conftest() -> None:
    offenders = []
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [part for alias in node.names for part in alias.name.split(".")]
            elif isinstance(node, ast.ImportFrom):
                names = [*(node.module or "").split("."), *(alias.name for alias in node.names)]
            else:
                continue
            if any(name.startswith("test_") or name == "conftest" for name in names):
                offenders.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert offenders == []
