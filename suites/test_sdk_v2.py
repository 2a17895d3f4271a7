"""The SageMaker SDK v2's Feature Store surface, unchanged, on every backend.

FeatureGroup (create, describe, update, delete, load_feature_definitions, ingest with one
worker, three workers and two processes of two workers, put/get/delete_record, athena_query),
FeatureStore (list_feature_groups, batch_get_record, search, create_dataset) and the
DatasetBuilder options. Expected rows are computed here from what the test wrote, by the rules
the SDK documents for each option (C-188) and the contract's for the stores.

Some DatasetBuilder queries need Athena SQL the emulation may not run yet (``to_timestamp`` for
``as_of``, ``CREATE EXTERNAL TABLE`` for a DataFrame base, C-187): such a test asks the
backend first and reports unsupported with the backend's own reason while it cannot.
"""

from __future__ import annotations

import datetime
import io
import os
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from fsconformance.backends.base import Backend

SDK2 = "sagemaker>=2.200,<3"
pytestmark = [
    pytest.mark.requires(packages=[SDK2], features=["online_store", "offline_store", "athena"]),
    pytest.mark.client("sdk2"),
]
T1 = 1_700_000_000.0
T2 = T1 + 3600
T_DELETE = T2 + 3600
IDS = range(6)


@pytest.fixture
def sdk(backend: Backend) -> Iterator[Any]:
    """A ``sagemaker.Session`` on the backend; every client it makes reaches the backend."""
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    import boto3
    import sagemaker

    credentials = {k: v for k, v in backend.client_options().items() if k.startswith("aws_")}
    with backend.every_client():
        bucket = backend.offline_s3_uri.removeprefix("s3://").split("/", 1)[0]
        yield sagemaker.Session(
            boto3.Session(region_name=backend.region, **credentials), default_bucket=bucket
        )


def frame(ids: Any, event_time: float, city: str) -> pd.DataFrame:
    ids = list(ids)
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="int64"),
            "city": pd.array([f"{city}-{i}" for i in ids], dtype="string"),
            "event_time": pd.array([event_time] * len(ids), dtype="float64"),
        }
    )


def create_group(backend: Backend, sdk: Any, data: pd.DataFrame) -> Any:
    from sagemaker.feature_store.feature_group import FeatureGroup

    name = backend.unique_name()
    group = FeatureGroup(name=name, sagemaker_session=sdk)
    definitions = group.load_feature_definitions(data_frame=data)
    assert {(d.feature_name, d.feature_type.value) for d in definitions} == {
        ("customer_id", "Integral"),
        ("city", "String"),
        ("event_time", "Fractional"),
    }
    backend.adopt(name)
    group.create(
        s3_uri=backend.offline_s3_uri,
        record_identifier_name="customer_id",
        event_time_feature_name="event_time",
        role_arn=backend.role_arn,
        enable_online_store=True,
    )
    backend.wait_until_created(name)
    return group


def online(group: Any, identifier: int) -> dict[str, str]:
    return {
        f["FeatureName"]: f["ValueAsString"]
        for f in group.get_record(record_identifier_value_as_string=str(identifier)) or []
    }


def offline(backend: Backend, group: Any, expected: int) -> pd.DataFrame:
    """The group's offline rows through athena_query, once ``expected`` rows have landed."""
    query = group.athena_query()

    def landed() -> tuple[pd.DataFrame] | None:
        query.run(
            query_string=f'SELECT * FROM "{query.table_name}"',
            output_location=f"{backend.athena_output}{group.name}",
        )
        query.wait()
        rows = query.as_dataframe()
        assert len(rows) <= expected, f"{len(rows)} offline rows, more than {expected}"
        return (rows,) if len(rows) == expected else None

    return backend.poll(landed, budget="offline", what=f"{expected} offline rows")[0]


@pytest.mark.clause("C-030", "C-042", "C-044", "C-060", "C-091")
@pytest.mark.parametrize(
    ("workers", "processes"), [(1, 1), (3, 1), (2, 2)], ids=["1-worker", "3-workers", "2x2"]
)
def test_ingest_keeps_every_row_online_and_offline(
    backend: Backend, sdk: Any, workers: int, processes: int
) -> None:
    from sagemaker.feature_store.feature_store import FeatureStore
    from sagemaker.feature_store.inputs import Identifier

    data = frame(range(20), T1, "city")
    group = create_group(backend, sdk, data)
    manager = group.ingest(data_frame=data, max_workers=workers, max_processes=processes, wait=True)
    assert manager.failed_rows == []
    found = FeatureStore(sagemaker_session=sdk).batch_get_record(
        identifiers=[
            Identifier(
                feature_group_name=group.name,
                record_identifiers_value_as_string=[str(i) for i in range(20)],
            )
        ]
    )
    records = {
        r["RecordIdentifierValueAsString"]: {
            f["FeatureName"]: f["ValueAsString"] for f in r["Record"]
        }
        for r in found["Records"]
    }
    assert set(records) == {str(i) for i in range(20)}
    for i in range(20):
        assert records[str(i)]["city"] == f"city-{i}"
        assert float(records[str(i)]["event_time"]) == T1
    rows = offline(backend, group, 20)
    assert sorted(int(v) for v in rows["customer_id"]) == list(range(20))


@pytest.mark.clause("C-030", "C-040", "C-051", "C-053", "C-100", "C-101", "C-130", "C-131")
def test_records_updates_listing_and_delete(backend: Backend, sdk: Any) -> None:
    from sagemaker.feature_store.feature_definition import StringFeatureDefinition
    from sagemaker.feature_store.feature_store import FeatureStore
    from sagemaker.feature_store.inputs import (
        DeletionModeEnum,
        FeatureValue,
    )

    group = create_group(backend, sdk, frame([0], T1, "city"))
    assert group.describe()["FeatureGroupStatus"] == "Created"
    group.put_record(
        record=[
            FeatureValue(feature_name="customer_id", value_as_string="7"),
            FeatureValue(feature_name="city", value_as_string="oslo"),
            FeatureValue(feature_name="event_time", value_as_string=str(T1)),
        ]
    )
    assert online(group, 7) == {"customer_id": "7", "city": "oslo", "event_time": str(T1)}

    group.update(feature_additions=[StringFeatureDefinition("email")])
    description = backend.wait_for_update(group.name)
    assert "email" in [d["FeatureName"] for d in description["FeatureDefinitions"]]
    assert "email" not in online(group, 7)  # nothing is backfilled (C-053)

    group.delete_record(
        record_identifier_value_as_string="7",
        event_time=str(T2),
        deletion_mode=DeletionModeEnum.SOFT_DELETE,
    )
    assert online(group, 7) == {}

    store = FeatureStore(sagemaker_session=sdk)
    listed = store.list_feature_groups(name_contains=group.name)["FeatureGroupSummaries"]
    assert [g["FeatureGroupName"] for g in listed] == [group.name]
    group.delete()
    backend.wait_until_deleted(group.name)


@pytest.mark.clause("C-177")
def test_search_finds_the_group_by_name(backend: Backend, sdk: Any) -> None:
    from sagemaker.feature_store.feature_store import FeatureStore
    from sagemaker.feature_store.inputs import Filter, FilterOperatorEnum, ResourceEnum

    group = create_group(backend, sdk, frame([0], T1, "city"))
    results = FeatureStore(sagemaker_session=sdk).search(
        resource=ResourceEnum.FEATURE_GROUP,
        filters=[
            Filter(name="FeatureGroupName", value=group.name, operator=FilterOperatorEnum.EQUALS)
        ],
    )["Results"]
    assert [r["FeatureGroup"]["FeatureGroupName"] for r in results] == [group.name]
    assert "ThroughputConfig" not in results[0]["FeatureGroup"]


# -- DatasetBuilder ---------------------------------------------------------------------------


@pytest.fixture
def history(backend: Backend, sdk: Any) -> Any:
    """Ids 0-5 at T1; ids 0-2 again at T2 with new cities; id 3's T1 row twice (a duplicate);
    id 5 soft-deleted at T_DELETE. Eleven offline rows: ten puts and one delete marker."""
    from sagemaker.feature_store.inputs import DeletionModeEnum

    group = create_group(backend, sdk, frame(IDS, T1, "first"))
    for data in (frame(IDS, T1, "first"), frame([0, 1, 2], T2, "second"), frame([3], T1, "first")):
        assert group.ingest(data_frame=data, max_workers=1, wait=True).failed_rows == []
    group.delete_record(
        record_identifier_value_as_string="5",
        event_time=str(T_DELETE),
        deletion_mode=DeletionModeEnum.SOFT_DELETE,
    )
    offline(backend, group, 11)
    return group


def dataset(sdk: Any, group: Any, backend: Backend, base: Any = None, **options: Any) -> Any:
    from sagemaker.feature_store.feature_store import FeatureStore

    return FeatureStore(sagemaker_session=sdk).create_dataset(
        base=group if base is None else base,
        output_path=f"{backend.athena_output}{group.name}-dataset",
        **options,
    )


def pairs(rows: pd.DataFrame) -> list[tuple[int, float, str]]:
    """(id, event time, city) of each row, sorted: what the oracle below predicts."""
    return sorted(
        (int(r["customer_id"]), float(r["event_time"]), str(r["city"]))
        for r in rows.to_dict("records")
    )


# The oracle: the rows written above, by the rules the SDK documents for each option.
LIVE_T1 = [(i, T1, f"first-{i}") for i in range(5)]  # id 5 is deleted after its only put
LIVE_T2 = [(i, T2, f"second-{i}") for i in range(3)]


@pytest.mark.clause("C-188", "C-093", "C-102")
def test_dataset_from_the_group_dedups_and_drops_deleted_records(
    backend: Backend, sdk: Any, history: Any
) -> None:
    rows, query = dataset(sdk, history, backend).to_dataframe()
    assert "row_number()" in query
    assert pairs(rows) == sorted(LIVE_T1 + LIVE_T2)


@pytest.mark.clause("C-188")
def test_dataset_options_select_the_documented_rows(
    backend: Backend, sdk: Any, history: Any
) -> None:
    duplicated, _ = dataset(sdk, history, backend).include_duplicated_records().to_dataframe()
    assert pairs(duplicated) == sorted([*LIVE_T1, (3, T1, "first-3"), *LIVE_T2])

    deleted, _ = dataset(sdk, history, backend).include_deleted_records().to_dataframe()
    assert pairs(deleted) == sorted([*LIVE_T1, (5, T1, "first-5"), *LIVE_T2])

    recent, _ = (
        dataset(sdk, history, backend)
        .with_number_of_recent_records_by_record_identifier(1)
        .to_dataframe()
    )
    latest = {i: row for i, *_ in LIVE_T1 for row in [*LIVE_T1, *LIVE_T2] if row[0] == i}
    assert pairs(recent) == sorted(latest.values())

    window, _ = (
        dataset(sdk, history, backend)
        .with_event_time_range(
            starting_timestamp=datetime.datetime.fromtimestamp(T1 + 1, datetime.timezone.utc),
            ending_timestamp=datetime.datetime.fromtimestamp(T2 + 1, datetime.timezone.utc),
        )
        .to_dataframe()
    )
    assert pairs(window) == sorted(LIVE_T2)

    csv_uri, _ = dataset(sdk, history, backend).to_csv_file()
    bucket, _, key = csv_uri.removeprefix("s3://").partition("/")
    body = backend.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert len(pd.read_csv(io.BytesIO(body))) == len(LIVE_T1) + len(LIVE_T2)


def athena_cannot(backend: Backend, sql: str) -> str | None:
    """Ask the backend's Athena to run ``sql``; the reason it failed, or None."""
    athena = backend.athena
    started = athena.start_query_execution(
        QueryString=sql,
        ResultConfiguration={"OutputLocation": f"{backend.athena_output}probe/"},
        QueryExecutionContext={"Database": "sagemaker_featurestore"},
    )["QueryExecutionId"]

    def done() -> dict[str, Any] | None:
        status = athena.get_query_execution(QueryExecutionId=started)["QueryExecution"]["Status"]
        return status if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") else None

    status = backend.poll(done, budget="offline", what="probe query")
    if status["State"] == "SUCCEEDED":
        return None
    return (
        f"the backend's Athena cannot run {sql.split('(')[0]!r}: {status.get('StateChangeReason')}"
    )


@pytest.mark.clause("C-188")
def test_dataset_as_of_a_write_time(backend: Backend, sdk: Any, history: Any) -> None:
    missing = athena_cannot(
        backend, "SELECT to_timestamp('2024-01-01 00:00:00', 'yyyy-mm-dd hh24:mi:ss')"
    )
    if missing:
        pytest.skip(f"unsupported: {missing} (branch athena)")
    # as_of writes str(timestamp) into to_timestamp(..., 'yyyy-mm-dd hh24:mi:ss') (C-188): a
    # naive datetime, read as UTC like write_time, as the SDK's own tests pass. An aware one
    # would add "+00:00", which Trino's parser refuses as trailing text.
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    rows, query = (
        dataset(sdk, history, backend).as_of(now + datetime.timedelta(hours=1)).to_dataframe()
    )
    assert "to_timestamp(" in query
    assert pairs(rows) == sorted(LIVE_T1 + LIVE_T2)
    rows, _ = dataset(sdk, history, backend).as_of(datetime.datetime(2000, 1, 1)).to_dataframe()
    assert pairs(rows) == []  # nothing had been written by then
    aware = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    with pytest.raises(RuntimeError, match="Failed to execute query"):
        dataset(sdk, history, backend).as_of(aware).to_dataframe()


@pytest.mark.clause("C-187", "C-188")
def test_dataset_from_a_dataframe_with_a_point_in_time_join(
    backend: Backend, sdk: Any, history: Any
) -> None:
    probe_table = f"fsct_probe_{backend.unique_name().replace('-', '_')}"
    missing = athena_cannot(
        backend,
        f"CREATE EXTERNAL TABLE {probe_table} (a INT) ROW FORMAT SERDE "
        "'org.apache.hadoop.hive.serde2.OpenCSVSerde' "
        f"LOCATION '{backend.athena_output}probe-table/'",
    )
    if missing:
        pytest.skip(f"unsupported: {missing} (branch athena)")
    # A base frame observed between the two ingests: a point-in-time join must not see T2.
    base = pd.DataFrame(
        {
            "customer_id": pd.array([0, 1, 2], dtype="int64"),
            "event_time": pd.array([T1 + 10] * 3, dtype="float64"),
        }
    )
    rows, query = (
        dataset(
            sdk,
            history,
            backend,
            base=base,
            record_identifier_feature_name="customer_id",
            event_time_identifier_feature_name="event_time",
        )
        .with_feature_group(history, target_feature_name_in_base="customer_id")
        .point_in_time_accurate_join()
        .to_dataframe()
    )
    assert "CREATE EXTERNAL TABLE" not in query  # the DDL ran as a query of its own
    joined = sorted(
        str(row[c]) for row in rows.to_dict("records") for c in row if str(c).startswith("city")
    )
    assert joined == [f"first-{i}" for i in range(3)]
