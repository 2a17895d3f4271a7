"""C-005: the facts of the installed botocore models that the emulation relies on."""

from __future__ import annotations

import botocore
import botocore.session
import pytest
from botocore.model import ServiceModel

FEATURE_GROUP_NAME_PATTERN = "[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}"


@pytest.fixture(scope="module")
def sagemaker() -> ServiceModel:
    return botocore.session.get_session().get_service_model("sagemaker")


@pytest.fixture(scope="module")
def runtime() -> ServiceModel:
    return botocore.session.get_session().get_service_model("sagemaker-featurestore-runtime")


def test_botocore_version_is_recorded() -> None:
    major, minor = (int(part) for part in botocore.__version__.split(".")[:2])
    assert (major, minor) >= (1, 29), botocore.__version__


def test_feature_group_name_pattern(sagemaker: ServiceModel) -> None:
    shape = sagemaker.operation_model("CreateFeatureGroup").input_shape
    name = shape.members["FeatureGroupName"]
    assert name.metadata["pattern"] == FEATURE_GROUP_NAME_PATTERN
    assert name.metadata["max"] == 64


def test_feature_additions_max(sagemaker: ServiceModel) -> None:
    shape = sagemaker.operation_model("UpdateFeatureGroup").input_shape
    assert shape.members["FeatureAdditions"].metadata["max"] == 100


def test_feature_definitions_max(sagemaker: ServiceModel) -> None:
    shape = sagemaker.operation_model("CreateFeatureGroup").input_shape
    assert shape.members["FeatureDefinitions"].metadata["max"] == 2500


def test_create_feature_group_required_members(sagemaker: ServiceModel) -> None:
    shape = sagemaker.operation_model("CreateFeatureGroup").input_shape
    assert set(shape.required_members) == {
        "FeatureGroupName",
        "RecordIdentifierFeatureName",
        "EventTimeFeatureName",
        "FeatureDefinitions",
    }


def test_feature_types(sagemaker: ServiceModel) -> None:
    shape = sagemaker.shape_for("FeatureDefinition").members["FeatureType"]
    assert set(shape.enum) == {"Integral", "Fractional", "String"}


def test_protocols(sagemaker: ServiceModel, runtime: ServiceModel) -> None:
    assert sagemaker.protocol == "json"
    assert sagemaker.metadata["targetPrefix"] == "SageMaker"
    assert runtime.protocol == "rest-json"


def test_no_botocore_waiter_for_feature_groups() -> None:
    """C-002: feature groups have no botocore waiter, so tests must poll."""
    client = botocore.session.get_session().create_client(
        "sagemaker",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert not [name for name in client.waiter_names if "feature" in name]
