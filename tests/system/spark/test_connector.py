"""The Feature Store Spark connector as shipped, against ``serve --tls`` (docs/spark.md).

``FeatureStoreManager.ingest_data`` to the online store, to the offline store and to both,
with no timestamp setting: the connector writes ``write_time``/``api_invocation_time`` as
Spark's INT96, turns SSE-KMS on, and sets the AWS endpoint for S3A itself. What the job wrote
is fed to the contract's oracle (fsconformance.testing.oracle), and the emulation's answers
through GetRecord, Athena, pyathena and DatasetBuilder are checked against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from fsconformance.testing.oracle import OFFLINE, ONLINE, Oracle
from fsconformance.waiters import eventually

from .cell import OFFLINE_BUCKET, athena, catalog, client, create_group

TYPES = {"id": "String", "t": "Fractional", "clicks": "Integral", "city": "String"}
DEFINITIONS = list(TYPES.items())
T0 = 1_700_000_000.0


def rows(count: int, event_time: float, city: str) -> list[tuple[str, float, int, str]]:
    return [(f"r{i}", event_time + i, i * 7, f"{city}-{i}") for i in range(count)]


def frame(spark: Any, data: list[tuple[str, float, int, str]]) -> Any:
    return spark.createDataFrame(data, "id string, t double, clicks long, city string")


def feed(oracle: Oracle, data: list[tuple[str, float, int, str]], stores: list[str]) -> None:
    """What the job wrote, as the oracle's PutRecord calls (one per row, C-067)."""
    for identifier, event_time, clicks, city in data:
        values = {"id": identifier, "t": repr(event_time), "clicks": str(clicks), "city": city}
        oracle.put(identifier, values, event_time, stores)


def typed(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values by feature type: the connector sends Spark's string form of a double
    (``1.7E9``), the oracle holds Python's; both are the same number (C-020, C-021)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        kind = TYPES.get(name)
        out[name] = (
            float(value) if kind == "Fractional" else int(value) if kind == "Integral" else value
        )
    return out


def ingest(spark: Any, arn: str, data: list[tuple[str, float, int, str]], stores: Any) -> None:
    from feature_store_pyspark.FeatureStoreManager import FeatureStoreManager

    manager = FeatureStoreManager()
    manager.ingest_data(
        input_data_frame=frame(spark, data), feature_group_arn=arn, target_stores=stores
    )
    failed = manager.get_failed_stream_ingestion_data_frame()
    assert failed is None or failed.count() == 0


def online_matches(name: str, oracle: Oracle, identifiers: list[str]) -> None:
    runtime = client("sagemaker-featurestore-runtime")
    for identifier in identifiers:
        found = runtime.get_record(FeatureGroupName=name, RecordIdentifierValueAsString=identifier)
        record = {f["FeatureName"]: f["ValueAsString"] for f in found.get("Record", [])}
        expected = oracle.get(identifier)
        assert (typed(record) if record else None) == (typed(expected) if expected else None), (
            identifier
        )


def offline_matches(name: str, oracle: Oracle) -> None:
    """Athena counts and reads every row the job wrote (C-091, C-065, C-066)."""
    database, table = catalog(name)
    count = athena(f'SELECT count(*) FROM "{table}"', database)
    assert count == [[str(oracle.offline_rows)]]
    found = athena(
        f'SELECT id, t, clicks, city, is_deleted, write_time >= api_invocation_time FROM "{table}"',
        database,
    )
    expected = sorted(((row.identifier, typed(row.values)) for row in oracle.offline), key=repr)
    got = sorted(
        ((r[0], typed({"id": r[0], "t": r[1], "clicks": r[2], "city": r[3]})) for r in found),
        key=repr,
    )
    assert got == expected
    assert {(r[4], r[5]) for r in found} == {("false", "true")}


@pytest.mark.clause("C-030", "C-041", "C-036")
def test_ingest_to_the_online_store(spark: Any, name: str) -> None:
    arn = create_group(name, DEFINITIONS, identifier="id", event_time="t")
    oracle = Oracle()
    data = rows(25, T0, "first")
    ingest(spark, arn, data, ["OnlineStore"])
    feed(oracle, data, [ONLINE])
    online_matches(name, oracle, [f"r{i}" for i in range(26)])  # r25 was never written


@pytest.mark.clause("C-061", "C-063", "C-065", "C-066", "C-091", "C-191")
def test_ingest_to_the_offline_store_as_shipped(spark: Any, name: str) -> None:
    """INT96 times, SSE-KMS with the group's key over TLS, Spark's file names: Athena,
    pyathena and DatasetBuilder read every row, GetRecord none."""
    kms_key = client("kms").create_key(Description=f"{name} offline store")["KeyMetadata"]["Arn"]
    arn = create_group(name, DEFINITIONS, identifier="id", event_time="t", kms_key=kms_key)
    oracle = Oracle()
    data = rows(30, T0, "first") + rows(10, T0 + 3600, "second")
    ingest(spark, arn, data, ["OfflineStore"])
    feed(oracle, data, [OFFLINE])
    offline_matches(name, oracle)
    online_matches(name, oracle, ["r0", "r5"])

    # Parquet objects under hourly partitions (C-063), encrypted with the group's key (C-191).
    s3 = client("s3")
    config = client("sagemaker").describe_feature_group(FeatureGroupName=name)
    uri = config["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
    prefix = uri.removeprefix(f"s3://{OFFLINE_BUCKET}/")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=OFFLINE_BUCKET, Prefix=prefix)["Contents"]]
    assert keys and all("/year=" in k and k.endswith(".parquet") for k in keys), keys
    for key in keys:
        head = s3.head_object(Bucket=OFFLINE_BUCKET, Key=key)
        assert (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")) == ("aws:kms", kms_key)

    # pyathena, as users query the offline store.
    import pyathena

    database, table = catalog(name)
    cursor = pyathena.connect(
        s3_staging_dir=f"s3://{OFFLINE_BUCKET}/pyathena/",
        region_name="us-east-1",
        schema_name=database,
    ).cursor()
    cursor.execute(f'SELECT id, count(*) FROM "{table}" GROUP BY id')
    assert dict(cursor.fetchall()) == oracle.offline_rows_per_identifier()

    # DatasetBuilder's dataset of the group (C-093, C-188).
    assert dataset(name) == expected_dataset(oracle)


def expected_dataset(oracle: Oracle) -> list[tuple[str, dict[str, Any]]]:
    """DatasetBuilder's default rows (C-093 4): one row per (record, event time), the later
    call's on a tie; records whose latest row is a delete marker dropped (none here)."""
    kept: dict[tuple[str, float], Any] = {}
    for row in oracle.offline:  # in call order: a later call replaces an equal key
        kept[(row.identifier, row.event_time)] = row
    live = oracle.latest_offline()
    rows = [(r.identifier, typed(r.values)) for r in kept.values() if r.identifier in live]
    return sorted(rows, key=repr)


def dataset(name: str) -> list[tuple[str, dict[str, Any]]]:
    import boto3
    import sagemaker
    from sagemaker.feature_store.feature_group import FeatureGroup
    from sagemaker.feature_store.feature_store import FeatureStore

    session = sagemaker.Session(
        boto3.Session(region_name="us-east-1"), default_bucket=OFFLINE_BUCKET
    )
    group = FeatureGroup(name=name, sagemaker_session=session)
    frame, _ = (
        FeatureStore(sagemaker_session=session)
        .create_dataset(base=group, output_path=f"s3://{OFFLINE_BUCKET}/datasets/{name}")
        .to_dataframe()
    )
    rows = [
        (str(r["id"]), typed({k: r[k] for k in ("id", "t", "clicks", "city")}))
        for r in frame.to_dict("records")
    ]
    return sorted(rows, key=repr)


@pytest.mark.clause("C-036", "C-067", "C-091", "C-093")
def test_ingest_to_both_stores_twice(spark: Any, name: str) -> None:
    """The default target stores: online and, through the service, offline; a second ingest
    with later event times replaces online records and appends offline rows."""
    arn = create_group(name, DEFINITIONS, identifier="id", event_time="t")
    oracle = Oracle()
    first, second = rows(12, T0, "first"), rows(12, T0 + 60, "second")
    for data in (first, second):
        ingest(spark, arn, data, None)
        feed(oracle, data, [ONLINE, OFFLINE])
    online_matches(name, oracle, [f"r{i}" for i in range(12)])
    database, table = catalog(name)
    eventually(
        lambda: athena(f'SELECT count(*) FROM "{table}"', database) == [[str(oracle.offline_rows)]],
        timeout=60,
        interval=0.2,
        what=f"{oracle.offline_rows} offline rows",
    )
    offline_matches(name, oracle)
    assert dataset(name) == expected_dataset(oracle)


def test_load_feature_definitions_from_schema(spark: Any) -> None:
    """The connector's schema mapping (C-066's SPARK source): long → Integral, double →
    Fractional, string → String."""
    from feature_store_pyspark.FeatureStoreManager import FeatureStoreManager

    found = FeatureStoreManager().load_feature_definitions_from_schema(
        frame(spark, rows(1, T0, "x"))
    )
    assert [(d["FeatureName"], d["FeatureType"]) for d in found] == DEFINITIONS
