"""How the emulation's cost grows: with records per group, groups per account, client threads.

In-process, zero delays, groups shaped like the sample's (online + offline). Each line is
milliseconds per call (median of rounds) and, in brackets, that cost relative to the smallest
size: flat growth stays near 1.0x.

* records: the group is filled to N online records through the model (one shared record
  object, so a million records fit in memory; the hardening work owns the per-record layout),
  then PutRecord overwrites and GetRecord reads random ones among the N;
* groups: CreateFeatureGroup, DescribeFeatureGroup and PutRecord with N groups in the account;
* threads: PutRecord from 1, 4 and 16 threads, each with its own client (wall time per put),
  next to the same threads of plain canned clients in a moto-free process (the floor of
  ``bench_runtime``, rounds interleaved): the interpreter lock slows botocore alone too.

Run: ``python benchmarks/bench_growth.py [--max-records 1000000] [--calls 300]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_runtime import BUCKET, ZERO, Worker, create_group  # noqa: E402
from floor_worker import GROUP, definitions, record  # noqa: E402

from fsconformance import mock_featurestore  # noqa: E402
from fsconformance.emulator.state import state_for  # noqa: E402
from fsconformance.model.records import OnlineRecord  # noqa: E402

ROUNDS = 3


def per_call(calls: int, call: Any) -> float:
    """Median over rounds of milliseconds per call."""
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for i in range(calls):
            call(i)
        samples.append((time.perf_counter() - start) * 1000 / calls)
    return statistics.median(samples)


def line(label: str, size: int, ms: float, base: float) -> None:
    print(f"{label:<32} {size:>9,} {ms:9.3f} ms  ({ms / base:4.2f}x)", flush=True)


def records(max_records: int, calls: int) -> None:
    with mock_featurestore(delays=ZERO):
        create_group(
            boto3.client("sagemaker", region_name="us-east-1"),
            boto3.client("s3", region_name="us-east-1"),
        )
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
        state = state_for("123456789012", "us-east-1")
        data = state.data_plane.data_for(state.control_plane.find(GROUP))
        shared = OnlineRecord({"customer_id": "C0", "event_time": "1700000000.0"}, 1.7e9, None)
        sizes = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= max_records]
        bases: dict[str, float] = {}
        for size in sizes:
            with state.lock:
                for i in range(len(data.online), size):
                    data.online[f"C{i}"] = shared
            rng = random.Random(size)
            picks = [rng.randrange(size) for _ in range(calls)]
            put = per_call(
                calls,
                lambda i, picks=picks: runtime.put_record(
                    FeatureGroupName=GROUP, Record=record(picks[i])
                ),
            )
            get = per_call(
                calls,
                lambda i, picks=picks: runtime.get_record(
                    FeatureGroupName=GROUP, RecordIdentifierValueAsString=f"C{picks[i]}"
                ),
            )
            bases.setdefault("put", put)
            bases.setdefault("get", get)
            line("PutRecord, records in group", size, put, bases["put"])
            line("GetRecord, records in group", size, get, bases["get"])


def groups(calls: int) -> None:
    with mock_featurestore(delays=ZERO):
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        names: list[str] = []
        bases: dict[str, float] = {}

        def create() -> None:
            names.append(GROUP if not names else f"extra-{len(names)}")
            sagemaker.create_feature_group(
                FeatureGroupName=names[-1],
                RecordIdentifierFeatureName="customer_id",
                EventTimeFeatureName="event_time",
                FeatureDefinitions=definitions(),
                OnlineStoreConfig={"EnableOnlineStore": True},
                OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/offline"}},
                RoleArn="arn:aws:iam::123456789012:role/bench",
            )

        # 100 is the account's limit, so "create at N" is the cost of the groups that bring
        # the count to N (the last three, or the only one).
        for size in (1, 10, 100):
            timed = min(3, size)
            while len(names) < size - timed:
                create()
            start = time.perf_counter()
            while len(names) < size:
                create()
            created = (time.perf_counter() - start) * 1000 / timed
            rng = random.Random(size)
            described = per_call(
                calls,
                lambda i, rng=rng: sagemaker.describe_feature_group(
                    FeatureGroupName=rng.choice(names)
                ),
            )
            put = per_call(
                calls, lambda i: runtime.put_record(FeatureGroupName=GROUP, Record=record(i))
            )
            for label, ms in (
                ("CreateFeatureGroup, groups", created),
                ("DescribeFeatureGroup, groups", described),
                ("PutRecord, groups in account", put),
            ):
                line(label, size, ms, bases.setdefault(label, ms))


def threads(calls: int) -> None:
    worker = Worker()
    with mock_featurestore(delays=ZERO):
        create_group(
            boto3.client("sagemaker", region_name="us-east-1"),
            boto3.client("s3", region_name="us-east-1"),
        )
        base = floor_base = None
        for count in (1, 4, 16):
            clients = [
                boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
                for _ in range(count)
            ]
            each = max(calls // count, 10)
            samples, floors = [], []
            for _ in range(ROUNDS):

                def work(client: Any, offset: int, each: int = each) -> None:
                    for i in range(each):
                        client.put_record(FeatureGroupName=GROUP, Record=record(offset + i))

                workers = [
                    threading.Thread(target=work, args=(c, n * each)) for n, c in enumerate(clients)
                ]
                start = time.perf_counter()
                for thread in workers:
                    thread.start()
                for thread in workers:
                    thread.join()
                samples.append((time.perf_counter() - start) * 1000 / (each * count))
                floors.append(worker.run(f"put/{count}", each * count) * 1000 / (each * count))
            ms, floor = statistics.median(samples), statistics.median(floors)
            base, floor_base = base or ms, floor_base or floor
            line("PutRecord wall time, threads", count, ms, base)
            line("  plain botocore (floor)", count, floor, floor_base)
            print(f"{'  emulated / floor':<32} {count:>9,} {ms / floor:9.2f}x", flush=True)
    worker.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-records", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=300, help="calls per round")
    args = parser.parse_args()
    print(f"{'what, grown by':<32} {'size':>9} {'cost':>12}  (vs smallest)")
    records(args.max_records, args.calls)
    groups(args.calls)
    threads(args.calls)


if __name__ == "__main__":
    main()
