"""PutRecord: what a write returns, which values it accepts, and what the online store keeps."""

from __future__ import annotations

import pytest

from .runtime_helpers import (
    T_2020_10_29,
    T_2020_10_30,
    T_2020_10_31,
    U1,
    as_record,
    create_fractional_group,
    create_iso_group,
    expect_runtime_error,
    feature,
    get,
    put,
)

pytestmark = pytest.mark.online_store

U3 = pytest.mark.uncertain("U-3: does a put with an equal event time overwrite the online record?")
U11 = pytest.mark.uncertain(
    "U-11: which event-time formats beyond the documented two are rejected?"
)


# -- request and response ------------------------------------------------------------------


@pytest.mark.clause("C-030")
def test_put_record_answers_200_with_nothing_but_response_metadata(backend):
    group = create_iso_group(backend)

    response = put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_30})

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(response) == {"ResponseMetadata"}


@pytest.mark.clause("C-021", "C-042")
def test_numeric_values_come_back_as_the_strings_that_were_sent(backend):
    group = create_iso_group(backend)
    put(
        backend,
        group,
        {
            "customer_id": "c1",
            "event_time": T_2020_10_30,
            "is_married": "42",
            "n_days_active": "0.5",
        },
    )

    response = backend.runtime.get_record(
        FeatureGroupName=group, RecordIdentifierValueAsString="c1"
    )

    values = {item["FeatureName"]: item["ValueAsString"] for item in response["Record"]}
    assert values == {
        "customer_id": "c1",
        "event_time": T_2020_10_30,
        "is_married": "42",
        "n_days_active": "0.5",
    }
    assert all(isinstance(value, str) for value in values.values())


# -- value types ---------------------------------------------------------------------------


@pytest.mark.clause("C-020")
@pytest.mark.parametrize("value", ["9223372036854775807", "-9223372036854775808"])
def test_integral_accepts_the_ends_of_the_signed_64_bit_range(backend, value):
    group = create_iso_group(backend)

    put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_30, "is_married": value})

    assert get(backend, group, "c1")["is_married"] == value


@U1
@pytest.mark.clause("C-020", "C-004")
@pytest.mark.parametrize("value", ["9223372036854775808", "-9223372036854775809"])
def test_integral_rejects_values_just_outside_the_signed_64_bit_range(backend, value):
    group = create_iso_group(backend)

    expect_runtime_error(
        lambda: put(
            backend, group, {"customer_id": "c1", "event_time": T_2020_10_30, "is_married": value}
        )
    )

    assert get(backend, group, "c1") is None


@pytest.mark.clause("C-020")
def test_fractional_accepts_a_decimal_value(backend):
    group = create_iso_group(backend)

    put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_30, "n_days_active": "1.5"})

    assert get(backend, group, "c1")["n_days_active"] == "1.5"


@U1
@pytest.mark.clause("C-022", "C-004")
@pytest.mark.parametrize(
    ("feature_name", "value"),
    [("is_married", "abc"), ("n_days_active", "abc"), ("is_married", "1.5")],
    ids=["integral-abc", "fractional-abc", "integral-1.5"],
)
def test_a_value_that_does_not_parse_as_its_type_is_rejected(backend, feature_name, value):
    group = create_iso_group(backend)

    expect_runtime_error(
        lambda: put(
            backend, group, {"customer_id": "c1", "event_time": T_2020_10_30, feature_name: value}
        )
    )

    assert get(backend, group, "c1") is None


# -- event time ----------------------------------------------------------------------------


@pytest.mark.clause("C-023", "C-042")
@pytest.mark.parametrize("event_time", ["2020-10-30T03:43:21Z", "2020-10-30T03:43:21.123Z"])
def test_both_documented_iso_forms_are_accepted_for_a_string_event_time(backend, event_time):
    group = create_iso_group(backend)

    put(backend, group, {"customer_id": "c1", "event_time": event_time})

    assert get(backend, group, "c1") == {"customer_id": "c1", "event_time": event_time}


@U11
@U1
@pytest.mark.clause("C-023", "C-004")
@pytest.mark.parametrize(
    "event_time",
    [
        "2020-10-30T03:43:21+00:00",
        "2020-10-30 03:43:21",
        "2020-10-30T03:43:21.123456Z",
        "2020-10-30",
    ],
    ids=["offset", "space-separator", "microseconds", "date-only"],
)
def test_other_string_event_time_forms_are_rejected(backend, event_time):
    group = create_iso_group(backend)

    expect_runtime_error(
        lambda: put(backend, group, {"customer_id": "c1", "event_time": event_time})
    )

    assert get(backend, group, "c1") is None


@pytest.mark.clause("C-023")
def test_epoch_seconds_are_accepted_for_a_fractional_event_time(backend):
    group = create_fractional_group(backend)

    put(backend, group, {"customer_id": "c1", "event_time": "1700000000.123"})

    assert get(backend, group, "c1") == {"customer_id": "c1", "event_time": "1700000000.123"}


@U11
@U1
@pytest.mark.clause("C-023", "C-004")
def test_epoch_milliseconds_are_out_of_range_for_a_fractional_event_time(backend):
    group = create_fractional_group(backend)

    # 1700000000000 seconds after 1970 is around the year 55,800, past 9999-12-31.
    expect_runtime_error(
        lambda: put(backend, group, {"customer_id": "c1", "event_time": "1700000000000"})
    )

    assert get(backend, group, "c1") is None


# -- which features a record must, may and must not carry -----------------------------------


@U1
@pytest.mark.clause("C-032", "C-004")
@pytest.mark.parametrize("left_out", ["customer_id", "event_time"])
def test_a_record_without_its_identifier_or_event_time_is_rejected(backend, left_out):
    group = create_iso_group(backend)
    values = {"customer_id": "c1", "event_time": T_2020_10_30, "name": "John Lee"}
    del values[left_out]

    expect_runtime_error(lambda: put(backend, group, values))

    assert get(backend, group, "c1") is None


@U1
@pytest.mark.clause("C-033", "C-004")
def test_a_feature_the_group_does_not_define_is_rejected(backend):
    group = create_iso_group(backend)

    expect_runtime_error(
        lambda: put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_30, "nope": "1"})
    )

    assert get(backend, group, "c1") is None


@pytest.mark.clause("C-034", "C-041")
def test_optional_features_may_be_left_out_and_are_then_absent(backend):
    group = create_iso_group(backend)

    put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_30, "name": "John Lee"})

    record = get(backend, group, "c1")
    assert record == {"customer_id": "c1", "event_time": T_2020_10_30, "name": "John Lee"}
    assert not {"is_married", "n_days_active", "email"} & set(record)


@pytest.mark.clause("C-031", "C-041")
def test_a_put_replaces_the_whole_record_instead_of_merging(backend):
    group = create_iso_group(backend)
    put(
        backend,
        group,
        {"customer_id": "c1", "event_time": T_2020_10_30, "name": "x", "email": "y"},
    )

    put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_31, "name": "z"})

    assert get(backend, group, "c1") == {
        "customer_id": "c1",
        "event_time": T_2020_10_31,
        "name": "z",
    }


# -- event-time ordering (online store) ----------------------------------------------------


@pytest.mark.clause("C-035")
def test_an_older_event_time_leaves_the_online_record_unchanged(backend):
    group = create_iso_group(backend)
    put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_30, "name": "first"})

    response = put(
        backend, group, {"customer_id": "c1", "event_time": T_2020_10_29, "name": "historic"}
    )

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert get(backend, group, "c1") == {
        "customer_id": "c1",
        "event_time": T_2020_10_30,
        "name": "first",
    }


@U3
@pytest.mark.clause("C-035")
@pytest.mark.observes("C-035", "name online after a second put with an equal event time")
def test_an_equal_event_time_overwrites_the_online_record(backend, observe):
    group = create_iso_group(backend)
    put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_30, "name": "first"})

    put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_30, "name": "again"})

    record = get(backend, group, "c1")
    observe("name online after a second put with an equal event time", (record or {}).get("name"))
    assert record == {
        "customer_id": "c1",
        "event_time": T_2020_10_30,
        "name": "again",
    }


@pytest.mark.clause("C-035", "C-045")
def test_a_newer_event_time_overwrites_and_only_one_version_is_returned(backend):
    group = create_iso_group(backend)
    put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_30, "name": "first"})

    put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_31, "name": "second"})

    expected = {"customer_id": "c1", "event_time": T_2020_10_31, "name": "second"}
    assert get(backend, group, "c1") == expected
    batch = backend.runtime.batch_get_record(
        Identifiers=[{"FeatureGroupName": group, "RecordIdentifiersValueAsString": ["c1"]}]
    )
    assert len(batch["Records"]) == 1
    assert batch["Records"][0]["RecordIdentifierValueAsString"] == "c1"
    names = [item["FeatureName"] for item in batch["Records"][0]["Record"]]
    assert sorted(names) == sorted(expected)
    assert {i["FeatureName"]: i["ValueAsString"] for i in batch["Records"][0]["Record"]} == expected


# -- target stores -------------------------------------------------------------------------


@pytest.mark.clause("C-036")
def test_an_offline_only_put_is_not_readable_online_and_an_online_only_put_is(backend):
    group = create_iso_group(backend)
    values = {"customer_id": "c1", "event_time": T_2020_10_30, "is_married": "1"}

    put(backend, group, values, TargetStores=["OfflineStore"])
    assert get(backend, group, "c1") is None

    put(backend, group, values, TargetStores=["OnlineStore"])
    assert get(backend, group, "c1") == values


# -- missing group and size ----------------------------------------------------------------


@pytest.mark.clause("C-038", "C-004")
def test_a_put_to_a_missing_group_is_a_validation_error_naming_the_group(backend):
    missing = f"fg-missing-{backend.unique_name()}"

    error = expect_runtime_error(
        lambda: put(backend, missing, {"customer_id": "c1", "event_time": T_2020_10_30})
    )

    assert "can't find a FeatureGroup" in error.response["Error"]["Message"]


@U1
@pytest.mark.clause("C-037", "C-004")
def test_a_record_over_350_kb_is_rejected(backend):
    group = create_iso_group(backend)
    # Each value stays under the 358,400-character limit of one ValueAsString; together they
    # pass 350 KB (358,400 bytes) however a kilobyte is counted.
    half = "x" * 180_000

    expect_runtime_error(
        lambda: put(
            backend,
            group,
            {"customer_id": "c1", "event_time": T_2020_10_30, "name": half, "email": half},
        )
    )

    assert get(backend, group, "c1") is None


# -- features added by UpdateFeatureGroup ---------------------------------------------------


@pytest.mark.schema_evolution
@pytest.mark.clause("C-055", "C-041", "C-053")
def test_a_put_using_an_added_feature_eventually_succeeds(backend):
    group = create_iso_group(backend)
    put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_30, "name": "John Lee"})
    backend.sagemaker.update_feature_group(
        FeatureGroupName=group, FeatureAdditions=[feature("has_kids", "Integral")]
    )
    backend.wait_for_update(group)
    # Nothing is backfilled: the record written before the update has no has_kids.
    assert "has_kids" not in get(backend, group, "c1")
    updated = {"customer_id": "c1", "event_time": T_2020_10_31, "name": "John Lee", "has_kids": "0"}

    # Retried only while the refusal names has_kids; any other error fails at once.
    backend.put_when_accepted(group, as_record(updated), ["has_kids"])

    assert get(backend, group, "c1") == updated
