"""Time an emulated Athena query over many offline rows (targets: 1,000,000 rows, the
first query with replication <= 2 s, a repeated aggregate <= 1 s).

Rows are appended to the emulated offline store directly through the model (putting 100,000
records through boto3 would measure PutRecord instead); the timed part is what a user waits
for: replication of the buffered rows to Parquet on the first query, then repeated queries.
A query over a one-row group runs first and is reported apart: it pays what a process pays
once (DuckDB's start, the libraries pyarrow loads on its first conversion), not the rows.
Run: ``python benchmarks/bench_athena.py [--rows 100000]``.
"""

from __future__ import annotations

import argparse
import time

import boto3

from fsconformance import Delays, mock_featurestore
from fsconformance.emulator.state import state_for
from fsconformance.model.records import OfflineRow

GROUP = "bench-offline"
BUCKET = "bench-offline-store"
OUTPUT = f"s3://{BUCKET}/athena-results/"


def _query(athena, sql: str) -> tuple[float, list]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": "sagemaker_featurestore"},
        ResultConfiguration={"OutputLocation": OUTPUT},
    )["QueryExecutionId"]
    while True:  # queries run asynchronously: poll as a client does
        state = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if state["State"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.002)
    assert state["State"] == "SUCCEEDED", state
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    return time.perf_counter() - start, rows


def _create(sagemaker, name: str) -> str:  # type: ignore[no-untyped-def]
    """A group shaped like the sample's, with both stores; its Glue table's name."""
    sagemaker.create_feature_group(
        FeatureGroupName=name,
        RecordIdentifierFeatureName="customer_id",
        EventTimeFeatureName="event_time",
        FeatureDefinitions=[
            {"FeatureName": "customer_id", "FeatureType": "String"},
            {"FeatureName": "event_time", "FeatureType": "Fractional"},
            {"FeatureName": "n_days_active", "FeatureType": "Fractional"},
            {"FeatureName": "age_18-29", "FeatureType": "Integral"},
        ],
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{BUCKET}/offline"}},
        RoleArn="arn:aws:iam::123456789012:role/bench",
    )
    described = sagemaker.describe_feature_group(FeatureGroupName=name)
    return described["OfflineStoreConfig"]["DataCatalogConfig"]["TableName"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with mock_featurestore(
        delays=Delays(create=0, update=0, delete=0, data_plane=0, offline=0, athena=0)
    ):
        s3 = boto3.client("s3", region_name="us-east-1")
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        athena = boto3.client("athena", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        warm_up = _create(sagemaker, "bench-warm-up")
        boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1").put_record(
            FeatureGroupName="bench-warm-up",
            Record=[
                {"FeatureName": "customer_id", "ValueAsString": "C0"},
                {"FeatureName": "event_time", "ValueAsString": "1700000000"},
            ],
        )
        once, _ = _query(athena, f'SELECT count(*) FROM "{warm_up}"')
        table = _create(sagemaker, GROUP)
        state = state_for("123456789012", "us-east-1")
        group = state.control_plane.find(GROUP)
        offline = state.data_plane.data_for(group).offline
        now = time.time()
        for i in range(args.rows):
            values = {
                "customer_id": f"C{i % 500}",
                "event_time": str(1_700_000_000 + i),
                "n_days_active": str((i % 997) / 997),
                "age_18-29": str(i % 2),
            }
            offline.append(OfflineRow(values, 1_700_000_000 + i, now, is_deleted=False))

        count = f'SELECT count(*) FROM "{table}"'
        first, rows = _query(athena, count)
        assert rows[1]["Data"][0]["VarCharValue"] == str(args.rows), rows
        repeat, _ = _query(athena, count)
        dedup, rows = _query(
            athena,
            f"SELECT count(*) FROM (SELECT *, row_number() OVER (PARTITION BY customer_id "
            f"ORDER BY event_time DESC, api_invocation_time DESC, write_time DESC) AS row_num "
            f'FROM "{table}") WHERE row_num = 1 AND NOT is_deleted',
        )
        assert rows[1]["Data"][0]["VarCharValue"] == str(min(args.rows, 500)), rows
    print(f"the process's first query (one row; one-time loads): {once:.3f} s")
    print(f"first count(*) over {args.rows} rows (replication + query): {first:.3f} s")
    print(f"repeated count(*): {repeat:.3f} s")
    print(f"dedup query (row_number over customer_id): {dedup:.3f} s")


if __name__ == "__main__":
    main()
