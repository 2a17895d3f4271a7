"""Self-tests of ``fsconformance.model.shapes.validate_input`` (C-003, C-004)."""

from __future__ import annotations

from typing import Any

import pytest

from fsconformance.model.errors import ServiceError
from fsconformance.model.shapes import _compile, service_model, validate_input
from tests.helpers import create_request


def rejection(service: str, operation: str, params: dict[str, Any]) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        validate_input(service, operation, params)
    return info.value


def test_valid_request_passes() -> None:
    validate_input("sagemaker", "CreateFeatureGroup", create_request())


@pytest.mark.parametrize("name", ["a", "a-b_c1", "A1", "a--__b", "x" * 64])
def test_feature_group_name_accepted(name: str) -> None:
    validate_input("sagemaker", "CreateFeatureGroup", create_request(FeatureGroupName=name))


@pytest.mark.parametrize("name", ["abc-", "_abc", "-abc", "a b", "a.b", "abc_"])
def test_feature_group_name_pattern_is_a_full_match(name: str) -> None:
    error = rejection("sagemaker", "CreateFeatureGroup", create_request(FeatureGroupName=name))
    assert error.code == "ValidationException"
    assert error.status == 400
    assert error.message == (
        f"1 validation error detected: Value '{name}' at 'featureGroupName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
        "[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}"
    )


def test_max_length() -> None:
    error = rejection("sagemaker", "CreateFeatureGroup", create_request(Description="d" * 129))
    assert error.message == (
        "1 validation error detected: Value '" + "d" * 100 + "...' at 'description' failed to "
        "satisfy constraint: Member must have length less than or equal to 128"
    )


def test_max_length_and_pattern_both_reported_for_a_long_name() -> None:
    error = rejection("sagemaker", "CreateFeatureGroup", create_request(FeatureGroupName="a" * 65))
    assert error.message.startswith("2 validation errors detected: ")
    assert "Member must have length less than or equal to 64" in error.message
    assert "Member must satisfy regular expression pattern" in error.message


def test_enum_in_a_list_member_uses_the_one_based_member_path() -> None:
    request = create_request(features={"customer_id": "String", "event_time": "Timestamp"})
    error = rejection("sagemaker", "CreateFeatureGroup", request)
    assert error.code == "ValidationException"
    assert error.message == (
        "1 validation error detected: Value 'Timestamp' at 'featureDefinitions.2.member."
        "featureType' failed to satisfy constraint: Member must satisfy enum value set: "
        "[Integral, Fractional, String]"
    )


def test_first_list_member_is_index_one() -> None:
    request = create_request(features={"customer_id": "Text", "event_time": "Fractional"})
    error = rejection("sagemaker", "CreateFeatureGroup", request)
    assert "at 'featureDefinitions.1.member.featureType'" in error.message


def test_several_errors_are_counted_and_joined() -> None:
    request = create_request("abc-", {"customer_id": "Text", "event_time": "Fractional"})
    error = rejection("sagemaker", "CreateFeatureGroup", request)
    assert error.message.startswith("2 validation errors detected: Value 'abc-' at ")
    assert "; Value 'Text' at 'featureDefinitions.1.member.featureType'" in error.message


def test_list_max() -> None:
    additions = [{"FeatureName": f"f{i}", "FeatureType": "String"} for i in range(101)]
    error = rejection(
        "sagemaker",
        "UpdateFeatureGroup",
        {"FeatureGroupName": "customers", "FeatureAdditions": additions},
    )
    assert error.message.startswith("1 validation error detected: Value '")
    assert (
        "at 'featureAdditions' failed to satisfy constraint: Member must have length less "
        "than or equal to 100" in error.message
    )


def test_list_of_exactly_the_maximum_passes() -> None:
    additions = [{"FeatureName": f"f{i}", "FeatureType": "String"} for i in range(100)]
    validate_input(
        "sagemaker",
        "UpdateFeatureGroup",
        {"FeatureGroupName": "customers", "FeatureAdditions": additions},
    )


def test_integer_max_and_min() -> None:
    error = rejection("sagemaker", "ListFeatureGroups", {"MaxResults": 101})
    assert error.message == (
        "1 validation error detected: Value '101' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 100"
    )
    error = rejection("sagemaker", "ListFeatureGroups", {"MaxResults": 0})
    assert "Member must have value greater than or equal to 1" in error.message
    validate_input("sagemaker", "ListFeatureGroups", {"MaxResults": 100})


def test_required_member_missing() -> None:
    request = create_request()
    del request["EventTimeFeatureName"]
    error = rejection("sagemaker", "CreateFeatureGroup", request)
    assert error.message == (
        "1 validation error detected: Value null at 'eventTimeFeatureName' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_required_member_of_a_nested_structure() -> None:
    request = create_request(OfflineStoreConfig={"DisableGlueTableCreation": True})
    error = rejection("sagemaker", "CreateFeatureGroup", request)
    assert "Value null at 'offlineStoreConfig.s3StorageConfig'" in error.message


def test_runtime_service_answers_validation_error() -> None:
    error = rejection(
        "sagemaker-featurestore-runtime",
        "PutRecord",
        {"FeatureGroupName": "abc-", "Record": [{"FeatureName": "a", "ValueAsString": "1"}]},
    )
    assert error.code == "ValidationError"
    assert error.status == 400
    assert error.message.startswith("1 validation error detected: Value 'abc-' at ")


def test_runtime_feature_group_name_may_be_an_arn() -> None:
    validate_input(
        "sagemaker-featurestore-runtime",
        "PutRecord",
        {
            "FeatureGroupName": "arn:aws:sagemaker:us-east-1:123456789012:feature-group/abc",
            "Record": [{"FeatureName": "a", "ValueAsString": "1"}],
        },
    )


@pytest.mark.parametrize(
    "key", ["team", "Équipe", "コスト センター", "cost center", "a_b.c:d/e=f+g-h@i", "数据1"]
)
def test_tag_key_accepts_unicode_letters_spaces_and_punctuation(key: str) -> None:
    validate_input(
        "sagemaker", "CreateFeatureGroup", create_request(Tags=[{"Key": key, "Value": "v"}])
    )


@pytest.mark.parametrize("key", ["cost#center", "a*b", "x!"])
def test_tag_key_rejects_other_characters(key: str) -> None:
    error = rejection(
        "sagemaker", "CreateFeatureGroup", create_request(Tags=[{"Key": key, "Value": "v"}])
    )
    assert f"Value '{key}' at 'tags.1.member.key'" in error.message
    assert "regular expression pattern" in error.message


def table_name_pattern() -> str:
    shape = service_model("sagemaker").shape_for("DataCatalogConfig")
    return shape.members["TableName"].metadata["pattern"]


def test_table_name_pattern_with_surrogate_ranges_compiles() -> None:
    pattern = table_name_pattern()
    assert r"\uD800\uDC00-\uDBFF\uDFFF" in pattern
    compiled = _compile(pattern)
    assert compiled is not None
    assert compiled.fullmatch("customers_1700000000")
    assert compiled.fullmatch("Tabelle mit Ümlaut\tund Tab")
    assert compiled.fullmatch("emoji \U0001f600 beyond the BMP")
    assert not compiled.fullmatch("line\nbreak")


def test_table_name_pattern_is_enforced() -> None:
    offline = {
        "S3StorageConfig": {"S3Uri": "s3://bucket/prefix"},
        "DataCatalogConfig": {"TableName": "bad\nname", "Catalog": "c", "Database": "d"},
    }
    error = rejection(
        "sagemaker",
        "CreateFeatureGroup",
        create_request(OfflineStoreConfig=offline, RoleArn="arn:aws:iam::123456789012:role/r"),
    )
    assert "at 'offlineStoreConfig.dataCatalogConfig.tableName'" in error.message


def test_wrong_python_types_are_reported() -> None:
    error = rejection("sagemaker", "ListFeatureGroups", {"MaxResults": "10"})
    assert "at 'maxResults' failed to satisfy constraint: Member must be a number" in (
        error.message
    )
    error = rejection("sagemaker", "ListFeatureGroups", {"MaxResults": True})
    assert "Member must be a number" in error.message


def put_request(value: Any) -> dict[str, Any]:
    return {
        "FeatureGroupName": "customers",
        "Record": [{"FeatureName": "f", "ValueAsString": value}],
    }


def test_a_string_with_no_pattern_or_enum_is_still_checked_for_type_and_length() -> None:
    # ValueAsString: max 358400 and the pattern ".*" in the model, so only type and length.
    service, operation = "sagemaker-featurestore-runtime", "PutRecord"
    validate_input(service, operation, put_request("x" * 358400))
    error = rejection(service, operation, put_request(5))
    assert error.message == (
        "1 validation error detected: Value at 'record.1.member.valueAsString' failed to "
        "satisfy constraint: Member must be a string"
    )

    class Text(str):
        pass

    for value in ("x" * 358401, Text("x" * 358401)):
        error = rejection(service, operation, put_request(value))
        assert error.message == (
            "1 validation error detected: Value '" + "x" * 100 + "...' at "
            "'record.1.member.valueAsString' failed to satisfy constraint: Member must have "
            "length less than or equal to 358400"
        )
