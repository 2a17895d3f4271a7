"""``fsconformance serve`` under concurrent clients, against a canned server on its own stack.

1, 4, 8 and 16 client processes share a measurement's requests, each client a seeded mix: 70% PutRecord,
20% GetRecord, 5% BatchGetRecord of 10 identifiers, 5% S3 ListObjectsV2. The floor is the same
clients against a canned threaded server on serve's stack (werkzeug's, with persistent
connections), answering each operation with a body of the size the emulation's has
(``floor_worker.py``). Both servers run in processes of their own, serve at its default
delays and then at zero; at each concurrency the two are measured alternately, three rounds
each, as a short window on this machine moves the canned server alone by 1.4x from run to run.
Reported per concurrency: the median aggregate requests/s of each and the median of the
rounds' ratios, serve's p50/p99/max latency over its rounds,
failures, and the canned server's own p99/p50 (the clients' share of the tail: parsing a
50-object listing costs a boto3 client several PutRecords).

Targets (design section 5): aggregate throughput >= 0.7x the canned server's at every
concurrency; p99 <= 3x p50 at 8 clients; no request fails and none takes longer than 1 s.
Run: ``python benchmarks/bench_serve_load.py [--total 2400] [--rounds 3] [--clients 1,4,8,16]
[--delays default,zero]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from floor_worker import GROUP, definitions, listening, record  # noqa: E402

BUCKET = "bench-offline-store"
IDENTIFIERS = 1000
# serve's delays by name: ``default`` is what ``serve`` does unless told otherwise (rows reach
# S3 in batches, one per group per 0.1 s window, C-060); ``zero`` writes a group's rows on
# every request that can observe S3, here every listing.
DELAYS = {
    "default": {},
    "zero": {
        f"FSCONFORMANCE_DELAY_{step}": "0"
        for step in ("CREATE", "UPDATE", "DELETE", "DATA_PLANE", "OFFLINE")
    },
}


def clients(url: str) -> tuple[Any, Any]:
    import boto3
    from botocore.config import Config

    options = {
        "region_name": "us-east-1",
        "endpoint_url": url,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "config": Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    }
    return boto3.client("sagemaker-featurestore-runtime", **options), boto3.client("s3", **options)


def one_request(runtime: Any, s3: Any, rng: random.Random) -> None:
    draw = rng.random()
    if draw < 0.70:
        runtime.put_record(FeatureGroupName=GROUP, Record=record(rng.randrange(IDENTIFIERS)))
    elif draw < 0.90:
        runtime.get_record(
            FeatureGroupName=GROUP,
            RecordIdentifierValueAsString=f"C{rng.randrange(IDENTIFIERS)}",
        )
    elif draw < 0.95:
        identifiers = [f"C{rng.randrange(IDENTIFIERS)}" for _ in range(10)]
        runtime.batch_get_record(
            Identifiers=[{"FeatureGroupName": GROUP, "RecordIdentifiersValueAsString": identifiers}]
        )
    else:
        s3.list_objects_v2(Bucket=BUCKET, MaxKeys=50)


def load(url: str, seed: int, requests: int, barrier: Any, out: Any) -> None:
    """One client process: warm up, wait for the others, send ``requests`` requests."""
    runtime, s3 = clients(url)
    rng = random.Random(seed)
    for _ in range(10):
        one_request(runtime, s3, rng)
    barrier.wait()
    latencies, failures = [], 0
    started = time.perf_counter()
    for _ in range(requests):
        begin = time.perf_counter()
        try:
            one_request(runtime, s3, rng)
        except Exception:  # noqa: BLE001 - a failure is counted, not raised
            failures += 1
        latencies.append(time.perf_counter() - begin)
    out.put((started, time.perf_counter(), latencies, failures))


def measure(url: str, count: int, requests: int, seed: int = 0) -> dict[str, Any]:
    context = mp.get_context("spawn")  # no mock, no state of ours in the clients
    barrier, out = context.Barrier(count), context.Queue()
    workers = [
        context.Process(target=load, args=(url, seed * 1000 + client, requests, barrier, out))
        for client in range(count)
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    begin = min(r[0] for r in results)
    end = max(r[1] for r in results)
    latencies = [latency for r in results for latency in r[2]]
    return {
        "rps": len(latencies) / (end - begin),
        "latencies": latencies,
        "failures": sum(r[3] for r in results),
    }


def alternated(canned_url: str, serve_url: str, count: int, total: int, rounds: int) -> tuple:
    """``rounds`` alternating measurements of the canned server and serve at ``count`` clients,
    ``total`` requests each: (median canned rps, median serve rps, median of the rounds' ratios,
    the canned and serve latencies over every round in ms, failures)."""
    requests = max(100, total // count)
    floors, emulated = [], []
    for round_number in range(rounds):
        floors.append(measure(canned_url, count, requests, round_number))
        emulated.append(measure(serve_url, count, requests, round_number))
    ratios = [e["rps"] / f["rps"] for f, e in zip(floors, emulated, strict=True)]
    return (
        statistics.median(f["rps"] for f in floors),
        statistics.median(e["rps"] for e in emulated),
        statistics.median(ratios),
        sorted(latency * 1000 for f in floors for latency in f["latencies"]),
        sorted(latency * 1000 for e in emulated for latency in e["latencies"]),
        sum(m["failures"] for m in floors + emulated),
    )


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[max(0, int(len(ordered) * fraction) - 1)]


def prepare(url: str) -> None:
    """The group (both stores) with every identifier written once, so reads find records
    and the bucket holds offline files to list."""
    import boto3

    options = {
        "region_name": "us-east-1",
        "endpoint_url": url,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    s3, iam = boto3.client("s3", **options), boto3.client("iam", **options)
    sagemaker = boto3.client("sagemaker", **options)
    s3.create_bucket(Bucket=BUCKET)
    role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    sagemaker.create_feature_group(
        FeatureGroupName=GROUP,
        RecordIdentifierFeatureName="customer_id",
        EventTimeFeatureName="event_time",
        FeatureDefinitions=definitions(),
        OnlineStoreConfig={"EnableOnlineStore": True},
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/offline"}},
        RoleArn=role,
    )
    deadline = time.monotonic() + 60
    while sagemaker.describe_feature_group(FeatureGroupName=GROUP)["FeatureGroupStatus"] != (
        "Created"
    ):
        assert time.monotonic() < deadline, "the group was not Created within 60 s"
        time.sleep(0.05)
    runtime, _ = clients(url)
    for start in range(0, IDENTIFIERS, 25):
        entries = [{"FeatureGroupName": GROUP, "Record": record(start + i)} for i in range(25)]
        runtime.batch_write_record(Entries=entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=2400, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--clients", default="1,4,8,16", help="concurrencies")
    parser.add_argument("--delays", default="default,zero", help="serve's delays: default, zero")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    canned = [sys.executable, str(HERE / "floor_worker.py"), "--canned-server"]
    serve = [sys.executable, "-m", "fsconformance", "serve", "--port", "0"]
    for delays in args.delays.split(","):
        print(f"serve at {delays} delays; {args.rounds} rounds of {args.total} requests each")
        print(
            f"{'clients':>7} {'canned rps':>10} {'serve rps':>10} {'ratio':>6} "
            f"{'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7} {'max ms':>7} {'failed':>6} "
            f"{'canned p99/p50':>14}"
        )
        serve_env = {**os.environ, **DELAYS[delays]}
        with listening(canned) as canned_url, listening(serve, serve_env) as serve_url:
            prepare(serve_url)
            for count in counts:
                floor_rps, serve_rps, ratio, floor_ms, serve_ms, failed = alternated(
                    canned_url, serve_url, count, args.total, args.rounds
                )
                p50, p99 = percentile(serve_ms, 0.5), percentile(serve_ms, 0.99)
                floor_tail = percentile(floor_ms, 0.99) / percentile(floor_ms, 0.5)
                print(
                    f"{count:>7} {floor_rps:>10.0f} {serve_rps:>10.0f} {ratio:>5.2f}x "
                    f"{p50:>7.2f} {p99:>7.2f} {p99 / p50:>6.2f}x {serve_ms[-1]:>7.1f} "
                    f"{failed:>6} {floor_tail:>13.2f}x",
                    flush=True,
                )
    print(
        "targets: ratio >= 0.70x at every concurrency; p99/p50 <= 3x at 8 clients; "
        "no failure; max <= 1000 ms"
    )


if __name__ == "__main__":
    main()
