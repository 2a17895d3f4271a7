"""The ``fsconformance`` command line.

Subcommands:

* ``run``: the packaged conformance suites under pytest, from any directory.
* ``serve``: moto plus the emulation over HTTP on a loopback address.
* ``sweep``: delete feature groups fsconformance tagged and left behind (dry run by default).
* ``report``: the conformance report (Markdown and HTML) from JUnit XML runs.
* ``expectations``: a proposed expectations file from a run's failures.
* ``scoreboard``: the suites on several backends, side by side (Markdown and HTML).
* ``uncertain``: the contract's UNCERTAIN clauses, the tests touching them, what was observed
  (recorded on AWS, and in public evidence).
* ``drift``: what changed in the installed botocore models since the tested set.
* ``spark-conf``: the Spark and Hadoop settings for Spark jobs against a served emulation.
* ``spark-jars``: the S3A jars (``hadoop-aws`` and the AWS SDK bundle) into a directory.
* ``datagen``: write the synthetic datasets of the scenarios (``fixtures/``) into ``data/``, or
  with ``--check`` verify that the committed files equal the generator's output.

Each subcommand is a ``_cmd_<name>(args) -> int`` function registered in ``_build_parser``; more
subcommands are added the same way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _cmd_run(pytest_args: list[str]) -> int:
    from .harness import runner

    return runner.run(pytest_args)


def _add_run(commands: Any) -> None:
    # Every argument after ``run`` goes to pytest as it is (main() routes it there), so the
    # parser only documents the command.
    commands.add_parser(
        "run",
        help="run the packaged conformance suites (pytest options follow)",
        description="Run the conformance suites installed with the package under pytest, from "
        "any directory: fsconformance run --backend=endpoint --endpoint-url "
        "http://127.0.0.1:4566. Every argument after 'run' is a pytest option; paths "
        "starting with suites/ are taken inside the package.",
    )


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


def _cmd_serve(args: argparse.Namespace) -> int:
    import logging
    import signal
    import time

    from .emulator.transports.journal import JournalError
    from .emulator.transports.wsgi import EmulatorServer

    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    if not args.debug:  # moto and botocore are chatty; only our request lines at debug level
        logging.getLogger("fsconformance.server").setLevel(logging.INFO)
    else:
        for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "moto"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    context = None
    if args.tls:
        from .emulator.transports import tls

        files = tls.ensure(tls.default_directory(args.data_dir))
        context = tls.server_context(files)
    try:
        server = EmulatorServer(
            args.host,
            args.port,
            cors_origins=args.cors_origin,
            data_dir=args.data_dir,
            ssl_context=context,
        )
        url = server.start()
    except JournalError as error:  # one line naming the file: a newer format, a lock, a link
        print(f"fsconformance serve: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(
            f"fsconformance serve: cannot listen on {args.host}:{args.port}: {error}",
            file=sys.stderr,
        )
        return 1
    stopping: list[int] = []

    def stop(signum: int, frame: object) -> None:
        # No lock here: the handler runs on the main thread between two of its bytecodes,
        # possibly inside a lock that thread holds, and would wait for it forever (an
        # Event's set() in here deadlocked a wait() it interrupted).
        stopping.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    for notice in server.notices:  # what the data directory held: restored, set aside
        print(f"fsconformance serve: {notice}", file=sys.stderr, flush=True)
    if args.tls:
        print(f"fsconformance serve: CA bundle {files.ca_bundle}", flush=True)
        print(f"fsconformance serve: Java trust store {files.truststore}", flush=True)
    print(f"fsconformance serve: listening on {url}", flush=True)
    try:
        while not stopping:
            time.sleep(0.2)
    finally:
        written = server.shutdown()  # writes every buffered offline row before returning
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"fsconformance serve: stopped; {written} offline rows written", flush=True)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .backends.sweep import parse_age, sweep

    try:
        older_than = parse_age(args.older_than)
    except ValueError as error:
        print(f"fsconformance sweep: {error}", file=sys.stderr)
        return 2
    return sweep(
        region=args.region,
        profile=args.profile,
        endpoint_url=args.endpoint_url,
        older_than=older_than,
        apply=args.apply,
        out=sys.stdout,
    )


def _cmd_report(args: argparse.Namespace) -> int:
    from .reporting import report

    paths = [Path(p) for p in args.runs]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"fsconformance report: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        snapshots = Path(args.snapshots) if args.snapshots else None
        md, page = report.write(paths, Path(args.out), snapshots)
    except Exception as error:  # a malformed XML file: one line naming it
        print(f"fsconformance report: cannot read the runs: {error}", file=sys.stderr)
        return 2
    print(f"wrote {md}\nwrote {page}")
    return 0


def _cmd_expectations(args: argparse.Namespace) -> int:
    from .harness import expectations
    from .reporting import report

    source = Path(args.from_junit)
    if not source.is_file():
        print(f"fsconformance expectations: no such file: {source}", file=sys.stderr)
        return 2
    try:
        existing_path = expectations.default_path(_expectations_root(args.root), args.backend)
        existing = expectations.load(existing_path)
        cases = report.parse_junit(source)
    except Exception as error:
        print(f"fsconformance expectations: {error}", file=sys.stderr)
        return 2
    ran = [
        c
        for c in cases
        if c["properties"].get("fsconformance.backend", [args.backend])[0] == args.backend
    ]
    sys.stdout.write(expectations.propose(ran, existing, args.backend, source.name))
    return 0


def _expectations_root(root: str | None) -> Path:
    """``--root``, else the folder holding the package's expectations files (the checkout in
    an editable install)."""
    from . import bundle

    return Path(root) if root else bundle.root()


def _cmd_scoreboard(args: argparse.Namespace) -> int:
    from .reporting import scoreboard

    try:
        if args.from_junit:
            runs = dict(scoreboard.parse_run_argument(text) for text in args.from_junit)
            missing = [str(p) for p in runs.values() if not p.is_file()]
            if missing:
                raise scoreboard.ScoreboardError(f"no such file: {', '.join(missing)}")
            board = scoreboard.build(runs)
        else:
            backends = [b.strip() for b in args.backends.split(",") if b.strip()]
            extra = ["--clauses", args.clauses] if args.clauses else []
            board = scoreboard.run(
                backends,
                Path(args.out),
                workers=args.workers,
                extra=extra,
                log=lambda line: print(line, file=sys.stderr, flush=True),
            )
        md, page = scoreboard.write(board, Path(args.out))
        print("\n".join(scoreboard.describe(board)))
        print(f"wrote {md}\nwrote {page}")
        if args.page:
            changed = scoreboard.update_page(Path(args.page), board)
            print(f"{args.page}: table {'updated' if changed else 'already current'}")
        if args.check_page:
            if not scoreboard.page_is_current(Path(args.check_page), board):
                print(
                    f"fsconformance scoreboard: {args.check_page}'s table differs from this "
                    f"run's; run 'fsconformance scoreboard --page {args.check_page}'",
                    file=sys.stderr,
                )
                return 1
            print(f"{args.check_page}: table matches this run")
    except scoreboard.ScoreboardError as error:
        print(f"fsconformance scoreboard: {error}", file=sys.stderr)
        return 2
    return 0


def _cmd_uncertain(args: argparse.Namespace) -> int:
    from .bundle import BundleError
    from .reporting import ledger
    from .reporting.evidence import EvidenceError

    try:
        contract = Path(args.contract) if args.contract else ledger.contract_path()
        if not contract.is_file():
            print(
                f"fsconformance uncertain: {contract}: no such file (set FSCONFORMANCE_CONTRACT "
                "or pass --contract)",
                file=sys.stderr,
            )
            return 2
        built = ledger.build(
            contract,
            Path(args.suites) if args.suites else None,
            Path(args.snapshots) if args.snapshots else None,
            Path(args.evidence) if args.evidence else None,
        )
    except (BundleError, EvidenceError) as error:
        print(f"fsconformance uncertain: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(ledger.render(built, verbose=args.verbose))
    return 0


def _cmd_drift(args: argparse.Namespace) -> int:
    import json

    from . import drift

    if args.write:
        drift.write(Path(args.write), drift.digest())
        print(f"wrote {args.write}")
        return 0
    try:
        before = (
            json.loads(Path(args.against).read_text(encoding="utf-8"))
            if args.against
            else drift.tested()
        )
    except (OSError, ValueError) as error:
        source = args.against or f"the packaged {drift.TESTED_MODELS}"
        print(f"fsconformance drift: cannot read {source}: {error}", file=sys.stderr)
        return 2
    after = drift.digest(tuple(before["services"]))
    for line in drift.report(before, after):
        print(line)
    return 1 if args.check and drift.changes(before, after) else 0


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fsconformance",
        description="Executable conformance specification for Amazon SageMaker Feature Store.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(commands)

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

    serve = commands.add_parser(
        "serve",
        help="serve moto plus the Feature Store emulation over HTTP on 127.0.0.1",
        description="Serve moto with the Feature Store emulation in front of it, on a loopback "
        "address only. Prints one line with the URL when ready; SIGINT or SIGTERM stop it after "
        "writing every buffered offline row.",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="loopback address to bind (default 127.0.0.1; other addresses are refused)",
    )
    serve.add_argument("--port", type=int, default=5000, help="port, 0 for a free one (5000)")
    serve.add_argument("--debug", action="store_true", help="log one line per request")
    serve.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep every accepted write in DIR/journal.log and restore it on the next start, "
        "even after SIGKILL (docs/durability.md); without it everything is in memory and "
        "gone when the process ends",
    )
    serve.add_argument(
        "--tls",
        action="store_true",
        help="HTTPS on the same port, with a certificate made on the first start and kept in "
        "DIR/tls (or ~/.config/fsconformance/tls); prints the CA bundle to trust "
        "(AWS_CA_BUNDLE) and a Java trust store",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin (e.g. http://localhost:3000) given cross-origin access; "
        "repeatable; none by default",
    )
    serve.set_defaults(handler=_cmd_serve)

    sweep = commands.add_parser(
        "sweep",
        help="delete feature groups this tool created and left behind",
        description="List feature groups tagged by fsconformance whose creation is older than "
        "a limit, with their offline-store S3 prefix and Glue table; with --apply, delete them. "
        "Groups without the tags are never touched, whatever their name.",
    )
    sweep.add_argument("--older-than", default="6h", help="age limit: 90m, 6h, 2d (default 6h)")
    sweep.add_argument("--apply", action="store_true", help="delete (default: only list)")
    sweep.add_argument("--region", default=None, help="region (default: the profile's)")
    sweep.add_argument("--profile", default=None, help="AWS profile to use")
    sweep.add_argument("--endpoint-url", default=None, help="endpoint override (tests, CI)")
    sweep.set_defaults(handler=_cmd_sweep)

    report = commands.add_parser(
        "report",
        help="write the conformance report from JUnit XML runs",
        description="Read JUnit XML files (pytest --junitxml) and write conformance.md and "
        "conformance.html: per clause, the outcome on each backend and boto3 version.",
    )
    report.add_argument("runs", nargs="+", metavar="RUN.xml", help="JUnit XML of a pytest run")
    report.add_argument("--out", default="reports", metavar="DIR", help="default: reports/")
    report.add_argument(
        "--snapshots", metavar="DIR", help="recorded observations (default: snapshots/)"
    )
    report.set_defaults(handler=_cmd_report)

    uncertain = commands.add_parser(
        "uncertain",
        help="list the contract's UNCERTAIN clauses, their tests and what was observed",
        description="Every UNCERTAIN clause of the contract, the tests whose markers name it, "
        "and the observation a recording made for it (or 'not yet observed').",
    )
    uncertain.add_argument(
        "--contract", metavar="PATH", help="default: the package's docs/contract.md"
    )
    uncertain.add_argument("--snapshots", metavar="DIR", help="default: the package's snapshots/")
    uncertain.add_argument("--suites", metavar="DIR", help="default: the package's suites/")
    uncertain.add_argument(
        "--evidence", metavar="PATH", help="public evidence; default: docs/evidence.toml"
    )
    uncertain.add_argument(
        "-v", "--verbose", action="store_true", help="list each uncertain sentence and test"
    )
    uncertain.set_defaults(handler=_cmd_uncertain)

    proposed = commands.add_parser(
        "expectations",
        help="propose an expectations file from a run's failures",
        description="Print a proposed expectations/<backend>.toml (for review) listing every "
        "test that failed in the run; reasons of existing entries are kept.",
    )
    proposed.add_argument("--from-junit", required=True, metavar="RUN.xml")
    proposed.add_argument("--backend", default="moto", help="default: moto")
    proposed.add_argument(
        "--root",
        default=None,
        metavar="DIR",
        help="the folder holding expectations/ (default: the package's own)",
    )
    proposed.set_defaults(handler=_cmd_expectations)

    drifted = commands.add_parser(
        "drift",
        help="what changed in the installed botocore models since the tested set",
        description="Compare the installed botocore models of the services the emulation "
        "touches with the tested set's (protocols, operations, input and output members).",
    )
    drifted.add_argument(
        "--against", metavar="DIGEST.json", help="another digest instead of the tested set's"
    )
    drifted.add_argument("--check", action="store_true", help="exit 1 when anything changed")
    drifted.add_argument(
        "--write", metavar="PATH", help="write the installed models' digest to PATH instead"
    )
    drifted.set_defaults(handler=_cmd_drift)

    board = commands.add_parser(
        "scoreboard",
        help="run the suites on several backends and write the scoreboard",
        description="Run pytest suites once per backend (endpoint against a local "
        "fsconformance serve) and write scoreboard.md and scoreboard.html: per clause and "
        "backend, the tests passed, failed, unsupported and expected gaps, and how to reproduce "
        "each failure.",
    )
    board.add_argument(
        "--backends",
        default="moto,moto-plain,endpoint",
        help="comma-separated backends (default: moto,moto-plain,endpoint)",
    )
    board.add_argument("--out", default="reports/scoreboard", metavar="DIR")
    board.add_argument("--workers", type=int, default=2, help="pytest -n for each run (2)")
    board.add_argument("--clauses", default=None, help="only the tests of these clauses")
    board.add_argument(
        "--from-junit",
        action="append",
        metavar="BACKEND=RUN.xml",
        help="build from existing JUnit XML instead of running (repeatable)",
    )
    # --readme and --check-readme are the names from when the table lived in the README.
    board.add_argument(
        "--page",
        "--readme",
        dest="page",
        default=None,
        metavar="PAGE.md",
        help="rewrite the table in this page (docs/scoreboard.md)",
    )
    board.add_argument(
        "--check-page",
        "--check-readme",
        dest="check_page",
        default=None,
        metavar="PAGE.md",
        help="exit 1 if the page's table differs from this run's",
    )
    board.set_defaults(handler=_cmd_scoreboard)
    from . import spark

    spark.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["run"] and arguments[1:2] not in (["-h"], ["--help"]):
        return _cmd_run(arguments[1:])
    parser = _build_parser()
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exit_:  # --help, or a usage error argparse already printed
        code = exit_.code
        return 0 if code is None else code if isinstance(code, int) else 2
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return int(handler(args))
