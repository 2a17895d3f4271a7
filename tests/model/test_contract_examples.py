"""The reference model against the contract's own literal examples.

``fsconformance.model`` is the oracle the emulation serves. Checking it here against the
values printed in docs/contract.md (not against anything the emulator answers) is what
keeps "backend agrees with the model" from being circular. Every call passes an explicit
``now``; the delays are zero unless a clause is about time.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from fsconformance.emulator.offline.replication import file_name, partition_path
from fsconformance.model import values
from fsconformance.model.control_plane import ControlPlane, Delays
from fsconformance.model.errors import ServiceError
from fsconformance.model.records import DataPlane
from fsconformance.model.values import parse_event_time
from fsconformance.testing.strategies import RUNTIME_VALIDATION
from tests.helpers import ID_AND_TIME, create_request

ACCOUNT = "123456789012"
REGION = "us-east-1"
T0 = 1_700_000_000.0
GROUP = "customers"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/feature-store"


def epoch(text: str) -> float:
    """An ISO-8601 UTC time ending in Z as epoch seconds."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def make_planes(
    event_time_type: str = "Fractional", now: float = T0, **members: Any
) -> tuple[ControlPlane, DataPlane]:
    control = ControlPlane(ACCOUNT, REGION, Delays(0, 0, 0, 0, 0))
    features = {"id": "String", "t": event_time_type, "a": "String", "b": "String"}
    request = create_request(GROUP, features, offline="s3://bucket/prefix", role=ROLE, **members)
    control.create_feature_group(request, now)
    return control, DataPlane(control)


def put(data: DataPlane, now: float = T0, **values: str) -> None:
    record = [{"FeatureName": k, "ValueAsString": v} for k, v in values.items()]
    data.put_record({"FeatureGroupName": GROUP, "Record": record}, now)


def get(data: DataPlane, identifier: str = "r1", now: float = T0, **members: Any) -> Any:
    response = data.get_record(
        {"FeatureGroupName": GROUP, "RecordIdentifierValueAsString": identifier, **members}, now
    )
    if "Record" not in response:
        return None
    return {v["FeatureName"]: v["ValueAsString"] for v in response["Record"]}


def delete(data: DataPlane, event_time: str, mode: str, identifier: str = "r1") -> None:
    data.delete_record(
        {
            "FeatureGroupName": GROUP,
            "RecordIdentifierValueAsString": identifier,
            "EventTime": event_time,
            "DeletionMode": mode,
        },
        T0,
    )


def offline_rows(control: ControlPlane, data: DataPlane) -> list[Any]:
    return data.data_for(control.find(GROUP)).offline


# -- C-031: a put replaces the whole record ------------------------------------------------


def test_c031_put_t2_a_z_after_t1_a_x_b_y_leaves_a_z_and_no_b():
    _, data = make_planes()
    put(data, id="r1", t="1", a="x", b="y")
    put(data, id="r1", t="2", a="z")
    assert get(data) == {"id": "r1", "t": "2", "a": "z"}


# -- C-035: event-time ordering, its three test cases --------------------------------------


def test_c035_case1_an_older_put_leaves_online_alone_and_both_rows_go_offline():
    control, data = make_planes()
    put(data, id="r1", t="100", a="1")
    put(data, id="r1", t="50", a="2")
    assert get(data)["a"] == "1"
    assert [row.values["a"] for row in offline_rows(control, data)] == ["1", "2"]


@pytest.mark.uncertain("C-035: the API doc and the developer guide disagree on equal times")
def test_c035_case2_an_equal_event_time_overwrites():
    _, data = make_planes()
    put(data, id="r1", t="100", a="1")
    put(data, id="r1", t="100", a="3")
    assert get(data)["a"] == "3"


def test_c035_case3_a_newer_event_time_overwrites():
    _, data = make_planes()
    put(data, id="r1", t="100", a="1")
    put(data, id="r1", t="200", a="2")
    assert get(data) == {"id": "r1", "t": "200", "a": "2"}


# -- C-102: deletes older than the record; markers -----------------------------------------


def test_c102_a_hard_delete_at_t50_after_t100_is_refused_and_writes_no_marker():
    control, data = make_planes()
    put(data, id="r1", t="100", a="1")
    with pytest.raises(ServiceError) as raised:
        delete(data, "50", "HardDelete")
    # C-004 (1): which of the two runtime validation codes is current is UNCERTAIN.
    assert raised.value.status == 400
    assert raised.value.code in RUNTIME_VALIDATION
    assert get(data) == {"id": "r1", "t": "100", "a": "1"}
    assert [row.is_deleted for row in offline_rows(control, data)] == [False]


def test_c102_a_soft_delete_at_t50_after_t100_keeps_the_record_but_writes_a_marker():
    control, data = make_planes()
    put(data, id="r1", t="100", a="1")
    delete(data, "50", "SoftDelete")
    assert get(data) == {"id": "r1", "t": "100", "a": "1"}
    marker = offline_rows(control, data)[-1]
    assert marker.is_deleted and marker.event_time == 50
    assert marker.values == {"id": "r1", "t": "50"}


def test_c102_a_soft_delete_at_t200_hides_the_record_and_its_marker_has_only_the_keys():
    control, data = make_planes()
    put(data, id="r1", t="100", a="1", b="2")
    delete(data, "200", "SoftDelete")
    assert get(data) is None  # C-101
    marker = offline_rows(control, data)[-1]
    assert marker.is_deleted and marker.event_time == 200
    assert marker.values == {"id": "r1", "t": "200"}  # every other feature NULL


# -- C-103: a historic put after a hard delete ---------------------------------------------


def test_c103_a_put_at_2020_10_29_after_a_hard_delete_of_2020_10_30_is_readable():
    _, data = make_planes("String")
    put(data, id="r1", t="2020-10-30T03:43:21Z", a="new")
    delete(data, "2023-11-14T22:13:20Z", "HardDelete")  # "the current time" (T0)
    assert get(data) is None
    put(data, id="r1", t="2020-10-29T03:43:21Z", a="historic")
    assert get(data) == {"id": "r1", "t": "2020-10-29T03:43:21Z", "a": "historic"}


# -- C-110 / C-111: ExpiresAt = EventTime + TtlDuration ------------------------------------


def _expires_at(data: DataPlane, now: float, enabled: str | None = "Enabled") -> str | None:
    members = {"ExpirationTimeResponse": enabled} if enabled else {}
    response = data.get_record(
        {"FeatureGroupName": GROUP, "RecordIdentifierValueAsString": "r1", **members}, now
    )
    return response.get("ExpiresAt")


def test_c110_expires_at_is_the_event_time_plus_the_group_ttl_exactly():
    ttl = {"Unit": "Hours", "Value": 2}
    _, data = make_planes(
        "String", OnlineStoreConfig={"EnableOnlineStore": True, "TtlDuration": ttl}
    )
    event_time = "2023-11-14T22:13:20.250Z"
    put(data, id="r1", t=event_time)
    expires = _expires_at(data, T0 + 1)
    assert epoch(expires) == epoch(event_time) + 2 * 3600
    assert _expires_at(data, T0 + 1, enabled=None) is None
    assert _expires_at(data, T0 + 1, enabled="Disabled") is None


def test_c110_a_record_ttl_wins_over_the_group_ttl_and_c111_hides_it_once_expired():
    group_ttl = {"Unit": "Weeks", "Value": 1}
    _, data = make_planes(OnlineStoreConfig={"EnableOnlineStore": True, "TtlDuration": group_ttl})
    data.put_record(
        {
            "FeatureGroupName": GROUP,
            "Record": [
                {"FeatureName": "id", "ValueAsString": "r1"},
                {"FeatureName": "t", "ValueAsString": str(int(T0))},
            ],
            "TtlDuration": {"Unit": "Minutes", "Value": 30},
        },
        T0,
    )
    assert epoch(_expires_at(data, T0 + 1)) == T0 + 30 * 60
    assert get(data, now=T0 + 30 * 60 - 1) is not None
    assert get(data, now=T0 + 30 * 60) is None  # C-111: invisible at once


def test_c110_no_ttl_means_no_expires_at():
    _, data = make_planes()
    put(data, id="r1", t=str(int(T0)))
    assert _expires_at(data, T0 + 1) is None


# -- C-062: ResolvedOutputS3Uri, on the contract's example values ---------------------------


def test_c062_the_documented_example_uri():
    control = ControlPlane(ACCOUNT, REGION, Delays(0, 0, 0, 0, 0))
    name = "customer-purchase-history-patterns"
    uri = "s3://my-bucket/my-prefix"
    request = create_request(name, ID_AND_TIME, online=False, offline=uri, role=ROLE)
    control.create_feature_group(request, 1593511200.0)
    description = control.describe_feature_group({"FeatureGroupName": name}, 1593511200.0)
    assert description["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"] == (
        "s3://my-bucket/my-prefix/123456789012/sagemaker/us-east-1/offline-store/"
        "customer-purchase-history-patterns-1593511200/data"
    )


def test_c062_the_epoch_suffix_is_the_whole_seconds_of_the_creation_time():
    # The captured response: feature-group-name-01-1682629457 for 2023-04-27 21:04:17.926 UTC.
    created = epoch("2023-04-27T21:04:17.926Z")
    control = ControlPlane(ACCOUNT, REGION, Delays(0, 0, 0, 0, 0))
    request = create_request(
        "feature-group-name-01", ID_AND_TIME, online=False, offline="s3://bucket", role=ROLE
    )
    control.create_feature_group(request, created)
    uri = control.describe_feature_group({"FeatureGroupName": "feature-group-name-01"}, created)[
        "OfflineStoreConfig"
    ]["S3StorageConfig"]["ResolvedOutputS3Uri"]
    assert uri.endswith("/offline-store/feature-group-name-01-1682629457/data")


# -- C-063: the Glue-format key, on the documented example ----------------------------------

# The contract's test regex for a key under ResolvedOutputS3Uri (C-063).
KEY = re.compile(
    r"/data/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/\d{8}T\d{6}Z_[A-Za-z0-9]{16}\.parquet$"
)


def test_c063_the_code_names_files_like_the_documented_example():
    # The guide's example, 20200631T064401Z_108934320012Az11.parquet, has a June 31st (sic),
    # so the code is given the moment it means and must give the same name up to the day
    # and the 16 random alphanumerics.
    documented_stamp, documented_random = "20200631T064401Z", "108934320012Az11"
    stamp, _, rest = file_name(epoch("2020-06-30T06:44:01Z")).partition("_")
    random, _, extension = rest.partition(".")
    assert stamp.replace("0630", "0631", 1) == documented_stamp
    assert len(random) == len(documented_random) and random.isalnum() and random.isascii()
    assert extension == "parquet"
    assert KEY.search(f"s3://b/p/data/year=2020/month=06/day=30/hour=06/{stamp}_{rest}")


def test_c063_partition_folders_and_file_names_come_from_the_event_time_in_utc():
    event_time = epoch("2020-06-30T06:44:01Z")
    path = partition_path(event_time)
    name = file_name(event_time)
    assert path == "year=2020/month=06/day=30/hour=06"
    assert name.startswith("20200630T064401Z_")
    assert KEY.search(f"s3://b/p/data/{path}/{name}")


# -- C-023: the event-time forms ----------------------------------------------------------


@pytest.mark.parametrize(
    "value, seconds",
    [("2020-10-30T03:43:21Z", epoch("2020-10-30T03:43:21Z")), ("2020-10-30T03:43:21.123Z", None)],
)
def test_c023_both_documented_iso_forms_parse(value, seconds):
    parsed = parse_event_time(value, "String")
    assert parsed == (seconds if seconds is not None else epoch("2020-10-30T03:43:21Z") + 0.123)


@pytest.mark.parametrize(
    "value, kind",
    [
        ("2020-10-30T03:43:21+00:00", "String"),
        ("2020-10-30 03:43:21", "String"),
        ("2020-10-30T03:43:21.123456Z", "String"),
        ("2020-10-30", "String"),
        ("1700000000000", "Fractional"),  # epoch milliseconds: past 9999-12-31
    ],
)
@pytest.mark.uncertain("C-023: these forms are expected to be rejected until pinned live")
def test_c023_the_forms_the_contract_expects_to_be_rejected(value, kind):
    with pytest.raises(ServiceError):
        parse_event_time(value, kind)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("0", True),
        ("007", True),
        ("999999999999999999", True),  # 18 digits: the plain-digit shortcut
        ("9223372036854775807", True),  # 19 digits: int64's largest, through the full check
        ("9223372036854775808", False),
        ("-9223372036854775808", True),
        ("+5", True),
        ("١٢", False),  # Arabic-Indic digits are digits to str.isdigit, not to the contract
        ("²", False),
        ("1.0", False),
        ("", False),
    ],
)
def test_integral_values_are_signed_64_bit_decimal_integers(value: str, valid: bool) -> None:
    # C-020/C-022: an Integral value is a signed 64-bit integer written in ASCII digits.
    feature = {"FeatureName": "n", "FeatureType": "Integral"}
    if valid:
        values.check_value(feature, value)
    else:
        with pytest.raises(ServiceError, match="is not an Integral"):
            values.check_value(feature, value)
