"""API drift: every feature-group operation and enum value of the installed botocore models is
either served by the emulation or listed here, with a reason, as deliberately left to moto.

A newer botocore that adds an operation (as 1.44 added BatchWriteRecord, ListRecords and
UpdateRecord, C-160) or an enum value (as it added Standard_V2) fails this test until someone
decides what the emulation does with it.
"""

from __future__ import annotations

import botocore.session
import pytest
from botocore.model import ServiceModel, Shape

from fsconformance.emulator.controlplane import handlers as controlplane
from fsconformance.emulator.runtime import handlers as runtime_handlers
from fsconformance.model import records, rules, search, values

RUNTIME = "sagemaker-featurestore-runtime"

#: Operations about feature groups the emulation does not answer, and why.
LEFT_TO_MOTO: dict[str, str] = {}

#: The sagemaker operations that concern feature groups although their names do not say so.
GENERIC_FEATURE_GROUP_OPERATIONS = ("Search", "AddTags", "ListTags", "DeleteTags")

#: Enum shapes reachable from the requests of the emulated operations: the values the
#: emulation gives a meaning to.
HANDLED_ENUMS: dict[str, frozenset[str]] = {
    "FeatureType": frozenset({"Integral", "Fractional", "String"}),
    "CollectionType": frozenset({"List", "Set", "Vector"}),
    "StorageType": frozenset({"Standard", "Standard_V2", "InMemory"}),
    # Default is laid out as Glue; Iceberg groups get an Iceberg table (offline/iceberg.py).
    "TableFormat": frozenset({"Default", "Glue", "Iceberg"}),
    "ThroughputMode": frozenset({"OnDemand", "Provisioned"}),
    "TtlDurationUnit": frozenset(values.TTL_SECONDS),
    "TargetStore": frozenset({"OnlineStore", "OfflineStore"}),
    "DeletionMode": frozenset({"SoftDelete", "HardDelete"}),
    "ExpirationTimeResponse": frozenset({"Enabled", "Disabled"}),
    "FeatureGroupSortBy": frozenset(
        {"Name", "FeatureGroupStatus", "OfflineStoreStatus", "CreationTime"}
    ),
    "FeatureGroupSortOrder": frozenset({"Ascending", "Descending"}),
    "FeatureGroupStatus": frozenset(
        {"Creating", "Created", "CreateFailed", "Deleting", "DeleteFailed"}
    ),
    "OfflineStoreStatusValue": frozenset({"Active", "Blocked", "Disabled"}),
    "ResourceType": search.SEARCH_RESOURCES,
    "Operator": frozenset(
        {
            "Equals",
            "NotEquals",
            "GreaterThan",
            "GreaterThanOrEqualTo",
            "LessThan",
            "LessThanOrEqualTo",
            "Contains",
            "Exists",
            "NotExists",
            "In",
        }
    ),
    "BooleanOperator": frozenset({"And", "Or"}),
    "SearchSortOrder": frozenset({"Ascending", "Descending"}),
}

#: Enum values left to moto (or not meaningful to the emulation), and why.
LEFT_ENUM_VALUES: dict[str, str] = {
    # Search answers only the feature store's resources; the rest falls through (C-176).
    **{
        f"ResourceType.{value}": "not a feature-store resource: Search falls through to moto"
        for value in (
            "TrainingJob",
            "Experiment",
            "ExperimentTrial",
            "ExperimentTrialComponent",
            "Endpoint",
            "Model",
            "ModelPackage",
            "ModelPackageGroup",
            "Pipeline",
            "PipelineExecution",
            "Image",
            "ImageVersion",
            "Project",
            "HyperParameterTuningJob",
            "ModelCard",
            "PipelineVersion",
            "Job",
            "HubContent",
        )
    },  # fmt: skip
    "CrossAccountFilterOption.SameAccount": "one emulated account: every group is the caller's",
    "CrossAccountFilterOption.CrossAccount": "no shared groups across emulated accounts",
}


@pytest.fixture(scope="module")
def sagemaker() -> ServiceModel:
    return botocore.session.get_session().get_service_model("sagemaker")


@pytest.fixture(scope="module")
def runtime() -> ServiceModel:
    return botocore.session.get_session().get_service_model(RUNTIME)


def feature_group_operations(model: ServiceModel) -> list[str]:
    """The sagemaker operations that concern feature groups."""
    found = [op for op in model.operation_names if "FeatureGroup" in op or "FeatureMetadata" in op]
    return found + [op for op in GENERIC_FEATURE_GROUP_OPERATIONS if op in model.operation_names]


def emulated() -> set[str]:
    return (
        set(runtime_handlers.OPERATIONS)
        | set(controlplane.OPERATIONS)
        | set(controlplane.TAG_OPERATIONS)
        | set(controlplane.SEARCH_OPERATIONS)
    )


def enum_shapes(shape: Shape | None, seen: set[str] | None = None) -> dict[str, list[str]]:
    """Every enum string shape reachable from ``shape``: name -> values."""
    seen = set() if seen is None else seen
    if shape is None or shape.name in seen:
        return {}
    seen.add(shape.name)
    found: dict[str, list[str]] = {}
    children: list[Shape] = []
    if shape.type_name == "structure":
        children = list(shape.members.values())
    elif shape.type_name == "list":
        children = [shape.member]  # type: ignore[attr-defined]
    elif shape.type_name == "map":
        children = [shape.key, shape.value]  # type: ignore[attr-defined]
    elif shape.type_name == "string" and shape.enum:
        found[shape.name] = list(shape.enum)
    for child in children:
        found.update(enum_shapes(child, seen))
    return found


def test_every_runtime_operation_is_emulated_or_left_with_a_reason(runtime):
    missing = [
        op for op in runtime.operation_names if op not in emulated() and op not in LEFT_TO_MOTO
    ]
    assert not missing, f"runtime operations neither emulated nor left to moto: {missing}"


def test_every_feature_group_operation_is_emulated_or_left_with_a_reason(sagemaker):
    operations = feature_group_operations(sagemaker)
    assert "CreateFeatureGroup" in operations and "Search" in operations
    missing = [op for op in operations if op not in emulated() and op not in LEFT_TO_MOTO]
    assert not missing, f"feature-group operations neither emulated nor left to moto: {missing}"


def test_nothing_is_both_emulated_and_left():
    assert not set(LEFT_TO_MOTO) & emulated()
    assert all(reason.strip() for reason in LEFT_TO_MOTO.values())


def test_every_enum_value_of_the_emulated_requests_is_handled_or_left(sagemaker, runtime):
    enums: dict[str, list[str]] = {}
    for model, operations in (
        (sagemaker, feature_group_operations(sagemaker)),
        (runtime, runtime.operation_names),
    ):
        for op in operations:
            if op in emulated():
                enums.update(enum_shapes(model.operation_model(op).input_shape))
    unlisted = [
        f"{shape}.{value}"
        for shape, values in enums.items()
        for value in values
        if value not in HANDLED_ENUMS.get(shape, ()) and f"{shape}.{value}" not in LEFT_ENUM_VALUES
    ]
    assert not unlisted, f"enum values neither handled nor left with a reason: {unlisted}"


def test_the_contracts_new_enum_values_are_handled(sagemaker):
    """C-160: Standard_V2 is a storage type the emulation serves, partial updates included."""
    assert "Standard_V2" in sagemaker.shape_for("StorageType").enum
    assert "Standard_V2" in records.PARTIAL_UPDATE_STORAGE
    assert ("Standard", "Standard_V2") in rules.STORAGE_MIGRATIONS
    assert {"FeatureGroup", "FeatureMetadata"} <= set(sagemaker.shape_for("ResourceType").enum)


def test_conflict_exception_is_409_and_declared_by_update_record_only(runtime):
    """C-160, C-170: the one new error shape of the runtime model."""
    declaring = [
        op
        for op in runtime.operation_names
        if "ConflictException" in [e.name for e in runtime.operation_model(op).error_shapes]
    ]
    assert declaring == ["UpdateRecord"]
    assert runtime.shape_for("ConflictException").metadata["error"]["httpStatusCode"] == 409


def test_the_runtime_paths_the_emulation_routes(runtime):
    """The REST paths wire.runtime_params maps to the three new operations (C-161, C-166, C-168)."""
    paths = {op: runtime.operation_model(op).http for op in ("BatchWriteRecord", "ListRecords")}
    paths["UpdateRecord"] = runtime.operation_model("UpdateRecord").http
    assert {op: (h["method"], h["requestUri"]) for op, h in paths.items()} == {
        "BatchWriteRecord": ("POST", "/BatchWriteRecord"),
        "ListRecords": ("POST", "/FeatureGroup/{FeatureGroupName}/ListRecords"),
        "UpdateRecord": ("POST", "/FeatureGroup/{FeatureGroupName}/Record"),
    }
