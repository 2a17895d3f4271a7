"""``fsconformance run [pytest options]``: the packaged conformance suites under pytest.

The suites, their scenarios and data, the expectations files and the contract come from the
installed package (``fsconformance.bundle``), so the command works from any directory and
judges any backend without a clone::

    fsconformance run --backend=moto -n 2
    fsconformance run --backend=endpoint --endpoint-url http://127.0.0.1:4566
    fsconformance run --backend=moto 'suites/test_create.py::test_names_within_the_pattern_are_accepted'

pytest runs with the package's own settings (``fsconformance/bundle/pytest.ini``) and its
root at the folder holding the suites, so node ids read ``suites/<file>::<test>`` as they do in
a checkout and the expectations files match them. Paths starting with ``suites/`` are taken
inside the package; every other option goes to pytest unchanged (``-k``, ``-x``, ``-n 2``,
``--junitxml``, ``--clauses``, ``--conformance-report``, ...).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from .. import bundle
from ..backends import BACKEND_NAMES

CONFORMANCE_PLUGIN = "fsconformance.harness.conformance"


def chosen_backend(args: Sequence[str]) -> str:
    """The backend the arguments (or ``FSCONFORMANCE_BACKEND``) name; ``moto`` by default."""
    name = os.environ.get("FSCONFORMANCE_BACKEND") or "moto"
    for index, arg in enumerate(args):
        if arg == "--backend" and index + 1 < len(args):
            name = args[index + 1]
        elif arg.startswith("--backend="):
            name = arg.partition("=")[2]
    return name


def pytest_arguments(args: Sequence[str], root: Path, inifile: Path) -> list[str]:
    """pytest's command line: the package's settings and root, the conformance plugin, the
    user's arguments (``suites/...`` paths resolved inside the package) and, when they name
    no suite path, the whole suites folder."""
    rewritten, named = [], False
    for arg in args:
        if (arg == "suites" or arg.startswith("suites/")) and not Path(arg).exists():
            rewritten.append(str(root / arg))
            named = True
        else:
            rewritten.append(arg)
    head = ["-c", str(inifile), "--rootdir", str(root), "-p", CONFORMANCE_PLUGIN]
    return head + rewritten + ([] if named else [str(root / "suites")])


def run(args: Sequence[str]) -> int:
    """Run the packaged suites; return pytest's exit code (2 and one line on bad input)."""
    name = chosen_backend(args)
    if name not in BACKEND_NAMES:
        print(
            f"fsconformance run: unknown backend {name!r}; choose one of "
            f"{', '.join(BACKEND_NAMES)}",
            file=sys.stderr,
        )
        return 2
    try:
        root = bundle.suites().parent
        ini = resources.files("fsconformance.bundle").joinpath("pytest.ini")
        with resources.as_file(ini) as inifile:
            if not inifile.is_file():
                raise bundle.BundleError(
                    f"fsconformance: {inifile}: no such file in the installed package"
                )
            # A fresh interpreter: pytest rewrites the asserts of plugin packages it imports
            # itself, which it cannot do for this one, already imported here.
            command = [sys.executable, "-m", "pytest", *pytest_arguments(args, root, inifile)]
            return subprocess.run(command).returncode
    except bundle.BundleError as error:
        print(f"fsconformance run: {error}", file=sys.stderr)
        return 2
