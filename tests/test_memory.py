"""Memory is given back: written offline rows leave the buffer, a deleted group's records go."""

from __future__ import annotations

import boto3

from conftest import FAST, ROLE
from fsconformance.emulator import clock
from fsconformance.emulator.state import state_for
from fsconformance.mock import mock_featurestore
from fsconformance.model.records import OnlineRecord


def test_deleting_a_group_releases_its_records_and_written_rows() -> None:
    with mock_featurestore(FAST):
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="offline")
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        runtime = boto3.client("sagemaker-featurestore-runtime", region_name="us-east-1")
        state = state_for("123456789012", "us-east-1")
        for cycle in range(3):
            name = f"cycle{cycle}"
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
            for i in range(50):
                runtime.put_record(
                    FeatureGroupName=name,
                    Record=[
                        {"FeatureName": "id", "ValueAsString": str(i)},
                        {"FeatureName": "t", "ValueAsString": "1"},
                    ],
                )
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


def test_records_share_their_feature_names() -> None:
    one = OnlineRecord({"id": "a", "t": "1"}, 1.0, None)
    two = OnlineRecord({"id": "b", "t": "2"}, 2.0, None)
    assert one._names is two._names
    assert one.values == {"id": "a", "t": "1"} and two.values["id"] == "b"
    one.values = {"id": "a"}
    assert one.values == {"id": "a"} and one != two
