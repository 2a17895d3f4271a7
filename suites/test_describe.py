"""DescribeFeatureGroup after a create, and the settings it echoes through later updates."""

from __future__ import annotations

import datetime
import re

import pytest

from .helpers import NOT_FOUND, expect_client_error, feature

pytestmark = pytest.mark.control_plane

REQUIRED_MEMBERS = {
    "FeatureGroupArn",
    "FeatureGroupName",
    "RecordIdentifierFeatureName",
    "EventTimeFeatureName",
    "FeatureDefinitions",
    "CreationTime",
    "NextToken",
}


@pytest.mark.clause("C-017", "C-016")
@pytest.mark.evidence("E-03", "E-04", "E-05", "E-06")
@pytest.mark.uncertain("C-017 (no U-number): is OfflineStoreStatus present before any data?")
@pytest.mark.observes("C-017", "OfflineStoreStatus before any data")
def test_describe_reports_the_group_as_it_was_requested(backend, observe):
    request = backend.feature_group_request()
    arn = backend.sagemaker.create_feature_group(**request)["FeatureGroupArn"]

    description = backend.wait_until_created(request["FeatureGroupName"])

    observe("OfflineStoreStatus before any data", description.get("OfflineStoreStatus"))
    assert set(description) >= REQUIRED_MEMBERS
    assert description["FeatureGroupArn"] == arn
    assert description["FeatureGroupName"] == request["FeatureGroupName"]
    assert description["RecordIdentifierFeatureName"] == "customer_id"
    assert description["EventTimeFeatureName"] == "event_time"
    # C-017: as sent, in the order sent (three recorded Describes, E-03 to E-05).
    assert description["FeatureDefinitions"] == request["FeatureDefinitions"]
    assert isinstance(description["CreationTime"], datetime.datetime)
    assert not description["NextToken"]  # four features fit on the first page
    assert description["FeatureGroupStatus"] == "Created"
    assert description["RoleArn"] == backend.role_arn
    assert description["OnlineStoreConfig"]["EnableOnlineStore"] is True
    assert description["OfflineStoreStatus"]["Status"] == "Active"


@pytest.mark.clause("C-017", "C-015")
@pytest.mark.uncertain("U-12: which defaults does Describe report for members not sent?")
@pytest.mark.requires(
    members=[
        "CreateFeatureGroup.ThroughputConfig",
        "CreateFeatureGroup.OnlineStoreConfig.StorageType",
    ]
)
@pytest.mark.observes("C-017", "ThroughputMode when none was sent")
@pytest.mark.observes("C-017", "StorageType when none was sent")
@pytest.mark.observes("C-015", "TableFormat when none was sent")
def test_describe_reports_the_documented_defaults(backend, observe):
    request = backend.feature_group_request()
    assert "ThroughputConfig" not in request
    assert "StorageType" not in request["OnlineStoreConfig"]
    assert "TableFormat" not in request["OfflineStoreConfig"]

    description = backend.create_and_wait(request)

    observe(
        "ThroughputMode when none was sent",
        description.get("ThroughputConfig", {}).get("ThroughputMode"),
    )
    observe("StorageType when none was sent", description["OnlineStoreConfig"].get("StorageType"))
    observe("TableFormat when none was sent", description["OfflineStoreConfig"].get("TableFormat"))
    assert description["ThroughputConfig"]["ThroughputMode"] == "OnDemand"
    assert description["OnlineStoreConfig"]["StorageType"] == "Standard"
    assert description["OfflineStoreConfig"]["TableFormat"] == "Glue"


@pytest.mark.clause("C-062")
def test_resolved_output_s3_uri_names_account_region_group_and_creation_epoch(backend):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]

    description = backend.create_and_wait(request)

    resolved = description["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
    assert resolved.startswith(backend.offline_s3_uri)
    prefix = (
        f"{backend.offline_s3_uri}/{backend.account_id}/sagemaker/{backend.region}/"
        f"offline-store/{name}-"
    )
    match = re.fullmatch(re.escape(prefix) + r"(\d+)/data", resolved)
    assert match, resolved
    assert abs(int(match[1]) - int(description["CreationTime"].timestamp())) <= 1


@pytest.mark.clause("C-062", "C-017")
@pytest.mark.evidence("E-15")
def test_s3_uri_is_echoed_as_sent_with_its_trailing_slash(backend):
    request = backend.feature_group_request()
    sent = backend.offline_s3_uri.rstrip("/") + "/"
    request["OfflineStoreConfig"]["S3StorageConfig"]["S3Uri"] = sent

    description = backend.create_and_wait(request)

    storage = description["OfflineStoreConfig"]["S3StorageConfig"]
    assert storage["S3Uri"] == sent
    assert storage["ResolvedOutputS3Uri"].startswith(backend.offline_s3_uri.rstrip("/") + "/")


@pytest.mark.clause("C-080", "C-017")
@pytest.mark.evidence("E-18", "E-20")
@pytest.mark.uncertain("U-7: TableName separator and casing")
@pytest.mark.observes("C-080", "generated Glue TableName")
def test_generated_data_catalog_entry(backend, observe):
    request = backend.feature_group_request()  # the Glue table format, by default
    name = request["FeatureGroupName"]

    description = backend.create_and_wait(request)

    catalog = description["OfflineStoreConfig"]["DataCatalogConfig"]
    observe("generated Glue TableName", catalog["TableName"])  # normalised: <name_1>_<epoch>
    assert catalog["Catalog"] == "AwsDataCatalog"
    assert catalog["Database"] == "sagemaker_featurestore"  # 2021 and 2023 alike
    match = re.fullmatch(r"(.+)[-_](\d+)", catalog["TableName"])
    assert match, catalog["TableName"]
    assert match[1].lower() in {name.lower(), name.lower().replace("-", "_")}
    assert abs(int(match[2]) - int(description["CreationTime"].timestamp())) <= 1


@pytest.mark.clause("C-080", "C-179", "C-017")
@pytest.mark.evidence("E-19")
@pytest.mark.offline_store
def test_an_iceberg_group_gets_the_catalog_names_aws_gave_one(backend):
    request = backend.feature_group_request(
        definitions=[feature("customer_id", "String"), feature("event_time", "String")]
    )
    request["OfflineStoreConfig"]["TableFormat"] = "Iceberg"
    name = request["FeatureGroupName"]
    assert "-" in name  # the generated names have hyphens to turn into underscores

    description = backend.create_and_wait(request)

    catalog = description["OfflineStoreConfig"]["DataCatalogConfig"]
    epoch = int(description["CreationTime"].timestamp())
    assert catalog["Catalog"] == "AwsDataCatalog"
    assert catalog["Database"] == "SageMaker_FeatureStore"  # in that case (E-19)
    table = catalog["TableName"]
    assert table in {f"{name.replace('-', '_')}_{epoch + d}" for d in (-1, 0, 1)}, table
    # The S3 prefix keeps the hyphens (E-19); Glue finds the table under the names given.
    resolved = description["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"]
    assert f"/offline-store/{name}-" in resolved
    backend.poll(
        lambda: backend.glue.get_table(DatabaseName=catalog["Database"], Name=table),
        budget="create",
        what=f"Glue table {catalog['Database']}.{table}",
    )


@pytest.mark.clause("C-017")
@pytest.mark.requires(features=["feature_group_arn"])
def test_describe_accepts_the_arn_in_place_of_the_name(backend):
    request = backend.feature_group_request()
    arn = backend.sagemaker.create_feature_group(**request)["FeatureGroupArn"]
    backend.wait_until_created(request["FeatureGroupName"])

    description = backend.sagemaker.describe_feature_group(FeatureGroupName=arn)

    assert description["FeatureGroupName"] == request["FeatureGroupName"]
    assert description["FeatureGroupArn"] == arn


@pytest.mark.clause("C-018", "C-132", "C-004")
@pytest.mark.parametrize(
    ("method", "members"),
    [
        ("describe_feature_group", {}),
        ("update_feature_group", {"FeatureAdditions": [feature("added")]}),
        ("delete_feature_group", {}),
        ("describe_feature_metadata", {"FeatureName": "customer_id"}),
        ("update_feature_metadata", {"FeatureName": "customer_id", "Description": "x"}),
    ],
)
def test_operations_on_a_missing_group_are_resource_not_found(backend, method, members):
    missing = backend.unique_name()  # never created

    expect_client_error(
        lambda: getattr(backend.sagemaker, method)(FeatureGroupName=missing, **members),
        status=400,
        codes=NOT_FOUND,
    )


@pytest.mark.clause("C-017")
@pytest.mark.parametrize(("storage_type", "offline"), [("Standard", True), ("InMemory", False)])
@pytest.mark.requires(members=["CreateFeatureGroup.OnlineStoreConfig.StorageType"])
def test_describe_echoes_the_online_storage_type(backend, storage_type, offline):
    request = backend.feature_group_request(offline=offline)
    request["OnlineStoreConfig"]["StorageType"] = storage_type

    description = backend.create_and_wait(request)

    assert description["OnlineStoreConfig"]["StorageType"] == storage_type


@pytest.mark.clause("C-017", "C-056", "C-051")
@pytest.mark.requires(
    members=["CreateFeatureGroup.ThroughputConfig", "UpdateFeatureGroup.ThroughputConfig"],
    features=["throughput"],
)
def test_provisioned_throughput_is_echoed_and_can_switch_to_on_demand(backend):
    request = backend.feature_group_request(
        ThroughputConfig={
            "ThroughputMode": "Provisioned",
            "ProvisionedReadCapacityUnits": 4000,
            "ProvisionedWriteCapacityUnits": 4000,
        }
    )
    name = request["FeatureGroupName"]
    created = backend.create_and_wait(request)
    assert created["ThroughputConfig"]["ThroughputMode"] == "Provisioned"
    assert created["ThroughputConfig"]["ProvisionedReadCapacityUnits"] == 4000
    assert created["ThroughputConfig"]["ProvisionedWriteCapacityUnits"] == 4000

    backend.sagemaker.update_feature_group(
        FeatureGroupName=name, ThroughputConfig={"ThroughputMode": "OnDemand"}
    )

    assert backend.describe(name)["LastUpdateStatus"]["Status"] == "InProgress"
    updated = backend.wait_for_update(name)
    assert updated["ThroughputConfig"]["ThroughputMode"] == "OnDemand"


@pytest.mark.clause("C-017", "C-056", "C-051")
@pytest.mark.requires(
    members=["CreateFeatureGroup.ThroughputConfig", "UpdateFeatureGroup.ThroughputConfig"],
    features=["throughput"],
)
def test_on_demand_throughput_can_switch_to_provisioned(backend):
    request = backend.feature_group_request(ThroughputConfig={"ThroughputMode": "OnDemand"})
    name = request["FeatureGroupName"]
    assert backend.create_and_wait(request)["ThroughputConfig"]["ThroughputMode"] == "OnDemand"

    backend.sagemaker.update_feature_group(
        FeatureGroupName=name,
        ThroughputConfig={
            "ThroughputMode": "Provisioned",
            "ProvisionedReadCapacityUnits": 100,
            "ProvisionedWriteCapacityUnits": 200,
        },
    )

    throughput = backend.wait_for_update(name)["ThroughputConfig"]
    assert throughput["ThroughputMode"] == "Provisioned"
    assert throughput["ProvisionedReadCapacityUnits"] == 100
    assert throughput["ProvisionedWriteCapacityUnits"] == 200


@pytest.mark.clause("C-056", "C-051", "C-017")
@pytest.mark.requires(
    members=[
        "CreateFeatureGroup.OnlineStoreConfig.TtlDuration",
        "UpdateFeatureGroup.OnlineStoreConfig.TtlDuration",
    ],
    features=["ttl"],
)
def test_the_group_ttl_is_echoed_and_can_be_updated(backend):
    request = backend.feature_group_request()
    request["OnlineStoreConfig"]["TtlDuration"] = {"Unit": "Seconds", "Value": 30}
    name = request["FeatureGroupName"]
    created = backend.create_and_wait(request)
    assert created["OnlineStoreConfig"]["TtlDuration"] == {"Unit": "Seconds", "Value": 30}

    backend.sagemaker.update_feature_group(
        FeatureGroupName=name, OnlineStoreConfig={"TtlDuration": {"Unit": "Seconds", "Value": 40}}
    )

    updated = backend.wait_for_update(name)
    assert updated["OnlineStoreConfig"]["TtlDuration"] == {"Unit": "Seconds", "Value": 40}


@pytest.mark.clause("C-056", "C-004")
@pytest.mark.uncertain("U-2: which code refuses an update while another is in progress?")
@pytest.mark.requires(
    members=["CreateFeatureGroup.ThroughputConfig", "UpdateFeatureGroup.ThroughputConfig"],
    features=["throughput"],
)
def test_a_second_update_cannot_start_while_one_is_in_progress(backend):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    backend.create_and_wait(request)
    backend.sagemaker.update_feature_group(
        FeatureGroupName=name,
        ThroughputConfig={
            "ThroughputMode": "Provisioned",
            "ProvisionedReadCapacityUnits": 100,
            "ProvisionedWriteCapacityUnits": 100,
        },
    )
    assert backend.describe(name)["LastUpdateStatus"]["Status"] == "InProgress"

    expect_client_error(
        lambda: backend.sagemaker.update_feature_group(
            FeatureGroupName=name, ThroughputConfig={"ThroughputMode": "OnDemand"}
        ),
        status=400,
        codes={"ValidationException", "ResourceInUse"},
    )
    backend.wait_for_update(name)
