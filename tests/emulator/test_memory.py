"""Memory is given back: written offline rows leave the buffer, a deleted group's records go,
and create/ingest/delete cycles with a user's teardown do not grow the process."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import boto3
import pytest

from fsconformance.emulator import clock, moto_seam
from fsconformance.emulator.state import state_for
from fsconformance.mock import mock_featurestore
from fsconformance.model.records import OnlineRecord
from fsconformance.waiters import eventually
from tests.helpers import FAST, ID_AND_TIME, create_request, record


def test_deleting_a_group_releases_its_records_and_written_rows() -> None:
    with mock_featurestore(FAST):
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="offline")
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
        state = state_for("123456789012", "us-east-1")
        for cycle in range(3):
            name = f"cycle{cycle}"
            request = create_request(name, ID_AND_TIME, offline="s3://offline/store")
            sagemaker.create_feature_group(**request)
            for i in range(50):
                runtime.put_record(FeatureGroupName=name, Record=record(id=str(i), t="1"))
            group = state.control_plane.find(name)
            data = state.data_plane.data_for(group)
            assert len(data.online) == 50
            clock.flush_now(state)
            assert data.offline == []  # written rows are no longer held
            sagemaker.delete_feature_group(FeatureGroupName=name)
            clock.tick()
            assert state.data_plane._data == {}, "the deleted group's records are still held"
        objects = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket="offline")
        assert objects["KeyCount"] >= 3  # and the rows did reach S3 first


@pytest.mark.parametrize("offline", [None, "s3://offline/store"])
def test_a_group_whose_deletion_a_describe_saw_finish_releases_its_records(
    offline: str | None,
) -> None:
    """A user waits for a deletion by polling DescribeFeatureGroup (C-189 ``wait_for_delete``);
    the describe that finds the group gone is the one that finishes its deletion. The group's
    records go all the same, on the next request that moves the clock, so a process doing
    create/ingest/delete cycles does not keep every deleted group's online store."""
    with mock_featurestore(FAST):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="offline")
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
        state = state_for("123456789012", "us-east-1")
        for cycle in range(2):
            name = f"polled{cycle}"
            sagemaker.create_feature_group(**create_request(name, ID_AND_TIME, offline=offline))
            for i in range(20):
                runtime.put_record(FeatureGroupName=name, Record=record(id=str(i), t="1"))
            assert len(state.data_plane.data_for(state.control_plane.find(name)).online) == 20
            sagemaker.delete_feature_group(FeatureGroupName=name)
            with pytest.raises(sagemaker.exceptions.ResourceNotFound):
                sagemaker.describe_feature_group(FeatureGroupName=name)
            s3.list_objects_v2(Bucket="offline")  # any request outside SageMaker's own
            assert state.data_plane._data == {}, "the deleted group's records are still held"


def test_a_query_keeps_its_result_rows_only_while_its_result_object_exists() -> None:
    """GetQueryResults streams a result from the query results location in S3 (the Athena
    model's documentation of it): once the teardown deletes ``<id>.csv`` there is nothing to
    stream, and the emulation gives the rows back. The execution stays in the history; what
    it ran (the parsed statement and the rows it loaded) goes as soon as it ends."""
    from fsconformance.emulator.athena.handlers import AthenaState

    with mock_featurestore(FAST):
        s3 = boto3.client("s3", region_name="us-east-1")
        athena = boto3.client("athena", region_name="us-east-1")
        s3.create_bucket(Bucket="results")
        state = state_for("123456789012", "us-east-1")
        ids = []
        for sql in ("SELECT 1 AS one UNION ALL SELECT 2", "SELECT * FROM no_such_table"):
            ids.append(
                athena.start_query_execution(
                    QueryString=sql,
                    ResultConfiguration={"OutputLocation": "s3://results/out/"},
                )["QueryExecutionId"]
            )
        done, failed = ids

        def ended(query_id: str) -> str | None:
            status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            state_now = status["Status"]["State"]
            return state_now if state_now in ("SUCCEEDED", "FAILED", "CANCELLED") else None

        assert eventually(lambda: ended(done), timeout=30, interval=0.01) == "SUCCEEDED"
        assert eventually(lambda: ended(failed), timeout=30, interval=0.01) == "FAILED"
        executions = state.store("athena", AthenaState).executions
        assert executions[done].statement is None and executions[failed].statement is None
        rows = athena.get_query_results(QueryExecutionId=done)["ResultSet"]["Rows"]
        assert [r["Data"][0]["VarCharValue"] for r in rows] == ["one", "1", "2"]

        s3.delete_objects(
            Bucket="results",
            Delete={"Objects": [{"Key": f"out/{done}.csv"}, {"Key": f"out/{done}.csv.metadata"}]},
        )
        moto_seam.release_forgotten_models(force=True)
        gc.collect()
        assert executions[done].result is None, "the rows outlived their result object"
        with pytest.raises(athena.exceptions.InvalidRequestException, match=f"{done}.csv"):
            athena.get_query_results(QueryExecutionId=done)
        assert ended(done) == "SUCCEEDED"  # the history stays
        listed = athena.list_query_executions()["QueryExecutionIds"]
        assert done in listed and failed in listed


def test_records_share_their_feature_names() -> None:
    one = OnlineRecord({"id": "a", "t": "1"}, 1.0, None)
    two = OnlineRecord({"id": "b", "t": "2"}, 2.0, None)
    assert one._names is two._names
    assert one.values == {"id": "a", "t": "1"} and two.values["id"] == "b"
    one.values = {"id": "a"}
    assert one.values == {"id": "a"} and one != two


def _cycle(clients: dict[str, Any], name: str, puts: int) -> None:
    """One cycle as a test does it: create, ingest, delete, then the teardown (C-084)."""
    clients["sagemaker"].create_feature_group(
        **create_request(name, ID_AND_TIME, offline="s3://offline/store")
    )
    for i in range(puts):
        # One event-time hour per record: one offline file (one S3 key) per record.
        moment = str(1_700_000_000 + 3600 * i)
        clients["runtime"].put_record(FeatureGroupName=name, Record=record(id=str(i), t=moment))
    catalog = clients["sagemaker"].describe_feature_group(FeatureGroupName=name)[
        "OfflineStoreConfig"
    ]["DataCatalogConfig"]
    clients["sagemaker"].delete_feature_group(FeatureGroupName=name)
    clock.tick()
    s3 = clients["s3"]
    listed = s3.list_objects_v2(Bucket="offline").get("Contents", [])
    assert listed, "the offline files did reach S3"
    s3.delete_objects(
        Bucket="offline", Delete={"Objects": [{"Key": entry["Key"]} for entry in listed]}
    )
    clients["glue"].delete_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])


def _live(type_name: str) -> int:
    gc.collect()
    return sum(type(o).__name__ == type_name for o in gc.get_objects())


@pytest.mark.slow
def test_create_ingest_delete_cycles_do_not_grow() -> None:
    puts, cycles = 40, 8
    with mock_featurestore(FAST):
        clients = {
            service: boto3.client(service, region_name="us-east-1")
            for service in ("sagemaker", "sagemaker-featurestore-runtime", "s3", "glue")
        }
        clients["runtime"] = clients["sagemaker-featurestore-runtime"]
        clients["s3"].create_bucket(Bucket="offline")
        for cycle in range(2):  # warm-up: botocore's models and moto's backends load once
            _cycle(clients, f"warm{cycle}", puts)
        tracemalloc.start()
        try:
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            for cycle in range(cycles):
                _cycle(clients, f"cycle{cycle}", puts)
            clients["s3"].list_objects_v2(Bucket="offline")  # one more request: the clock runs
            # Each cycle wrote and deleted `puts` S3 keys; moto's instance tracker held every
            # one of them (and the Glue table) until the mock stopped. At most the keys since
            # the clock's last release of that tracker (200 tracked instances) may be alive.
            keys = _live("FakeKey")
            assert keys < 150, f"{keys} deleted S3 keys are still in memory after {cycles} cycles"
            moto_seam.release_forgotten_models(force=True)  # the tail since the last release
            gc.collect()
            growth = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        # A cycle held about 100 KB while it ran; what stays is caches filling up (~15 KB).
        assert growth < 40_000 * cycles, f"{cycles} cycles grew the traced memory {growth:,} B"
