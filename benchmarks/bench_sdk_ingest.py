"""The SageMaker SDK v2's ``FeatureGroup.ingest`` of 10,000 rows: one worker against a pool.

``ingest(max_workers=1)`` puts every row from the calling thread; ``ingest(max_workers=8,
max_processes=2)`` forks two processes (pathos), each putting its half from eight threads.
Both run (a) in-process under ``mock_featurestore``, where the forked children reach the
parent's emulation through the fork bridge (docs/multi-process.md), and (b) against
``fsconformance serve`` in a process of its own, over botocore's own HTTP: the session's
clients made with its ``endpoint_url``, the pool's (which the SDK makes itself) given it by
``AWS_ENDPOINT_URL``. Zero delays; each ingest goes into a fresh group with both stores, and is
counted only once every row reads back online with the values written (BatchGetRecord of
every identifier, 100 at a time), so a lossy ingest cannot report a rate.

Each setting runs in a fresh process; the cases alternate over ``--rounds``. Prints rows/s for
each ingest, and per setting the medians and the pool's rate against one worker's. The SDK's
telemetry is turned off with its documented setting (docs/sdk.md). Needs the SDK v2
(``sagemaker>=2.200,<3``).
Run: ``python benchmarks/bench_sdk_ingest.py [--rows 10000] [--rounds 1]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from floor_worker import listening

ZERO = {
    f"FSCONFORMANCE_DELAY_{step}": "0"
    for step in ("CREATE", "UPDATE", "DELETE", "DATA_PLANE", "OFFLINE", "ATHENA")
}
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"
BUCKET = "bench-sdk-ingest"
T0 = 1_700_000_000.0
TELEMETRY_OPT_OUT = (
    "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n"
)
# (label, max_workers, max_processes)
CASES = [("1 worker", 1, 1), ("8 workers x 2 processes", 8, 2)]


def frame(rows: int) -> Any:
    """The rows to ingest: an identifier, an event time and four features (strings, integers,
    fractions)."""
    import pandas as pd

    ids = range(rows)
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="int64"),
            "event_time": pd.array([T0 + i for i in ids], dtype="float64"),
            "city": pd.array([f"city-{i % 97}" for i in ids], dtype="string"),
            "visits": pd.array([i * 7 % 1000 for i in ids], dtype="int64"),
            "spend": pd.array([i * 0.25 for i in ids], dtype="float64"),
            "segment": pd.array([f"s{i % 5}" for i in ids], dtype="string"),
        }
    )


def expected_values(data: Any) -> dict[str, dict[str, str]]:
    """What GetRecord must give back for each identifier: every value as the SDK sends it
    (``str()`` of the cell)."""
    columns = list(data.columns)
    return {
        str(row[1]): {column: str(value) for column, value in zip(columns, row[1:], strict=True)}
        for row in data.itertuples()
    }


def make_session(endpoint: str | None) -> Any:
    """A ``sagemaker.Session`` whose clients reach the emulation (with ``endpoint_url`` when
    it is served)."""
    import boto3
    import sagemaker

    boto_session = boto3.Session(region_name=REGION, **CREDENTIALS)
    options = {"endpoint_url": endpoint} if endpoint else {}
    return sagemaker.Session(
        boto_session,
        sagemaker_client=boto_session.client("sagemaker", **options),
        sagemaker_runtime_client=boto_session.client("sagemaker-runtime", **options),
        sagemaker_featurestore_runtime_client=boto_session.client(
            "sagemaker-featurestore-runtime", **options
        ),
        default_bucket=BUCKET,
    )


def prepare(session: Any, endpoint: str | None) -> str:
    """The offline store's bucket and a role; returns the role's ARN."""
    options = {"endpoint_url": endpoint} if endpoint else {}
    boto_session = session.boto_session
    boto_session.client("s3", **options).create_bucket(Bucket=BUCKET)
    iam = boto_session.client("iam", **options)
    return iam.create_role(RoleName="bench-sdk-ingest", AssumeRolePolicyDocument="{}")["Role"][
        "Arn"
    ]


def create_group(session: Any, name: str, data: Any, role: str) -> Any:
    from sagemaker.feature_store.feature_group import FeatureGroup

    group = FeatureGroup(name=name, sagemaker_session=session)
    group.load_feature_definitions(data_frame=data)
    group.create(
        s3_uri=f"s3://{BUCKET}/offline",
        record_identifier_name="customer_id",
        event_time_feature_name="event_time",
        role_arn=role,
        enable_online_store=True,
    )
    deadline = time.monotonic() + 60
    while group.describe()["FeatureGroupStatus"] != "Created":
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} was not Created within 60 s")
        time.sleep(0.01)
    return group


def check_online(session: Any, name: str, expected: dict[str, dict[str, str]]) -> None:
    """Every identifier reads back online with exactly the values written, or raise."""
    runtime = session.sagemaker_featurestore_runtime_client
    identifiers = list(expected)
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(identifiers), 100):
        answer = runtime.batch_get_record(
            Identifiers=[
                {
                    "FeatureGroupName": name,
                    "RecordIdentifiersValueAsString": identifiers[start : start + 100],
                }
            ]
        )
        if answer.get("Errors") or answer.get("UnprocessedIdentifiers"):
            raise RuntimeError(f"{name}: BatchGetRecord reported {answer}")
        for item in answer["Records"]:
            found[item["RecordIdentifierValueAsString"]] = {
                f["FeatureName"]: f["ValueAsString"] for f in item["Record"]
            }
    missing = [i for i in identifiers if i not in found]
    wrong = [i for i in identifiers if i in found and found[i] != expected[i]]
    if missing or wrong:
        raise RuntimeError(
            f"{name}: {len(missing)} of {len(identifiers)} records missing online "
            f"(first {missing[:5]}), {len(wrong)} with other values (first {wrong[:5]})"
        )


def run_cases(session: Any, role: str, rows: int, rounds: int) -> list[tuple[str, float]]:
    data = frame(rows)
    expected = expected_values(data)
    results = []
    for round_ in range(rounds):
        for label, workers, processes in CASES:
            name = f"bench-ingest-{round_}-{workers}x{processes}"
            group = create_group(session, name, data, role)
            started = time.perf_counter()
            group.ingest(data_frame=data, max_workers=workers, max_processes=processes, wait=True)
            seconds = time.perf_counter() - started
            check_online(session, name, expected)
            results.append((label, rows / seconds))
            print(
                f"  round {round_ + 1}  {label:<24} {seconds:7.2f} s  {rows / seconds:7.0f} rows/s",
                flush=True,
            )
            group.delete()
    return results


def in_process(rows: int, rounds: int) -> list[tuple[str, float]]:
    from fsconformance import mock_featurestore

    with mock_featurestore():
        session = make_session(None)
        return run_cases(session, prepare(session, None), rows, rounds)


def over_serve(rows: int, rounds: int) -> list[tuple[str, float]]:
    serve = [sys.executable, "-m", "fsconformance", "serve", "--host", "127.0.0.1", "--port", "0"]
    with listening(serve) as url:
        # The pool's clients are made by the SDK from the environment: botocore's own
        # AWS_ENDPOINT_URL gives them the server's address, as the session's clients have it.
        os.environ.update(
            {"AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": REGION}
            | {key.upper(): value for key, value in CREDENTIALS.items()}
        )
        session = make_session(url)
        return run_cases(session, prepare(session, url), rows, rounds)


def measure(where: str, rows: int, rounds: int) -> None:
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)  # one line per config key
    run = in_process if where == "in-process" else over_serve
    results = run(rows, rounds)
    one, pool = (
        statistics.median(rate for name, rate in results if name == label) for label, _, _ in CASES
    )
    print(
        f"  {where}: 1 worker {one:.0f} rows/s, 8 workers x 2 processes {pool:.0f} rows/s "
        f"(median of {rounds}), ratio {pool / one:.2f}x",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1, help="ingests of each case")
    parser.add_argument("--where", choices=("in-process", "serve"), default=None)
    args = parser.parse_args()
    try:
        from importlib.metadata import version

        sdk = version("sagemaker")
    except ImportError:
        sdk = "none"
    if not sdk.startswith("2."):
        sys.exit(
            f"bench_sdk_ingest.py: needs the SageMaker SDK v2 (sagemaker>=2.200,<3); found {sdk}"
        )
    os.environ.update(ZERO)
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    with tempfile.TemporaryDirectory() as scratch:
        # Over serve the SDK's telemetry GET would leave the machine (in-process moto answers
        # it); both settings turn it off, so both do the same work.
        config = os.path.join(scratch, "sagemaker-config.yaml")
        with open(config, "w") as file:
            file.write(TELEMETRY_OPT_OUT)
        os.environ["SAGEMAKER_USER_CONFIG_OVERRIDE"] = config
        if args.where is None:
            for where in ("in-process", "serve"):
                print(f"-- {where}, zero delays, {args.rows:,} rows", flush=True)
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        *("--rows", str(args.rows), "--rounds", str(args.rounds)),
                        *("--where", where),
                    ],
                    check=True,
                )
        else:
            measure(args.where, args.rows, args.rounds)


if __name__ == "__main__":
    main()
