"""Memory of the emulation: what an online record costs, and what deletion gives back.

Not a timed test: it prints three figures.

1. Online bytes per record (traced allocations) over 20,000 PutRecords (or as many as given)
   of a 10-feature record into an online-only group, against the size of the record's
   strings as Python holds them.
2. The process's traced memory after DeleteFeatureGroup, against before the group existed.
3. 20 cycles of create / 1,000 puts / delete (online and offline store; after each, the
   offline files and the Glue table deleted as a teardown does, C-084): the resident set and
   the traced memory after cycle 1 against after cycle 20 (target: within 5 MB).

Run: ``python benchmarks/bench_memory.py [records]``.
"""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc
from typing import Any

import boto3
from botocore.config import Config

from fsconformance.emulator import clock
from fsconformance.mock import mock_featurestore
from fsconformance.model.control_plane import Delays

FAST = Delays(create=0, update=0, delete=0, data_plane=0, offline=0)
FEATURES = ["id", "t"] + [f"f{i}" for i in range(8)]


def record(i: int) -> list[dict[str, str]]:
    values = [f"id-{i:08d}", "2026-01-01T00:00:00Z"] + [f"value-{i}-{j}" for j in range(8)]
    return [{"FeatureName": n, "ValueAsString": v} for n, v in zip(FEATURES, values, strict=True)]


def strings_size(i: int) -> int:
    return sum(sys.getsizeof(entry["ValueAsString"]) for entry in record(i))


def create(sagemaker: Any, name: str, offline: bool) -> None:
    request: dict[str, Any] = {
        "FeatureGroupName": name,
        "RecordIdentifierFeatureName": "id",
        "EventTimeFeatureName": "t",
        "FeatureDefinitions": [{"FeatureName": n, "FeatureType": "String"} for n in FEATURES],
        "OnlineStoreConfig": {"EnableOnlineStore": True},
    }
    if offline:
        request["OfflineStoreConfig"] = {"S3StorageConfig": {"S3Uri": "s3://offline/store"}}
        request["RoleArn"] = "arn:aws:iam::123456789012:role/fs"
    sagemaker.create_feature_group(**request)


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def resident() -> int:
    """The process's resident set, in bytes (Linux)."""
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main(records: int = 20_000) -> None:
    config = Config(retries={"max_attempts": 1})
    with mock_featurestore(FAST):
        sagemaker = boto3.client("sagemaker", region_name="us-east-1", config=config)
        runtime = boto3.client(
            "sagemaker-featurestore-runtime", region_name="us-east-1", config=config
        )
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="offline")
        put = runtime.put_record
        # Warm up first: botocore loads and caches service models on first use (megabytes).
        create(sagemaker, "warm", offline=False)
        put(FeatureGroupName="warm", Record=record(0))
        sagemaker.delete_feature_group(FeatureGroupName="warm")
        clock.tick()
        tracemalloc.start()
        empty = traced()
        create(sagemaker, "online", offline=False)
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
        sagemaker.delete_feature_group(FeatureGroupName="online")
        clock.tick()
        released = traced()
        print(
            f"after DeleteFeatureGroup: {(released - empty) / 1e6:+.2f} MB against before the "
            f"group (was {(after - empty) / 1e6:.1f} MB with the records)"
        )
        glue = boto3.client("glue", region_name="us-east-1")
        cycles: list[tuple[int, int]] = []
        for cycle in range(20):
            name = f"cycle{cycle}"
            create(sagemaker, name, offline=True)
            for i in range(1000):
                put(FeatureGroupName=name, Record=record(i))
            catalog = sagemaker.describe_feature_group(FeatureGroupName=name)["OfflineStoreConfig"][
                "DataCatalogConfig"
            ]
            sagemaker.delete_feature_group(FeatureGroupName=name)
            clock.tick()
            # As a test's teardown does (DeleteFeatureGroup leaves both, as on AWS: C-084).
            for listed in s3.list_objects_v2(Bucket="offline").get("Contents", []):
                s3.delete_object(Bucket="offline", Key=listed["Key"])
            glue.delete_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])
            cycles.append((resident(), traced()))
        tracemalloc.stop()
        rss = (cycles[-1][0] - cycles[0][0]) / 1e6
        heap = (cycles[-1][1] - cycles[0][1]) / 1e6
        print(
            "20 cycles of create / 1,000 puts / delete / teardown, resident set against after "
            "the first: "
            + ", ".join(f"{(c[0] - cycles[0][0]) / 1e6:+.2f}" for c in cycles[1:])
            + " MB"
        )
        print(
            f"after cycle 20 against after cycle 1: resident {rss:+.2f} MB, traced "
            f"{heap:+.2f} MB (target within 5 MB)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
