"""Nothing accepted is lost: a write answered 200 is kept, with a missing bucket and after SIGKILL."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest

from conftest import FAST, ROLE, Wire
from fsconformance.emulator import clock
from fsconformance.mock import mock_featurestore
from fsconformance.waiters import eventually


def create(wire_or_sagemaker: object, name: str = "g") -> None:
    sagemaker = (
        wire_or_sagemaker.client("sagemaker")
        if isinstance(wire_or_sagemaker, Wire)
        else wire_or_sagemaker
    )
    sagemaker.create_feature_group(
        FeatureGroupName=name,
        RecordIdentifierFeatureName="id",
        EventTimeFeatureName="t",
        FeatureDefinitions=[
            {"FeatureName": "id", "FeatureType": "String"},
            {"FeatureName": "t", "FeatureType": "Fractional"},
        ],
        OnlineStoreConfig={"EnableOnlineStore": True},
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://offline/store"}},
        RoleArn=ROLE,
    )
    eventually(
        lambda: (
            sagemaker.describe_feature_group(FeatureGroupName=name)["FeatureGroupStatus"]
            == "Created"
        ),
        timeout=10,
        interval=0.02,
        what="created",
    )


def record(i: int) -> list[dict[str, str]]:
    return [
        {"FeatureName": "id", "ValueAsString": str(i)},
        {"FeatureName": "t", "ValueAsString": str(1000 + i)},
    ]


def offline_rows(s3: object) -> int:
    listed = s3.list_objects_v2(Bucket="offline").get("Contents", [])
    return sum(
        pq.read_table(
            io.BytesIO(s3.get_object(Bucket="offline", Key=o["Key"])["Body"].read())
        ).num_rows
        for o in listed
    )


def test_a_missing_bucket_blocks_the_offline_store_and_keeps_the_rows() -> None:
    with mock_featurestore(FAST):
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        create(sagemaker)
        for i in range(5):
            runtime.put_record(FeatureGroupName="g", Record=record(i))
        clock.flush_all()
        status = sagemaker.describe_feature_group(FeatureGroupName="g")["OfflineStoreStatus"]
        assert status["Status"] == "Blocked" and "offline" in status["BlockedReason"]
        listed = sagemaker.list_feature_groups(OfflineStoreStatusEquals="Blocked")
        assert [g["FeatureGroupName"] for g in listed["FeatureGroupSummaries"]] == ["g"]
        s3.create_bucket(Bucket="offline")
        clock.flush_all()
        assert offline_rows(s3) == 5
        assert sagemaker.describe_feature_group(FeatureGroupName="g")["OfflineStoreStatus"] == {
            "Status": "Active"
        }


class Served:
    def __init__(self, data_dir: Path) -> None:
        env = dict(
            os.environ,
            **{
                f"FSCONFORMANCE_DELAY_{k}": "0"
                for k in ("CREATE", "UPDATE", "DELETE", "DATA_PLANE", "OFFLINE")
            },
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fsconformance",
                "serve",
                "--port",
                "0",
                "--data-dir",
                str(data_dir),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        line = self.process.stdout.readline()
        assert "listening on" in line, line
        self.url = line.rsplit(" ", 1)[1].strip()
        self.wire = Wire("serve", self.url)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"


def test_every_write_answered_200_survives_sigkill(data_dir: Path) -> None:
    first = Served(data_dir)
    try:
        first.wire.client("s3").create_bucket(Bucket="offline")
        create(first.wire)
        runtime = first.wire.client("sagemaker-featurestore-runtime")
        for i in range(30):
            runtime.put_record(FeatureGroupName="g", Record=record(i))
        runtime.delete_record(
            FeatureGroupName="g", RecordIdentifierValueAsString="0", EventTime="2000"
        )
        first.wire.client("sagemaker").add_tags(
            ResourceArn="arn:aws:sagemaker:us-east-1:123456789012:feature-group/g",
            Tags=[{"Key": "k", "Value": "v"}],
        )
    finally:
        first.kill()  # no shutdown, no flush: only what was journaled before each 200 remains
    second = Served(data_dir)
    try:
        runtime = second.wire.client("sagemaker-featurestore-runtime")
        assert (
            runtime.get_record(FeatureGroupName="g", RecordIdentifierValueAsString="0").get(
                "Record"
            )
            is None
        )
        for i in range(1, 30):
            got = runtime.get_record(FeatureGroupName="g", RecordIdentifierValueAsString=str(i))
            assert {"FeatureName": "t", "ValueAsString": str(1000 + i)} in got["Record"]
        sagemaker = second.wire.client("sagemaker")
        assert sagemaker.list_tags(
            ResourceArn="arn:aws:sagemaker:us-east-1:123456789012:feature-group/g"
        )["Tags"] == [{"Key": "k", "Value": "v"}]
        table = sagemaker.describe_feature_group(FeatureGroupName="g")["OfflineStoreConfig"][
            "DataCatalogConfig"
        ]
        second.wire.client("glue").get_table(
            DatabaseName=table["Database"], Name=table["TableName"]
        )
        eventually(
            lambda: offline_rows(second.wire.client("s3")) == 31,
            timeout=20,
            interval=0.1,
            what="31 offline rows",
        )
    finally:
        second.stop()
