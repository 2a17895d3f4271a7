"""Self-tests of the Iceberg offline store: pyiceberg reads back what the emulation wrote,
one snapshot per replication batch, and the reader Athena is to call (C-064, C-179)."""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from pyiceberg.table import StaticTable

from fsconformance import Delays, mock_featurestore
from fsconformance.emulator import clock, moto_seam
from fsconformance.emulator.offline import iceberg
from tests.helpers import create_request, record

REGION = "us-east-1"
ZERO = Delays(create=0, update=0, delete=0, data_plane=0, offline=60)


@pytest.fixture(autouse=True)
def account(fresh_account: str) -> str:
    return fresh_account


def _group(account: str, uri: str, *, online: bool = True) -> dict[str, Any]:
    """Group ``g`` with an Iceberg offline store at ``uri``."""
    features = {"id": "String", "EventTime": "String", "n": "Integral"}
    role = f"arn:aws:iam::{account}:role/r"
    return create_request(
        "g", features, online=online, offline=uri, table_format="Iceberg", role=role
    )


def _put(runtime, identifier: str, event_time: str, n: str) -> None:
    runtime.put_record(
        FeatureGroupName="g", Record=record(id=identifier, EventTime=event_time, n=n)
    )


def test_pyiceberg_reads_the_rows_and_one_snapshot_per_batch(account: str) -> None:
    with mock_featurestore(delays=ZERO):
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="ice-bucket")
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name=REGION)
        sagemaker.create_feature_group(**_group(account, "s3://ice-bucket/p"))
        catalog = sagemaker.describe_feature_group(FeatureGroupName="g")["OfflineStoreConfig"][
            "DataCatalogConfig"
        ]
        _put(runtime, "a", "2024-01-02T03:04:05Z", "1")
        _put(runtime, "b", "2024-01-03T03:04:05Z", "2")
        clock.flush_all()  # batch 1: two days, two files, one snapshot
        _put(runtime, "a", "2024-01-04T00:00:00Z", "3")
        clock.flush_all()  # batch 2
        table_input = moto_seam.glue_table_input(
            account, REGION, catalog["Database"], catalog["TableName"]
        )
        assert table_input is not None
        location = table_input["Parameters"]["metadata_location"]
        table = StaticTable.from_metadata(location, iceberg.file_io_properties(account, REGION))
        rows = table.scan().to_arrow().to_pylist()
        via_reader = iceberg.read_table(account, REGION, table_input).to_pylist()

    assert sorted((r["id"], r["n"]) for r in rows) == [("a", 1), ("a", 3), ("b", 2)]
    assert len(table.metadata.snapshots) == 2
    assert table.spec().fields[0].name == "eventtime_trunc"
    assert table_input["Parameters"]["previous_metadata_location"] != location
    assert sorted(r["n"] for r in via_reader) == [1, 2, 3]


def test_read_table_refuses_a_glue_format_table() -> None:
    with pytest.raises(ValueError, match="not an Iceberg table"):
        iceberg.read_table("123456789012", REGION, {"Name": "t", "Parameters": {}})


def test_a_missing_bucket_delays_the_table_and_loses_no_row(account: str) -> None:
    with mock_featurestore(delays=ZERO):
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name=REGION)
        sagemaker.create_feature_group(**_group(account, "s3://late-bucket/p", online=False))
        _put(runtime, "a", "2024-01-02T03:04:05Z", "1")
        clock.flush_all()  # no bucket yet: nothing can be written, nothing is dropped
        catalog = sagemaker.describe_feature_group(FeatureGroupName="g")["OfflineStoreConfig"][
            "DataCatalogConfig"
        ]
        assert (
            moto_seam.glue_table_input(account, REGION, catalog["Database"], catalog["TableName"])
            is None
        )
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="late-bucket")
        clock.flush_all()
        table_input = moto_seam.glue_table_input(
            account, REGION, catalog["Database"], catalog["TableName"]
        )
        assert table_input is not None
        rows = iceberg.read_table(account, REGION, table_input).to_pylist()
    assert [(r["id"], r["n"]) for r in rows] == [("a", 1)]


def test_glue_finds_an_iceberg_groups_table_under_its_mixed_case_database(account: str) -> None:
    """C-080: the catalogue says SageMaker_FeatureStore (evidence E-19); Glue folds names to
    lower case, so the database is stored once, lowercased, and found in any spelling while
    the emulation is active. moto's own Glue is as released once the mock stops."""
    from moto.glue.models import GlueBackend

    released = GlueBackend.get_database
    with mock_featurestore(delays=ZERO):
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="ice-glue")
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        glue = boto3.client("glue", region_name=REGION)
        for name, table_format in (("Ice-Group", "Iceberg"), ("glue-group", "Glue")):
            sagemaker.create_feature_group(
                **create_request(
                    name,
                    {"id": "String", "EventTime": "String"},
                    online=False,
                    offline="s3://ice-glue/p",
                    table_format=table_format,
                    role=f"arn:aws:iam::{account}:role/r",
                )
            )
        catalog = sagemaker.describe_feature_group(FeatureGroupName="Ice-Group")[
            "OfflineStoreConfig"
        ]["DataCatalogConfig"]

        table = glue.get_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])

        assert catalog["Database"] == "SageMaker_FeatureStore"
        assert table["Table"]["DatabaseName"] == "sagemaker_featurestore"
        names = [d["Name"] for d in glue.get_databases()["DatabaseList"]]
        assert names == ["sagemaker_featurestore"]  # one database for both formats
        tables = glue.get_tables(DatabaseName="SAGEMAKER_FEATURESTORE")["TableList"]
        found = sorted(t["Name"] for t in tables)
        assert len(found) == 2 and catalog["TableName"] in found, found
        assert any(re.fullmatch(r"glue-group_\d+", name) for name in found), found
    assert GlueBackend.get_database is released
