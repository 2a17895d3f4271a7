"""What ``serve --data-dir`` costs: write throughput with and without it, and restart time.

* Throughput: boto3 clients in 1 and 4 threads write against ``fsconformance serve`` with and
  without a data directory, rounds interleaved so machine noise hits both alike; the median
  writes per second of each (PutRecord of a 10-feature record; S3 PutObject of 1 KB).
* Restart: a journal of N writes (nine PutRecords to one S3 PutObject of 1 KB) is made, then
  ``fsconformance serve --data-dir`` is started on it; the time from launch until it listens,
  and the replay's own time as the server reports it (medians of a few starts). The journal is made in-process through
  the same middleware ``serve`` uses (no HTTP), four writers at once.

Run: ``python benchmarks/bench_durability.py [--writes 1000] [--rounds 3]
[--journals 10000,100000] [--restarts 3]``. Figures: docs/durability.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ZERO = {
    f"FSCONFORMANCE_DELAY_{step}": "0"
    for step in ("CREATE", "UPDATE", "DELETE", "DATA_PLANE", "OFFLINE", "ATHENA")
}
FEATURES = [{"FeatureName": "id", "FeatureType": "String"}] + [
    {"FeatureName": f"f{i}", "FeatureType": "String"} for i in range(8)
]
FEATURES.append({"FeatureName": "t", "FeatureType": "Fractional"})
AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def record(i: int) -> list[dict[str, str]]:
    values = [{"FeatureName": "id", "ValueAsString": str(i % 1000)}]
    values += [{"FeatureName": f"f{k}", "ValueAsString": f"value {i} {k}"} for k in range(8)]
    return [*values, {"FeatureName": "t", "ValueAsString": str(1_700_000_000 + i)}]


class Serve:
    def __init__(self, data_dir: Path | None) -> None:
        started = time.perf_counter()
        extra = ["--data-dir", str(data_dir)] if data_dir else []
        self.errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in stop
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fsconformance", "serve", "--port", "0", *extra],
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            env={**os.environ, **ZERO},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.seconds_to_listen = time.perf_counter() - started
        assert "listening on" in line, line
        self.url = line.rsplit(" ", 1)[1].strip()
        self.errors.seek(0)
        self.notices = self.errors.read().splitlines()

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=120)
        self.errors.seek(0)
        for line in self.errors.read().splitlines():
            if "moto gave" in line or "Traceback" in line:  # a failed write skews the rates
                print(f"server: {line}", file=sys.stderr)
        self.errors.close()


def prepare(server: Serve) -> None:
    server.client("s3").create_bucket(Bucket="bench-objects")
    server.client("sagemaker").create_feature_group(
        FeatureGroupName="bench",
        RecordIdentifierFeatureName="id",
        EventTimeFeatureName="t",
        FeatureDefinitions=FEATURES,
        OnlineStoreConfig={"EnableOnlineStore": True},
    )


def throughput(server: Serve, kind: str, threads: int, writes: int) -> float:
    """Writes per second of ``threads`` clients writing ``writes`` in all."""
    per_thread = writes // threads
    ready = threading.Barrier(threads + 1)

    def work(offset: int) -> None:
        if kind == "PutRecord":
            runtime = server.client("sagemaker-featurestore-runtime")
            call: Callable[[int], Any] = lambda i: runtime.put_record(  # noqa: E731
                FeatureGroupName="bench", Record=record(i)
            )
        else:
            s3 = server.client("s3")
            body = os.urandom(1024)
            call = lambda i: s3.put_object(Bucket="bench-objects", Key=f"k{i % 500}", Body=body)  # noqa: E731
        call(offset)  # warm the connection
        ready.wait()
        for i in range(per_thread):
            call(offset + i)

    workers = [threading.Thread(target=work, args=(n * per_thread,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return per_thread * threads / (time.perf_counter() - started)


def bench_throughput(writes: int, rounds: int) -> None:
    print(f"Write throughput over serve, writes/s (median of {rounds} interleaved rounds)")
    print("| write | client threads | in memory | --data-dir | ratio |")
    print("|---|---|---|---|---|")
    results: dict[tuple[str, int, bool], list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for number in range(rounds):
            for durable in (False, True):
                data_dir = Path(scratch) / f"round{number}" if durable else None
                server = Serve(data_dir)
                try:
                    prepare(server)
                    for kind in ("PutRecord", "PutObject"):
                        for threads in (1, 4):
                            rate = throughput(server, kind, threads, writes)
                            results.setdefault((kind, threads, durable), []).append(rate)
                finally:
                    server.stop()
    for kind in ("PutRecord", "PutObject"):
        for threads in (1, 4):
            memory = statistics.median(results[(kind, threads, False)])
            durable = statistics.median(results[(kind, threads, True)])
            print(
                f"| {kind} | {threads} | {memory:.0f} | {durable:.0f} | {durable / memory:.2f}x |"
            )


def make_journal(data_dir: Path, entries: int) -> None:
    """``entries`` writes through the middleware ``serve`` uses, four writers at once."""
    script = f"""
import json, os, threading
os.environ.update({ZERO!r})
from werkzeug.test import Client
from fsconformance.emulator import moto_seam, settings
from fsconformance.emulator.transports.journal import Journal
from fsconformance.emulator.transports.wsgi import FeatureStoreMiddleware
settings.configure(settings.delays_from_env())
app = FeatureStoreMiddleware(moto_seam.server_app(), journal=Journal({str(data_dir)!r}))
auth = {AUTH!r}
def headers(service, **more):
    return {{"Authorization": auth.format(service=service), "Host": "127.0.0.1:5000", **more}}
client = Client(app)
client.put("/bench-objects", headers=headers("s3"))
client.post("/", headers=headers("sagemaker", **{{"X-Amz-Target": "SageMaker.CreateFeatureGroup",
    "Content-Type": "application/x-amz-json-1.1"}}), data=json.dumps({{"FeatureGroupName": "bench",
    "RecordIdentifierFeatureName": "id", "EventTimeFeatureName": "t",
    "FeatureDefinitions": {FEATURES!r}, "OnlineStoreConfig": {{"EnableOnlineStore": True}}}}))
def record(i):
    values = [{{"FeatureName": "id", "ValueAsString": str(i % 1000)}}]
    values += [{{"FeatureName": f"f{{k}}", "ValueAsString": f"value {{i}} {{k}}"}} for k in range(8)]
    return values + [{{"FeatureName": "t", "ValueAsString": str(1_700_000_000 + i)}}]
def work(first, count):
    c = Client(app)
    body = os.urandom(1024)
    for i in range(first, first + count):
        if i % 10 == 9:
            answer = c.put(f"/bench-objects/k{{i % 500}}", data=body, headers=headers("s3"))
        else:
            answer = c.put("/FeatureGroup/bench", data=json.dumps({{"Record": record(i)}}),
                           headers=headers("sagemaker", **{{"Content-Type": "application/json"}}))
        assert answer.status_code == 200, answer.data
per = {entries - 2} // 4
threads = [threading.Thread(target=work, args=(n * per, per + ({entries - 2} % 4 if n == 3 else 0)))
           for n in range(4)]
for t in threads: t.start()
for t in threads: t.join()
app.journal.close()
"""
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, **ZERO})


def bench_restart(sizes: list[int], restarts: int) -> None:
    print(
        "\nRestart with a journal of N writes (9 PutRecords : 1 PutObject of 1 KB), "
        f"median of {restarts} starts"
    )
    print("| writes | journal | launch to listening | of which the replay |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            data_dir = Path(scratch) / f"journal{size}"
            make_journal(data_dir, size)
            megabytes = (data_dir / "journal.log").stat().st_size / 1e6
            listening, replays = [], []
            for _ in range(restarts):
                server = Serve(data_dir)
                try:
                    (restored,) = [n for n in server.notices if " restored " in n]
                    assert f" restored {size} writes " in restored, restored
                    replays.append(float(restored.split(" in ")[-1].split()[0]))
                    listening.append(server.seconds_to_listen)
                finally:
                    server.stop()
            print(
                f"| {size:,} | {megabytes:.1f} MB | {statistics.median(listening):.1f} s "
                f"| {statistics.median(replays):.1f} s |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=1000, help="per measurement (1000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--journals", default="10000,100000", help="journal sizes to restart")
    parser.add_argument("--restarts", type=int, default=3, help="starts per journal (3)")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    if not args.skip_throughput:
        bench_throughput(args.writes, args.rounds)
    sizes = [int(s) for s in args.journals.split(",") if s]
    if sizes:
        bench_restart(sizes, args.restarts)


if __name__ == "__main__":
    main()
