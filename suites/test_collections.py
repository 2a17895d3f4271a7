"""Collection types List, Set and Vector on InMemory groups (C-181-C-183)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fsconformance.backends import Backend

from .helpers import VALIDATION, check_client_error
from .runtime_helpers import (
    T_2020_10_30,
    T_2020_10_31,
    U1,
    create_iso_group,
    expect_runtime_error,
    feature,
    put,
)

pytestmark = [
    pytest.mark.online_store,
    pytest.mark.requires(
        members=[
            "CreateFeatureGroup.FeatureDefinitions.CollectionType",
            "CreateFeatureGroup.FeatureDefinitions.CollectionConfig",
            "CreateFeatureGroup.OnlineStoreConfig.StorageType",
        ]
    ),
]

IN_MEMORY = {"EnableOnlineStore": True, "StorageType": "InMemory"}


def in_memory_group(backend: Backend, *collections: dict[str, Any]) -> str:
    return create_iso_group(backend, *collections, offline=False, OnlineStoreConfig=IN_MEMORY)


def vector(dimension: int) -> dict[str, Any]:
    return feature(
        "embedding",
        "Fractional",
        CollectionType="Vector",
        CollectionConfig={"VectorConfig": {"Dimension": dimension}},
    )


def stored(backend: Backend, group: str, name: str, identifier: str = "c1") -> Any:
    """The stored value of ``name``: ValueAsStringList for a collection (C-181)."""
    response = backend.runtime.get_record(
        FeatureGroupName=group, RecordIdentifierValueAsString=identifier
    )
    found = [item for item in response.get("Record", []) if item["FeatureName"] == name]
    if not found:
        return None
    assert "ValueAsString" not in found[0], found[0]
    return found[0]["ValueAsStringList"]


def row(identifier: str = "c1", event_time: str = T_2020_10_30, **values: Any) -> dict[str, Any]:
    return {"customer_id": identifier, "event_time": event_time, **values}


@pytest.mark.clause("C-181", "C-182")
def test_a_list_keeps_order_and_duplicates(backend):
    group = in_memory_group(backend, feature("tags", "String", CollectionType="List"))

    put(backend, group, row(tags=["a", "b", "a"]))

    assert stored(backend, group, "tags") == ["a", "b", "a"]


@pytest.mark.clause("C-182")
@pytest.mark.uncertain("C-182: is a duplicate in a Set dropped or refused, and in what order?")
def test_a_set_keeps_each_element_once(backend):
    group = in_memory_group(backend, feature("tags", "String", CollectionType="Set"))

    put(backend, group, row(tags=["a", "b", "a"]))

    values = stored(backend, group, "tags")
    assert sorted(values) == ["a", "b"]


@pytest.mark.clause("C-182", "C-181")
def test_a_vector_of_its_dimension_round_trips(backend):
    group = in_memory_group(backend, vector(3))

    put(backend, group, row(embedding=["0.5", "1.0", "-2.25"]))

    assert [float(v) for v in stored(backend, group, "embedding")] == [0.5, 1.0, -2.25]


@U1
@pytest.mark.clause("C-182")
@pytest.mark.uncertain("C-182: the error for a vector of the wrong length")
def test_a_vector_of_another_length_is_refused_and_changes_nothing(backend):
    group = in_memory_group(backend, vector(3))
    put(backend, group, row(embedding=["1", "2", "3"]))

    expect_runtime_error(lambda: put(backend, group, row(event_time=T_2020_10_31, embedding=["1"])))

    assert [float(v) for v in stored(backend, group, "embedding")] == [1.0, 2.0, 3.0]


@U1
@pytest.mark.clause("C-181", "C-022")
def test_every_element_must_have_the_scalar_type(backend):
    group = in_memory_group(backend, feature("counts", "Integral", CollectionType="List"))

    expect_runtime_error(lambda: put(backend, group, row(counts=["1", "two"])))

    assert stored(backend, group, "counts") is None


@U1
@pytest.mark.clause("C-181")
@pytest.mark.uncertain("C-181: the error for ValueAsString on a collection feature")
def test_value_as_string_on_a_collection_feature_is_refused(backend):
    group = in_memory_group(backend, feature("tags", "String", CollectionType="List"))

    expect_runtime_error(lambda: put(backend, group, row(tags="a")))


@U1
@pytest.mark.clause("C-181", "C-037")
def test_the_record_size_limit_counts_every_list_element(backend):
    group = in_memory_group(backend, feature("tags", "String", CollectionType="List"))
    element = "x" * 1000

    put(backend, group, row(tags=[element] * 300))  # about 300 KB: within 350 KB
    expect_runtime_error(lambda: put(backend, group, row("c2", tags=[element] * 400)))

    assert len(stored(backend, group, "tags")) == 300
    assert stored(backend, group, "tags", identifier="c2") is None


@pytest.mark.clause("C-183", "C-120")
@pytest.mark.uncertain("C-183: is InMemory with an offline store refused or never replicated?")
def test_an_in_memory_group_with_an_offline_store_is_refused_or_stays_online_only(backend):
    request = backend.feature_group_request(
        definitions=[
            feature("customer_id", "String"),
            feature("event_time", "String"),
            feature("tags", "String", CollectionType="List"),
        ],
        OnlineStoreConfig=IN_MEMORY,
    )

    try:
        backend.sagemaker.create_feature_group(**request)
    except ClientError as error:
        check_client_error(error, status=400, codes=VALIDATION)
        return
    description = backend.wait_until_created(request["FeatureGroupName"])
    assert description["OnlineStoreConfig"]["StorageType"] == "InMemory"
