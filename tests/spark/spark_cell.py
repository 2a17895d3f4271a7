"""What the Spark cell's tests share: the served endpoint's clients and groups to ingest into."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    from fsconformance.waiters import eventually

    sagemaker = client("sagemaker")
    storage: dict[str, Any] = {"S3Uri": f"s3://{OFFLINE_BUCKET}/store"}
    if kms_key:
        storage["KmsKeyId"] = kms_key
    arn = sagemaker.create_feature_group(
        FeatureGroupName=name,
        RecordIdentifierFeatureName=identifier,
        EventTimeFeatureName=event_time,
        FeatureDefinitions=[{"FeatureName": n, "FeatureType": t} for n, t in definitions],
        OnlineStoreConfig={"EnableOnlineStore": True},
        OfflineStoreConfig={"S3StorageConfig": storage},
        RoleArn=ROLE,
    )["FeatureGroupArn"]
    eventually(
        lambda: (
            sagemaker.describe_feature_group(FeatureGroupName=name)["FeatureGroupStatus"]
            == "Created"
        ),
        timeout=30,
        interval=0.05,
        what=f"{name} created",
    )
    return str(arn)


def source_uri(key: str, body: bytes) -> str:
    client("s3").put_object(Bucket=SOURCE_BUCKET, Key=key, Body=body)
    return f"s3://{SOURCE_BUCKET}/{key}"
