"""Time the project's flow in-process on the moto backend, step by step, online and offline.

Run: ``python benchmarks/bench_flow.py [--scenario customers] [--delays 0]``. The customers
scenario has the public sample's size (500 records, 10 features, one added). ``--delays``
sets every emulated delay, offline replication and Athena's queueing included; without it the
flow runs at the default delays and at zero delays, each in a fresh process (target: <= 1.0 s
at zero). In each process the flow runs twice, on two groups: the first pays what a process
pays once (imports, service models, the garbage collections they bring), the second is what
every later flow of a test session costs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from fsconformance.backends.moto import MotoBackend
from fsconformance.flow import Flow
from fsconformance.scenarios import load_scenario

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _athena_count(backend: MotoBackend, sql: str) -> int:
    athena = backend.athena
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": "sagemaker_featurestore"},
        ResultConfiguration={"OutputLocation": backend.athena_output},
    )["QueryExecutionId"]
    while True:  # queries run asynchronously: poll as a client does
        status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if status["State"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(backend.budgets.poll_interval)
    assert status["State"] == "SUCCEEDED", status
    result = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    return int(result[1]["Data"][0]["VarCharValue"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="customers")
    parser.add_argument("--delays", default=None, help="seconds for every delay, or default")
    args = parser.parse_args()
    if args.delays is None:
        for delays in ("default", "0"):
            print(f"-- delays: {delays}", flush=True)
            subprocess.run(
                [sys.executable, __file__, "--scenario", args.scenario, "--delays", delays],
                check=True,
            )
        return
    for step in ("CREATE", "UPDATE", "DELETE", "DATA_PLANE", "OFFLINE", "ATHENA"):
        if args.delays == "default":
            os.environ.pop(f"FSCONFORMANCE_DELAY_{step}", None)
        else:
            os.environ[f"FSCONFORMANCE_DELAY_{step}"] = str(float(args.delays))

    scenario = load_scenario(FIXTURES / f"{args.scenario}.toml")
    backend = MotoBackend("us-east-1")
    backend.start()
    try:
        for label in ("first flow in the process", "second flow, another group"):
            backend.begin_test()
            try:
                steps = run_flow(backend, scenario)
            finally:
                backend.end_test()
            print(f"  {label}:")
            for name, seconds in steps:
                print(f"{name:>38}: {seconds:6.3f} s")
            print(f"{'whole flow':>38}: {sum(s for _, s in steps):6.3f} s", flush=True)
    finally:
        backend.stop()


def run_flow(backend: MotoBackend, scenario: Any) -> list[tuple[str, float]]:
    """The flow on a new group; (step, seconds) for each step."""
    steps: list[tuple[str, float]] = []
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        steps.append((name, now - clock))
        clock = now

    flow = Flow(backend, scenario)
    flow.create()
    step("create + wait Created")
    initial = flow.rows_at(scenario.initial_rows(), 1_700_000_000)
    assert flow.ingest(initial).ok
    step(f"ingest {len(initial)}")
    ids = [row[scenario.record_identifier] for row in initial]
    assert len(flow.online_records(ids)) == len(ids)
    step(f"verify {len(ids)} online")
    flow.add_features()
    step("update + wait Successful")
    updated = flow.rows_at(scenario.update_rows(), 1_700_003_600)
    assert flow.reingest(updated).ok
    step(f"re-ingest {len(updated)} (incl. data-plane lag)")
    assert len(flow.online_records(ids)) == len(ids)
    step(f"verify {len(ids)} online")
    catalog = flow.backend.describe(flow.name)["OfflineStoreConfig"]["DataCatalogConfig"]
    # Offline rows arrive after their replication lag (C-060): poll the count.
    deadline = time.monotonic() + backend.budgets.offline
    while True:
        rows = _athena_count(backend, f'SELECT count(*) FROM "{catalog["TableName"]}"')
        if rows == 2 * len(ids) or time.monotonic() > deadline:
            break
    assert rows == 2 * len(ids), rows
    step(f"Athena: count {rows} offline rows")
    latest = _athena_count(
        backend,
        "SELECT count(*) FROM (SELECT *, row_number() OVER (PARTITION BY "
        f"{scenario.record_identifier} ORDER BY {scenario.event_time_name} DESC, "
        "api_invocation_time DESC, write_time DESC) AS row_num "
        f'FROM "{catalog["TableName"]}") WHERE row_num = 1 AND NOT is_deleted',
    )
    assert latest == len(ids), latest
    step(f"Athena: dedup to {latest} latest")
    return steps


if __name__ == "__main__":
    main()
