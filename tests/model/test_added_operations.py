"""The pure model of the 1.44 additions on the model's own clock: throughput rates by the
UTC hour, the asynchronous storage migration, UpdateRecord's offline row and Search."""

from __future__ import annotations

from typing import Any

import pytest

from fsconformance.model import rules
from fsconformance.model.control_plane import ControlPlane, Delays
from fsconformance.model.errors import ServiceError
from fsconformance.model.records import DataPlane
from tests.helpers import ID_AND_TIME, create_request

ROLE = "arn:aws:iam::123456789012:role/r"

DAY = 1_700_006_400.0  # a UTC midnight
assert DAY % 86400 == 0


def plane(delays: Delays | None = None) -> tuple[ControlPlane, DataPlane]:
    control = ControlPlane("123456789012", "us-east-1", delays or Delays(0, 0, 0, 0, 0))
    return control, DataPlane(control)


def create(control: ControlPlane, name: str = "g", now: float = DAY, **members: Any) -> None:
    features = {**ID_AND_TIME, "a": "String", "b": "String"}
    request = create_request(name, features, offline="s3://bucket/p", role=ROLE, **members)
    control.create_feature_group(request, now)


def provisioned(units: int) -> dict[str, Any]:
    return {
        "ThroughputMode": "Provisioned",
        "ProvisionedReadCapacityUnits": units,
        "ProvisionedWriteCapacityUnits": units,
    }


def throughput(control: ControlPlane, config: dict[str, Any], now: float) -> str:
    try:
        control.update_feature_group({"FeatureGroupName": "g", "ThroughputConfig": config}, now)
    except ServiceError as error:
        return error.code
    return "accepted"


def values(**items: str) -> list[dict[str, str]]:
    return [{"FeatureName": k, "ValueAsString": v} for k, v in items.items()]


# -- throughput rates (C-175) ------------------------------------------------------------


def test_four_decreases_in_the_first_utc_hour_then_one_an_hour():
    control, _ = plane()
    create(control, ThroughputConfig=provisioned(100), now=DAY - 10)
    outcomes = [throughput(control, provisioned(90 - i), DAY + i) for i in range(5)]
    assert outcomes == ["accepted"] * 4 + ["ValidationException"]
    second_hour = DAY + 3600
    assert throughput(control, provisioned(50), second_hour) == "accepted"
    assert throughput(control, provisioned(40), second_hour + 60) == "ValidationException"
    assert throughput(control, provisioned(40), second_hour + 3600) == "accepted"


def test_outside_the_first_hour_only_one_decrease_an_hour():
    control, _ = plane()
    create(control, ThroughputConfig=provisioned(100), now=DAY)
    noon = DAY + 12 * 3600
    assert throughput(control, provisioned(90), noon) == "accepted"
    assert throughput(control, provisioned(80), noon + 1) == "ValidationException"
    assert throughput(control, provisioned(200), noon + 2) == "accepted"  # increases are free


def test_the_switch_to_on_demand_is_allowed_again_after_24_hours():
    control, _ = plane()
    create(control, ThroughputConfig=provisioned(5), now=DAY)
    assert throughput(control, {"ThroughputMode": "OnDemand"}, DAY + 1) == "accepted"
    assert throughput(control, provisioned(5), DAY + 2) == "accepted"
    assert throughput(control, {"ThroughputMode": "OnDemand"}, DAY + 3) == "ValidationException"
    assert throughput(control, {"ThroughputMode": "OnDemand"}, DAY + 86_401) == "accepted"


@pytest.mark.parametrize("storage", ["Standard_V2", "InMemory"])
def test_provisioned_is_refused_outside_standard(storage):
    control, _ = plane()
    with pytest.raises(ServiceError, match="Provisioned"):
        create(
            control,
            OnlineStoreConfig={"EnableOnlineStore": True, "StorageType": storage},
            OfflineStoreConfig=None,
            ThroughputConfig=provisioned(5),
        )


def test_capacity_above_the_quota_is_refused():
    control, _ = plane()
    with pytest.raises(ServiceError):
        create(control, ThroughputConfig=provisioned(rules.MAX_GROUP_CAPACITY_UNITS + 1))


# -- storage migration (C-173) -----------------------------------------------------------


def test_the_storage_migration_is_asynchronous():
    control, data = plane(Delays(0, 10, 0, 0, 0))
    create(control)
    control.update_feature_group(
        {"FeatureGroupName": "g", "OnlineStoreConfig": {"StorageType": "Standard_V2"}}, DAY + 1
    )
    during = control.describe_feature_group({"FeatureGroupName": "g"}, DAY + 2)
    assert during["OnlineStoreConfig"]["StorageType"] == "Standard"
    assert during["LastUpdateStatus"] == {"Status": "InProgress"}
    data.put_record({"FeatureGroupName": "g", "Record": values(id="r", t="1", a="x")}, DAY + 2)
    update = {"FeatureGroupName": "g", "RecordIdentifierValueAsString": "r"}
    with pytest.raises(ServiceError, match="Standard_V2"):
        data.update_record(dict(update, Features=values(a="y")), DAY + 3)
    after = control.describe_feature_group({"FeatureGroupName": "g"}, DAY + 12)
    assert after["OnlineStoreConfig"]["StorageType"] == "Standard_V2"
    data.update_record(dict(update, Features=values(a="y")), DAY + 12)


def test_a_storage_only_update_keeps_the_group_ttl():
    control, _ = plane()
    ttl = {"Unit": "Hours", "Value": 1}
    create(control, OnlineStoreConfig={"EnableOnlineStore": True, "TtlDuration": ttl})
    control.update_feature_group(
        {"FeatureGroupName": "g", "OnlineStoreConfig": {"StorageType": "Standard_V2"}}, DAY + 1
    )
    online = control.describe_feature_group({"FeatureGroupName": "g"}, DAY + 2)["OnlineStoreConfig"]
    assert online["TtlDuration"] == ttl and online["StorageType"] == "Standard_V2"


# -- UpdateRecord offline row (C-171) ------------------------------------------------------


def test_update_record_appends_the_merged_record_to_the_offline_rows():
    control, data = plane()
    create(control, OnlineStoreConfig={"EnableOnlineStore": True, "StorageType": "Standard_V2"})
    data.put_record({"FeatureGroupName": "g", "Record": values(id="r", t="1", a="x", b="y")}, DAY)
    data.update_record(
        {"FeatureGroupName": "g", "RecordIdentifierValueAsString": "r", "Features": values(a="z")},
        DAY + 1,
    )
    rows = data.data_for(control.find("g")).offline
    assert [row.values for row in rows] == [
        {"id": "r", "t": "1", "a": "x", "b": "y"},
        {"id": "r", "t": "1", "a": "z", "b": "y"},
    ]
    assert rows[1].api_invocation_time == DAY + 1


# -- Search (C-176-C-178) ----------------------------------------------------------------


def search(control: ControlPlane, **request: Any) -> list[str]:
    request.setdefault("Resource", "FeatureGroup")
    response = control.search(request, DAY + 100)
    return [r[request["Resource"]]["FeatureGroupName"] for r in response["Results"]]


def test_search_exists_not_exists_and_all_tags():
    control, _ = plane()
    create(control, "tagged", Tags=[{"Key": "team", "Value": "ml"}])
    create(control, "plain", now=DAY + 1)
    exists = {"Filters": [{"Name": "Tags.team", "Operator": "Exists"}]}
    missing = {"Filters": [{"Name": "Tags.team", "Operator": "NotExists"}]}
    any_tag = {"Filters": [{"Name": "AllTags", "Operator": "Equals", "Value": "ml"}]}
    assert search(control, SearchExpression=exists) == ["tagged"]
    assert search(control, SearchExpression=missing) == ["plain"]
    assert search(control, SearchExpression=any_tag) == ["tagged"]


def test_search_refuses_ordering_operators_on_text_and_too_many_clauses():
    control, _ = plane()
    create(control)
    text = {"Filters": [{"Name": "FeatureGroupName", "Operator": "GreaterThan", "Value": "a"}]}
    with pytest.raises(ServiceError):
        search(control, SearchExpression=text)
    filters = [{"Name": "FeatureGroupName", "Value": "g"}] * 20
    deep = {"Filters": filters, "SubExpressions": [{"Filters": filters}, {"Filters": filters}]}
    with pytest.raises(ServiceError, match="50"):
        search(control, SearchExpression=deep)


def test_search_total_hits_and_pages():
    control, _ = plane()
    for index in range(3):
        create(control, f"g{index}", now=DAY + index)
    first = control.search({"Resource": "FeatureGroup", "MaxResults": 2}, DAY + 10)
    assert first["TotalHits"] == {"Value": 3, "Relation": "EqualTo"}
    assert [r["FeatureGroup"]["FeatureGroupName"] for r in first["Results"]] == ["g2", "g1"]
    rest = control.search(
        {"Resource": "FeatureGroup", "MaxResults": 2, "NextToken": first["NextToken"]}, DAY + 10
    )
    assert [r["FeatureGroup"]["FeatureGroupName"] for r in rest["Results"]] == ["g0"]
    assert "NextToken" not in rest


def test_a_request_ttl_passes_over_entries_of_offline_only_groups():
    control, data = plane()
    create(control, "offline", OnlineStoreConfig=None)
    create(control, "online", OfflineStoreConfig=None)
    entries = [
        {"FeatureGroupName": name, "Record": values(id="r", t=str(DAY))}
        for name in ("offline", "online")
    ]
    response = data.batch_write_record(
        {"Entries": entries, "TtlDuration": {"Unit": "Hours", "Value": 1}}, DAY
    )
    assert response["Errors"] == []
    assert data.data_for(control.find("online")).online["r"].expires_at == DAY + 3600
    assert len(data.data_for(control.find("offline")).offline) == 1
