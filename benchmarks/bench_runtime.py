"""Emulated PutRecord/GetRecord against an honest floor, in-process and over serve, in one run.

The group has both stores, like the sample's, so every put also pays for offline buffering
and replication. Floors (design section 5):

* in-process: a plain botocore client in a separate process where no mock ever started
  (``floor_worker.py``), answering from ``before-send`` with a canned 200;
* over serve: a plain client against a canned local HTTP server on the same server stack.

Floor and emulated rounds interleave, so machine noise hits both alike; medians are reported,
at the default delays and at zero delays. Targets: every put and get ratio <= 1.3x; a
BatchWriteRecord of 25 entries <= 1.3x botocore's own batch against a canned answer
in-process, and <= 0.15x the cost of 25 PutRecords of the same records over serve.
Run: ``python benchmarks/bench_runtime.py [--calls 1000] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
from floor_worker import GROUP, definitions, listening, record  # noqa: E402

from fsconformance import Delays, mock_featurestore  # noqa: E402

HERE = Path(__file__).resolve().parent
BUCKET = "bench-offline-store"
ZERO = Delays(create=0, update=0, delete=0, data_plane=0, offline=0)


class Worker:
    """The moto-free floor process; ``run`` returns seconds for one round."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "floor_worker.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, op: str, calls: int, endpoint: str | None = None) -> float:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{op} {calls} {endpoint or ''}\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=30)


def create_group(sagemaker: Any, s3: Any) -> None:
    """The sample's shape: online and offline stores, a bucket for the offline files."""
    s3.create_bucket(Bucket=BUCKET)
    sagemaker.create_feature_group(
        FeatureGroupName=GROUP,
        RecordIdentifierFeatureName="customer_id",
        EventTimeFeatureName="event_time",
        FeatureDefinitions=definitions(),
        OnlineStoreConfig={"EnableOnlineStore": True},
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/offline"}},
        RoleArn="arn:aws:iam::123456789012:role/bench",
    )
    deadline = time.time() + 30
    while sagemaker.describe_feature_group(FeatureGroupName=GROUP)["FeatureGroupStatus"] != (
        "Created"
    ):
        assert time.time() < deadline
        time.sleep(0.05)


def timed(runtime: Any, op: str, calls: int) -> float:
    start = time.perf_counter()
    if op == "put":
        for i in range(calls):
            runtime.put_record(FeatureGroupName=GROUP, Record=record(i))
    else:
        for i in range(calls):
            runtime.get_record(FeatureGroupName=GROUP, RecordIdentifierValueAsString=f"C{i}")
    return time.perf_counter() - start


def batch_versus_puts(runtime: Any, rounds: int, calls: int) -> tuple[float, float]:
    """(median ms of one BatchWriteRecord of 25 entries, median ms of 25 PutRecords), the same
    records, rounds interleaved."""
    batches = max(calls // 25, 1)
    entries = [
        [{"FeatureGroupName": GROUP, "Record": record(b * 25 + i)} for i in range(25)]
        for b in range(batches)
    ]
    batch_ms: list[float] = []
    puts_ms: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter()
        for chunk in entries:
            answer = runtime.batch_write_record(Entries=chunk)
            assert not answer.get("Errors") and not answer.get("UnprocessedEntries"), answer
        batch_ms.append((time.perf_counter() - start) * 1000 / batches)
        start = time.perf_counter()
        for chunk in entries:
            for entry in chunk:
                runtime.put_record(**entry)
        puts_ms.append((time.perf_counter() - start) * 1000 / batches)
    return statistics.median(batch_ms), statistics.median(puts_ms)


def interleaved(
    rounds: int, calls: int, floor: Callable[[str], float], emulated: Callable[[str], float]
) -> dict[str, tuple[float, float]]:
    """op -> (median floor ms/call, median emulated ms/call), rounds interleaved."""
    samples: dict[str, tuple[list[float], list[float]]] = {"put": ([], []), "get": ([], [])}
    for _ in range(rounds):
        for op, (floors, emulations) in samples.items():
            floors.append(floor(op) * 1000 / calls)
            emulations.append(emulated(op) * 1000 / calls)
    return {op: (statistics.median(f), statistics.median(e)) for op, (f, e) in samples.items()}


def in_process(worker: Worker, delays: Delays, rounds: int, calls: int) -> dict:
    with mock_featurestore(delays=delays):
        create_group(
            boto3.client("sagemaker", region_name="us-east-1"),
            boto3.client("s3", region_name="us-east-1"),
        )
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
        timed(runtime, "put", 20)
        measured = interleaved(
            rounds,
            calls,
            lambda op: worker.run(op, calls),
            lambda op: timed(runtime, op, calls),
        )
        batch, puts = batch_versus_puts(runtime, rounds, calls)
        batches = max(calls // 25, 1)  # as batch_versus_puts sends them
        floor = statistics.median(
            worker.run("batch", batches * 25) * 1000 / batches for _ in range(3)
        )
        report_batch("in-process", delays, batch, puts, "botocore alone for the batch", floor)
        return measured


def report_batch(
    where: str, delays: Delays, batch: float, puts: float, floor_is: str, floor: float
) -> None:
    """One line: a BatchWriteRecord of 25 against its floor (in-process, the target: <= 1.3x
    botocore's own batch against a canned answer) and against 25 PutRecords (over serve, the
    target: <= 0.15x)."""
    target = "<= 1.3x" if where == "in-process" else "none"
    puts_target = "<= 0.15x" if where != "in-process" else "none"
    print(
        f"{where:<11} {delays_label(delays):<8} BatchWriteRecord of 25: {batch:.3f} ms; "
        f"{floor_is} (floor): {floor:.3f} ms, ratio {batch / floor:.2f}x (target {target}); "
        f"25 PutRecords: {puts:.3f} ms, ratio {batch / puts:.2f}x (target {puts_target})",
        flush=True,
    )


def delays_label(delays: Delays) -> str:
    return "zero" if delays == ZERO else "default"


def over_serve(worker: Worker, delays: Delays, rounds: int, calls: int) -> dict:
    env = dict(os.environ)
    for step in ("create", "update", "delete", "data_plane", "offline"):
        env[f"FSCONFORMANCE_DELAY_{step.upper()}"] = str(getattr(delays, step))
    canned = [sys.executable, str(HERE / "floor_worker.py"), "--canned-server"]
    serve = [sys.executable, "-m", "fsconformance", "serve", "--port", "0"]
    with listening(canned, env) as canned_url, listening(serve, env) as serve_url:
        kwargs = {
            "region_name": "us-east-1",
            "endpoint_url": serve_url,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        create_group(boto3.client("sagemaker", **kwargs), boto3.client("s3", **kwargs))
        measured = interleaved(
            rounds,
            calls,
            lambda op: worker.run(op, calls, canned_url),
            lambda op: worker.run(op, calls, serve_url),
        )
        # The batch target over HTTP: BatchWriteRecord calls of 25 against PutRecords of the
        # same records, both served, rounds interleaved; and the batch against the canned server.
        batches = max(calls // 25, 1)
        batch_ms, puts_ms, floor_ms = [], [], []
        for _ in range(rounds):
            batch_ms.append(worker.run("batch", batches * 25, serve_url) * 1000 / batches)
            puts_ms.append(worker.run("put", batches * 25, serve_url) * 1000 / batches)
            floor_ms.append(worker.run("batch", batches * 25, canned_url) * 1000 / batches)
        batch, puts, floor = (statistics.median(m) for m in (batch_ms, puts_ms, floor_ms))
        report_batch(
            "over serve", delays, batch, puts, "the batch against the canned server", floor
        )
        return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-serve", action="store_true", help="in-process only")
    args = parser.parse_args()
    worker = Worker()
    print(f"{'where':<11} {'delays':<8} {'op':<4} {'floor ms':>9} {'emulated ms':>12} {'ratio':>6}")
    try:
        for label, delays in (("default", Delays()), ("zero", ZERO)):
            places = [("in-process", in_process)]
            if not args.no_serve:
                places.append(("over serve", over_serve))
            for where, measure in places:
                for op, (floor, emulated) in measure(
                    worker, delays, args.rounds, args.calls
                ).items():
                    print(
                        f"{where:<11} {label:<8} {op:<4} {floor:9.3f} {emulated:12.3f} "
                        f"{emulated / floor:5.2f}x",
                        flush=True,
                    )
    finally:
        worker.close()
    print("target: every ratio <= 1.3x")


if __name__ == "__main__":
    main()
