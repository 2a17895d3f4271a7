"""Memory of the emulation: what an online record costs, what deletion gives back, and
whether a process stays bounded over many create/ingest/query/delete cycles.

Not a timed test: it prints figures with their targets.

1. Online bytes per record (traced allocations) over 20,000 PutRecords (or as many as given)
   of a 10-feature record into an online-only group, against the size of the record's
   strings as Python holds them (target: at most 2x).
2. The process's traced memory after DeleteFeatureGroup, against before the group existed.
3. Cycles (50 unless ``--cycles``), in-process (``mock_featurestore``, zero delays) and then
   against a ``fsconformance serve`` child process (zero delays) through boto3. A cycle:
   CreateFeatureGroup (online and offline store), 1,000 PutRecords, an Athena
   ``SELECT count(*)`` over the group's offline table (polled to its end with a deadline;
   the count must be 1,000), DeleteFeatureGroup (polled until gone), then a teardown as a
   test's does (C-130, C-084): the group's offline files, the Athena results
   under the output location, the Glue table. The resident set (VmRSS of
   ``/proc/<pid>/status``: this process, then the server's) after cycle 5 against after the
   last: target within 5 MB. In-process, every resident-set reading is preceded by one
   ``gc.collect()`` (the server's are not: it collects on its own); nothing else frees memory
   between cycles. tracemalloc is off during the cycles (its own tables would count in the
   resident set); ``--trace`` runs the in-process cycles under it and prints the traced growth
   and the tracebacks that grew most.

Run: ``python benchmarks/bench_memory.py [records] [--cycles 50] [--trace]
[--only in-process|serve]`` (a quick look: ``--cycles 10``).
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from fsconformance.emulator import clock
from fsconformance.mock import mock_featurestore
from fsconformance.model.control_plane import Delays

FAST = Delays(create=0, update=0, delete=0, data_plane=0, offline=0, athena=0)
ZERO_ENV = {
    f"FSCONFORMANCE_DELAY_{step}": "0"
    for step in ("CREATE", "UPDATE", "DELETE", "DATA_PLANE", "OFFLINE", "ATHENA")
}
FEATURES = ["id", "t"] + [f"f{i}" for i in range(8)]
BUCKET = "offline"
PUTS = 1000
BASELINE = 5  # the first cycles fill caches and pools; moto releases deleted objects in batches
TARGET_MB = 5.0
DEADLINE = 60.0  # seconds any one wait may take
POLL = 0.01


def record(i: int) -> list[dict[str, str]]:
    values = [f"id-{i:08d}", "2026-01-01T00:00:00Z"] + [f"value-{i}-{j}" for j in range(8)]
    return [{"FeatureName": n, "ValueAsString": v} for n, v in zip(FEATURES, values, strict=True)]


def strings_size(i: int) -> int:
    return sum(sys.getsizeof(entry["ValueAsString"]) for entry in record(i))


def create(sagemaker: Any, name: str, offline: bool, role: str = "") -> None:
    request: dict[str, Any] = {
        "FeatureGroupName": name,
        "RecordIdentifierFeatureName": "id",
        "EventTimeFeatureName": "t",
        "FeatureDefinitions": [{"FeatureName": n, "FeatureType": "String"} for n in FEATURES],
        "OnlineStoreConfig": {"EnableOnlineStore": True},
    }
    if offline:
        request["OfflineStoreConfig"] = {"S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/store"}}
        request["RoleArn"] = role or "arn:aws:iam::123456789012:role/fs"
    sagemaker.create_feature_group(**request)


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def vm_rss(pid: int | str = "self") -> int:
    """A process's resident set in bytes, from ``/proc/<pid>/status`` (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def wait_for(what: str, done: Callable[[], bool]) -> None:
    """Poll ``done`` until it holds; a plain error naming ``what`` after DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench_memory: {what} did not happen within {DEADLINE:.0f} s")
        time.sleep(POLL)


@dataclass
class Clients:
    sagemaker: Any
    runtime: Any
    s3: Any
    glue: Any
    athena: Any
    role: str = ""

    @classmethod
    def make(cls, **options: Any) -> Clients:
        config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
        made = {
            field: boto3.client(service, region_name="us-east-1", config=config, **options)
            for field, service in (
                ("sagemaker", "sagemaker"),
                ("runtime", "sagemaker-featurestore-runtime"),
                ("s3", "s3"),
                ("glue", "glue"),
                ("athena", "athena"),
            )
        }
        return cls(**made)


def status(sagemaker: Any, name: str) -> str:
    try:
        return str(sagemaker.describe_feature_group(FeatureGroupName=name)["FeatureGroupStatus"])
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFound":
            return "Gone"
        raise


def delete_prefix(s3: Any, prefix: str) -> int:
    """Delete every object under ``prefix`` of the bucket; how many there were."""
    keys = [
        {"Key": listed["Key"]}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        for listed in page.get("Contents", [])
    ]
    for start in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys[start : start + 1000]})
    return len(keys)


def count_offline(c: Clients, name: str, catalog: dict[str, str]) -> int:
    """``SELECT count(*)`` over the group's offline table, polled to its end (C-184)."""
    query_id = c.athena.start_query_execution(
        QueryString=f'SELECT count(*) FROM "{catalog["TableName"]}"',
        QueryExecutionContext={"Catalog": catalog["Catalog"], "Database": catalog["Database"]},
        ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/query_results/{name}/"},
    )["QueryExecutionId"]
    state: list[str] = []

    def ended() -> bool:
        execution = c.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        state[:] = [execution["Status"]["State"], execution["Status"].get("StateChangeReason")]
        return state[0] in ("SUCCEEDED", "FAILED", "CANCELLED")

    wait_for(f"the count over {name}", ended)
    if state[0] != "SUCCEEDED":
        raise SystemExit(f"bench_memory: the count over {name} ended {state[0]}: {state[1]}")
    rows = c.athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    return int(rows[1]["Data"][0]["VarCharValue"])  # the first row is the header


def one_cycle(c: Clients, name: str) -> None:
    create(c.sagemaker, name, offline=True, role=c.role)
    wait_for(f"{name} Created", lambda: status(c.sagemaker, name) == "Created")
    for i in range(PUTS):
        c.runtime.put_record(FeatureGroupName=name, Record=record(i))
    described = c.sagemaker.describe_feature_group(FeatureGroupName=name)
    offline = described["OfflineStoreConfig"]
    catalog = offline["DataCatalogConfig"]
    counted = count_offline(c, name, catalog)
    if counted != PUTS:
        raise SystemExit(f"bench_memory: Athena counted {counted} rows in {name}, not {PUTS}")
    c.sagemaker.delete_feature_group(FeatureGroupName=name)
    wait_for(f"{name} gone", lambda: status(c.sagemaker, name) == "Gone")
    # As a test's teardown does: DeleteFeatureGroup leaves the files, the results and the
    # Glue table, as on AWS (C-084).
    resolved = offline["S3StorageConfig"]["ResolvedOutputS3Uri"]
    if not delete_prefix(c.s3, resolved.removeprefix(f"s3://{BUCKET}/")):
        raise SystemExit(f"bench_memory: no offline files under {resolved}")
    if not delete_prefix(c.s3, f"query_results/{name}/"):
        raise SystemExit(f"bench_memory: no Athena results for {name}")
    c.glue.delete_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])


def run_cycles(c: Clients, cycles: int, rss: Callable[[int], int], label: str) -> list[int]:
    """Every cycle, then the resident set (``rss(cycle)``); the readings, one per cycle."""
    readings = []
    for cycle in range(1, cycles + 1):
        one_cycle(c, f"{label}-cycle{cycle}")
        readings.append(rss(cycle))
    leftover = c.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)
    if leftover:
        raise SystemExit(f"bench_memory: {leftover} objects left in the bucket after the cycles")
    return readings


def report(where: str, readings: list[int], traced: str = "") -> None:
    cycles = len(readings)
    base = readings[BASELINE - 1]
    steps = [c for c in range(BASELINE + 5, cycles + 1, 5)] or [cycles]
    if steps[-1] != cycles:
        steps.append(cycles)
    print(
        f"{where}, resident set against after cycle {BASELINE}: "
        + ", ".join(f"{c}: {(readings[c - 1] - base) / 1e6:+.2f}" for c in steps)
        + " MB"
    )
    growth = (readings[-1] - base) / 1e6
    if traced:  # tracemalloc's own tables are in the resident set: no verdict on it
        verdict = f"; traced {traced} (tracemalloc on, so no verdict)"
    else:
        verdict = f" (target <= {TARGET_MB:.0f} MB: {'holds' if growth <= TARGET_MB else 'MISSED'})"
    print(
        f"{where}: VmRSS {base / 1e6:.1f} MB after cycle {BASELINE}, {readings[-1] / 1e6:.1f} MB "
        f"after cycle {cycles}: {growth:+.2f} MB{verdict}"
    )


def per_record_figures(c: Clients, records: int) -> None:
    """Figures 1 and 2, under tracemalloc (stopped on return)."""
    put = c.runtime.put_record
    # Warm up first: botocore loads and caches service models on first use (megabytes).
    create(c.sagemaker, "warm", offline=False)
    put(FeatureGroupName="warm", Record=record(0))
    c.sagemaker.delete_feature_group(FeatureGroupName="warm")
    clock.tick()
    tracemalloc.start()
    empty = traced()
    create(c.sagemaker, "online", offline=False)
    put(FeatureGroupName="online", Record=record(0))
    before = traced()
    for i in range(1, records + 1):
        put(FeatureGroupName="online", Record=record(i))
    after = traced()
    per_record = (after - before) / records
    strings = sum(strings_size(i) for i in range(0, 1000)) / 1000
    print(
        f"online record: {per_record:.0f} bytes each over {records:,} puts; its strings "
        f"{strings:.0f} bytes; ratio {per_record / strings:.2f} (target <= 2)"
    )
    c.sagemaker.delete_feature_group(FeatureGroupName="online")
    clock.tick()
    released = traced()
    print(
        f"after DeleteFeatureGroup: {(released - empty) / 1e6:+.2f} MB against before the "
        f"group (was {(after - empty) / 1e6:.1f} MB with the records)"
    )
    tracemalloc.stop()


def in_process(records: int, cycles: int, trace: bool) -> None:
    with mock_featurestore(FAST):
        c = Clients.make()
        c.s3.create_bucket(Bucket=BUCKET)
        per_record_figures(c, records)
        if trace:
            tracemalloc.start(12)
        marks: dict[int, tracemalloc.Snapshot] = {}

        def rss(cycle: int) -> int:
            gc.collect()
            reading = vm_rss()
            if trace and cycle in (BASELINE, cycles):
                marks[cycle] = snapshot()
            return reading

        readings = run_cycles(c, cycles, rss, "inproc")
        if not trace:
            report(f"in-process, {cycles} cycles", readings)
            return
        tracemalloc.stop()
        # From the snapshots, which leave out tracemalloc's own allocations (the first
        # snapshot itself among them).
        grown = marks[cycles].compare_to(marks[BASELINE], "traceback")
        traced = f"{sum(stat.size_diff for stat in grown) / 1e6:+.2f} MB"
        report(f"in-process, {cycles} cycles", readings, traced)
        print("traced growth by traceback, largest first:")
        for stat in grown[:8]:
            print(f"  {stat.size_diff / 1e3:+9.1f} kB {stat.count_diff:+6d} blocks")
            for line in stat.traceback.format(limit=6, most_recent_first=True):
                print(f"    {line}")


def snapshot() -> tracemalloc.Snapshot:
    return tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )


@contextmanager
def served() -> Iterator[tuple[int, str]]:
    """A ``fsconformance serve`` child at zero delays: its pid and URL."""
    command = [sys.executable, "-m", "fsconformance", "serve", "--host", "127.0.0.1"]
    command += ["--port", "0"]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, **ZERO_ENV},
        )
        try:
            assert process.stdout is not None
            url = ""
            for line in process.stdout:
                if line.startswith("fsconformance serve: listening on "):
                    url = line.split()[-1]
                    break
            if not url:
                log.seek(0)
                raise SystemExit(f"bench_memory: serve did not start:\n{log.read()}")
            yield process.pid, url
        finally:
            process.terminate()
            process.wait(timeout=120)


def over_serve(cycles: int) -> None:
    with served() as (pid, url):
        c = Clients.make(
            endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        iam = boto3.client(
            "iam",
            region_name="us-east-1",
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        c.role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        c.s3.create_bucket(Bucket=BUCKET)
        readings = run_cycles(c, cycles, lambda cycle: vm_rss(pid), "serve")
        report(f"serve, {cycles} cycles", readings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", nargs="?", type=int, default=20_000, help="figure 1's puts")
    parser.add_argument("--cycles", type=int, default=50, help="cycles in each (default 50)")
    parser.add_argument("--trace", action="store_true", help="in-process cycles traced")
    parser.add_argument("--only", choices=("in-process", "serve"), help="one of the two")
    args = parser.parse_args()
    if args.cycles <= BASELINE:
        parser.error(f"--cycles must be more than {BASELINE}, the cycle growth is measured from")
    if args.only != "serve":
        in_process(args.records, args.cycles, args.trace)
    if args.only != "in-process":
        over_serve(args.cycles)


if __name__ == "__main__":
    main()
