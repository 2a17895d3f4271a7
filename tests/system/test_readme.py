"""The README stays true: its example runs as a user would run it, and its links resolve.

The example is the README's Python block that starts with ``# test_pipeline.py``; it is saved
under that name in an empty directory outside the checkout and run with pytest in a child
process, in an environment without the project's own variables, as a user's first try would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO

README = REPO / "README.md"
EXAMPLE_NAME = "test_pipeline.py"
# The README is read in two minutes; everything longer belongs in docs/.
MAX_LINES = 250


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.M | re.S)


def readme_example() -> str:
    blocks = [
        b
        for b in _python_blocks(README.read_text(encoding="utf-8"))
        if b.startswith(f"# {EXAMPLE_NAME}")
    ]
    assert len(blocks) == 1, f"README.md needs exactly one python block starting '# {EXAMPLE_NAME}'"
    return blocks[0]


def test_the_readme_example_passes_as_a_users_own_test(tmp_path: Path) -> None:
    example = readme_example()
    # A complete example: no elided arguments or steps for the reader to guess.
    assert not re.search(r"\(\.\.\.\)|^\s*\.\.\.", example, flags=re.M)
    (tmp_path / EXAMPLE_NAME).write_text(example, encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FSCONFORMANCE_", "PYTEST_", "AWS_"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", EXAMPLE_NAME],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"^1 passed\b", output.splitlines()[-1]), output


def test_the_readme_is_short_and_its_links_resolve() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_LINES
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if "://" not in t]
    assert local, "README.md links to no page of the docs"
    missing = [t for t in local if not (REPO / t).exists()]
    assert not missing, f"README.md links to missing files: {missing}"
