"""What the Spark cell's tests share: the served endpoint's clients and groups to ingest into."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fsconformance.waiters import eventually
from tests.helpers import create_request, wait_created

REGION = "us-east-1"
OFFLINE_BUCKET = "spark-offline-store"
SOURCE_BUCKET = "spark-sources"
ROLE = "arn:aws:iam::123456789012:role/feature-store"


@dataclass(frozen=True)
class Served:
    url: str
    ca_bundle: str
    truststore: str


def client(name: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(name, region_name=REGION, config=Config(s3={"addressing_style": "path"}))


def create_group(
    name: str,
    definitions: list[tuple[str, str]],
    *,
    identifier: str,
    event_time: str,
    kms_key: str | None = None,
) -> str:
    """A group with both stores (Glue format); its ARN once Created."""

    sagemaker = client("sagemaker")
    request = create_request(
        name,
        dict(definitions),
        offline=f"s3://{OFFLINE_BUCKET}/store",
        role=ROLE,
        RecordIdentifierFeatureName=identifier,
        EventTimeFeatureName=event_time,
    )
    if kms_key:
        request["OfflineStoreConfig"]["S3StorageConfig"]["KmsKeyId"] = kms_key
    arn = sagemaker.create_feature_group(**request)["FeatureGroupArn"]
    wait_created(sagemaker, name, timeout=30, interval=0.05)
    return str(arn)


def source_uri(key: str, body: bytes) -> str:
    client("s3").put_object(Bucket=SOURCE_BUCKET, Key=key, Body=body)
    return f"s3://{SOURCE_BUCKET}/{key}"


def athena(sql: str, database: str) -> list[list[str | None]]:
    """A query to its end through boto3 (C-090); the data rows."""
    athena = client("athena")
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Catalog": "AwsDataCatalog", "Database": database},
        ResultConfiguration={"OutputLocation": f"s3://{OFFLINE_BUCKET}/athena-results/"},
    )["QueryExecutionId"]

    def state() -> dict[str, Any] | None:
        found = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        return found if found["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") else None

    done = eventually(state, timeout=60, interval=0.05, what=f"Athena query {sql!r}")
    assert done["Status"]["State"] == "SUCCEEDED", done["Status"].get("StateChangeReason")
    result = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"][1:]
    return [[cell.get("VarCharValue") for cell in row["Data"]] for row in result]


def catalog(name: str) -> tuple[str, str]:
    config = client("sagemaker").describe_feature_group(FeatureGroupName=name)
    table = config["OfflineStoreConfig"]["DataCatalogConfig"]
    return table["Database"], table["TableName"]
