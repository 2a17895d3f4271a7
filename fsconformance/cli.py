"""The ``fsconformance`` command line.

Subcommands:

* ``datagen``: write the synthetic datasets of the scenarios (``fixtures/``) into ``data/``, or
  with ``--check`` verify that the committed files equal the generator's output.

Each subcommand is a ``_cmd_<name>(args) -> int`` function registered in ``_build_parser``; more
subcommands are added the same way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _cmd_datagen(args: argparse.Namespace) -> int:
    from . import datagen

    out = Path(args.out)
    if args.check:
        stale = datagen.check(out)
        for name in stale:
            path = out / name
            problem = "missing" if not path.is_file() else "differs from the generator's output"
            print(f"{path}: {problem}", file=sys.stderr)
        if stale:
            print(
                f"{len(stale)} of {len(datagen.generate())} files out of date; "
                f"run 'fsconformance datagen --out {out}' to regenerate",
                file=sys.stderr,
            )
            return 1
        print(f"{out}: all {len(datagen.generate())} files match the generator")
        return 0
    for path in datagen.write(out):
        print(f"wrote {path}")
    return 0


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fsconformance",
        description="Executable conformance specification for Amazon SageMaker Feature Store.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    datagen = commands.add_parser(
        "datagen",
        help="generate the scenarios' synthetic datasets",
        description="Write the synthetic CSV datasets used by the scenarios in fixtures/.",
    )
    datagen.add_argument(
        "--out",
        default="data",
        metavar="DIR",
        help="directory to write into or check (default: data/ in the current directory)",
    )
    datagen.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and list every file that is missing or differs",
    )
    datagen.set_defaults(handler=_cmd_datagen)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error argparse already printed
        code = exit_.code
        return 0 if code is None else code if isinstance(code, int) else 2
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return int(handler(args))
