"""A bounded soak over loopback: concurrent puts, gets, deletes and Athena queries on ``serve``.

Each worker owns its record identifiers (so the expected online state of each is known from
its own sequence of writes) while all of them share one feature group, one server and one
account. It stops by itself: a fixed number of operations per worker and a deadline.
Afterwards every identifier's online record follows the latest-event-time rule, the offline
store holds exactly one row per accepted write, and no call failed.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config

from fsconformance import flush_offline_store
from tests.helpers import Wire, make_group, query_ended

WORKERS = 4
OPERATIONS = 80  # per worker
IDENTIFIERS = 6  # per worker
DEADLINE = 180.0


def iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


@pytest.mark.parametrize("wire", ["serve"], indirect=True)
def test_concurrent_load_keeps_every_rule(wire: Wire) -> None:
    make_group(wire)
    config = Config(retries={"max_attempts": 1}, max_pool_connections=WORKERS + 2)

    def client(service: str) -> Any:
        return boto3.client(
            service,
            region_name="us-east-1",
            endpoint_url=wire.url,
            config=config,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    table = wire.client("sagemaker").describe_feature_group(FeatureGroupName="g")[
        "OfflineStoreConfig"
    ]["DataCatalogConfig"]["TableName"]
    times = list(range(1_600_000_000, 1_600_000_000 + WORKERS * OPERATIONS * 10, 7))
    random.Random(13).shuffle(times)
    errors: list[str] = []
    expected: dict[str, tuple[int, str | None]] = {}  # id -> (latest event time, value or deleted)
    accepted = [0] * WORKERS
    started = time.monotonic()

    def worker(index: int) -> None:
        runtime = client("sagemaker-featurestore-runtime")
        rng = random.Random(index)
        mine = [f"w{index}-{k}" for k in range(IDENTIFIERS)]
        latest: dict[str, tuple[int, str | None]] = {}
        for step in range(OPERATIONS):
            if time.monotonic() - started > DEADLINE:
                errors.append(f"worker {index} ran past the deadline")
                return
            identifier = rng.choice(mine)
            at = times[index * OPERATIONS + step]
            try:
                roll = rng.random()
                if roll < 0.55 or identifier not in latest:
                    runtime.put_record(
                        FeatureGroupName="g",
                        Record=[
                            {"FeatureName": "id", "ValueAsString": identifier},
                            {"FeatureName": "t", "ValueAsString": iso(at)},
                            {"FeatureName": "n", "ValueAsString": str(step)},
                        ],
                    )
                    accepted[index] += 1
                    if at >= latest.get(identifier, (-1, None))[0]:
                        latest[identifier] = (at, str(step))
                elif roll < 0.7:
                    runtime.delete_record(
                        FeatureGroupName="g",
                        RecordIdentifierValueAsString=identifier,
                        EventTime=iso(at),
                    )
                    accepted[index] += 1
                    if at > latest[identifier][0]:
                        latest[identifier] = (at, None)
                else:
                    other = f"w{rng.randrange(WORKERS)}-{rng.randrange(IDENTIFIERS)}"
                    runtime.get_record(FeatureGroupName="g", RecordIdentifierValueAsString=other)
            except Exception as error:  # every failure is collected and fails the test
                errors.append(f"worker {index} step {step}: {error!r}")
        expected.update(latest)

    def querier() -> None:
        athena = client("athena")
        for _ in range(4):
            try:
                qid = athena.start_query_execution(
                    QueryString=f'SELECT count(*) FROM "{table}"',
                    QueryExecutionContext={"Database": "sagemaker_featurestore"},
                    ResultConfiguration={"OutputLocation": "s3://offline/results/"},
                )["QueryExecutionId"]
                state = query_ended(athena, qid)["Status"]
                if state["State"] != "SUCCEEDED":
                    errors.append(f"query {state}")
            except Exception as error:
                errors.append(f"query: {error!r}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    threads.append(threading.Thread(target=querier))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, DEADLINE - (time.monotonic() - started)))
    assert not any(t.is_alive() for t in threads), "the soak did not stop by itself"
    assert errors == []

    runtime = wire.client("sagemaker-featurestore-runtime")
    for identifier, (at, value) in expected.items():
        got = runtime.get_record(FeatureGroupName="g", RecordIdentifierValueAsString=identifier)
        if value is None:
            assert "Record" not in got, (identifier, got)
        else:
            record = {f["FeatureName"]: f["ValueAsString"] for f in got["Record"]}
            assert record == {"id": identifier, "t": iso(at), "n": value}, identifier

    flush_offline_store()  # every accepted row to S3 now, rather than wait out the delay
    athena = wire.client("athena")
    qid = athena.start_query_execution(
        QueryString=f'SELECT count(*) FROM "{table}"',
        QueryExecutionContext={"Database": "sagemaker_featurestore"},
        ResultConfiguration={"OutputLocation": "s3://offline/results/"},
    )["QueryExecutionId"]
    assert query_ended(athena, qid)["Status"]["State"] == "SUCCEEDED"
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    assert int(rows[1]["Data"][0]["VarCharValue"]) == sum(accepted)  # one row per accepted write
