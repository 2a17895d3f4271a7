"""Properties over generated schemas and records (C-004, C-010-C-013, C-020-C-023, C-031-C-033,
C-041, C-042, C-053, C-067, C-092, C-140).

Schemas and records come from ``fsconformance.testing.strategies``; the expected outcome of each
property is the contract's, stated in the test. Creating a group costs an emulated delay (and
minutes on AWS), so each test creates what it needs once and draws its examples inside, with
a share of the profile's ``max_examples`` (see the repository's conftest.py).
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from fsconformance.backends import Backend
from fsconformance.flow import record_as_dict
from fsconformance.testing.oracle import Oracle
from fsconformance.testing.strategies import (
    NO_SHRINK,
    Schema,
    event_time_value,
    evolutions,
    example_budget,
    group_names,
    identifier_values,
    invalid_records,
    invalid_schemas,
    records,
    schemas,
)

from .helpers import NOT_FOUND, U2, VALIDATION, expect_client_error
from .offline_helpers import OfflineStore, scalar, wait_for_rows
from .runtime_helpers import U1, as_record, expect_delete_outcome

# Every test here draws its requests with hypothesis, so no two runs send the same ones.
pytestmark = pytest.mark.no_snapshot("hypothesis draws different inputs on every run")

FEATURE_GROUP_ARN = re.compile(r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:feature-group/.*")

# One group per event-time type, with a feature of every type (C-012, C-020).
ROUND_TRIP_SCHEMAS = [
    Schema(
        "record_id",
        "event_time",
        (
            {"FeatureName": "record_id", "FeatureType": "String"},
            {"FeatureName": "event_time", "FeatureType": event_type},
            {"FeatureName": "an_integral", "FeatureType": "Integral"},
            {"FeatureName": "a-fractional", "FeatureType": "Fractional"},
            {"FeatureName": "A_string", "FeatureType": "String"},
        ),
    )
    for event_type in ("String", "Fractional")
]


def create_groups(backend: Backend, schemas_: list[Schema]) -> list[dict[str, Any]]:
    """Create one online+offline group per schema, then wait for all of them."""
    requests = [backend.feature_group_request(**schema.members()) for schema in schemas_]
    for request in requests:
        backend.sagemaker.create_feature_group(**request)
    return [backend.wait_until_created(r["FeatureGroupName"]) for r in requests]


def get_values(backend: Backend, group: str, identifier: str) -> dict[str, Any] | None:
    response = backend.runtime.get_record(
        FeatureGroupName=group, RecordIdentifierValueAsString=identifier
    )
    return record_as_dict(response["Record"]) if "Record" in response else None


# -- control plane -----------------------------------------------------------------------


@pytest.mark.clause("C-010", "C-011", "C-012", "C-016", "C-017")
@pytest.mark.evidence("E-02", "E-03")
@pytest.mark.control_plane
def test_every_valid_schema_creates(backend):
    # At most 60 groups: the account holds 100 (C-140) and shrinking may add a few. Each is
    # waited for before the next: at most 4 may be Creating at once in an account (C-019).
    @settings(max_examples=example_budget(1.0, cap=60))
    @given(data=st.data())
    def create(data: st.DataObject) -> None:
        schema = data.draw(schemas(), label="schema")
        name = data.draw(group_names(backend.unique_name()), label="group name")
        request = backend.feature_group_request(name, **schema.members())
        response = backend.sagemaker.create_feature_group(**request)
        arn = response["FeatureGroupArn"]
        assert FEATURE_GROUP_ARN.fullmatch(arn), arn
        # C-010: the ARN ends with feature-group/<name>, the name's case kept (E-02).
        assert arn.endswith(f"feature-group/{name}"), arn
        description = backend.wait_until_created(name)  # C-016: Creating, then Created
        assert description["FeatureGroupName"] == name
        assert description["RecordIdentifierFeatureName"] == schema.identifier
        assert description["EventTimeFeatureName"] == schema.event_time
        # C-017: the definitions come back as given, in the order given (E-03).
        assert description["FeatureDefinitions"] == request["FeatureDefinitions"]

    create()


@pytest.mark.clause("C-004", "C-003", "C-010", "C-011", "C-012", "C-013", "C-140")
@pytest.mark.control_plane
@U2
def test_every_invalid_schema_is_refused_with_a_validation_error(backend):
    attempted: list[str] = []

    @settings(max_examples=example_budget(2.0))
    @given(data=st.data())
    def refuse(data: st.DataObject) -> None:
        bad = data.draw(invalid_schemas(), label="invalid schema")
        note(f"broken rule: {bad.rule} ({bad.clause})")
        name = backend.unique_name() + (bad.group_name_suffix or "")
        attempted.append(name)
        request = backend.feature_group_request(name, **bad.members())
        # C-004 (2): a 400 with SageMaker's generic validation code, and nothing created.
        expect_client_error(
            lambda: backend.sagemaker.create_feature_group(**request), codes=bad.codes
        )

    refuse()
    for name in attempted:  # nothing was created under any of the refused names
        expect_client_error(lambda name=name: backend.describe(name), codes=NOT_FOUND | VALIDATION)


# -- data plane --------------------------------------------------------------------------


@pytest.mark.clause("C-021", "C-042", "C-020", "C-023", "C-034", "C-041", "C-044")
@pytest.mark.online_store
def test_put_then_get_returns_exactly_the_strings_that_were_put(backend):
    groups = [d["FeatureGroupName"] for d in create_groups(backend, ROUND_TRIP_SCHEMAS)]
    used: set[str] = set()

    @settings(max_examples=example_budget(1.5))
    @given(data=st.data())
    def round_trip(data: st.DataObject) -> None:
        index = data.draw(st.sampled_from([0, 1]), label="group")
        schema = ROUND_TRIP_SCHEMAS[index]
        identifier = data.draw(identifier_values("String"), label="identifier")
        if identifier in used:  # a fresh record: no earlier version to compete with
            identifier = f"{identifier}#{len(used)}"
        used.add(identifier)
        values = data.draw(records(schema, identifier=identifier), label="record")
        backend.runtime.put_record(FeatureGroupName=groups[index], Record=as_record(values))
        # C-021/C-042: every value comes back as the very string that was sent; C-041:
        # features left out of the put are left out of the answer.
        assert get_values(backend, groups[index], identifier) == values
        batch = backend.runtime.batch_get_record(
            Identifiers=[
                {"FeatureGroupName": groups[index], "RecordIdentifiersValueAsString": [identifier]}
            ]
        )
        assert [record_as_dict(r["Record"]) for r in batch["Records"]] == [values]

    round_trip()


@pytest.mark.clause("C-004", "C-020", "C-022", "C-023", "C-032", "C-033")
@pytest.mark.online_store
@U1
def test_every_invalid_record_is_refused_and_changes_nothing(backend):
    groups = [d["FeatureGroupName"] for d in create_groups(backend, ROUND_TRIP_SCHEMAS)]
    kept = {
        name: {
            "record_id": "kept",
            "event_time": event_time_value(schema.type_of("event_time"), 1_000_000),
            "A_string": "before",
        }
        for name, schema in zip(groups, ROUND_TRIP_SCHEMAS, strict=True)
    }
    for name, values in kept.items():
        backend.runtime.put_record(FeatureGroupName=name, Record=as_record(values))

    @settings(max_examples=example_budget(1.5))
    @given(data=st.data())
    def refuse(data: st.DataObject) -> None:
        index = data.draw(st.sampled_from([0, 1]), label="group")
        bad = data.draw(invalid_records(ROUND_TRIP_SCHEMAS[index]), label="invalid record")
        note(f"broken rule: {bad.rule} ({bad.clause})")
        expect_client_error(
            lambda: backend.runtime.put_record(FeatureGroupName=groups[index], Record=bad.record),
            codes=bad.codes,
        )

    refuse()
    for name, values in kept.items():
        assert get_values(backend, name, "kept") == values


# -- schema evolution --------------------------------------------------------------------


@pytest.mark.clause("C-041", "C-053", "C-092", "C-067", "C-051", "C-055")
@pytest.mark.schema_evolution
@pytest.mark.offline_store
def test_added_features_are_absent_from_old_records_and_present_after_reingest(backend):
    @settings(max_examples=example_budget(0.1), phases=NO_SHRINK)
    @given(cases=st.lists(evolutions(), min_size=1, max_size=3))
    def evolve(cases: list[dict[str, Any]]) -> None:
        descriptions = create_groups(backend, [case["schema"] for case in cases])
        names = [d["FeatureGroupName"] for d in descriptions]
        try:
            check(cases, descriptions, names)
        finally:
            # The groups of one example go at its end: the account holds 100 (C-140).
            for name in names:
                backend.sagemaker.delete_feature_group(FeatureGroupName=name)

    def check(
        cases: list[dict[str, Any]], descriptions: list[dict[str, Any]], names: list[str]
    ) -> None:
        for name, case in zip(names, cases, strict=True):
            backend.runtime.put_record(FeatureGroupName=name, Record=as_record(case["before"]))
            backend.sagemaker.update_feature_group(
                FeatureGroupName=name, FeatureAdditions=case["added"]
            )
        for name in names:
            backend.wait_for_update(name)
        for name, case in zip(names, cases, strict=True):
            identifier = case["before"][case["schema"].identifier]
            # C-041/C-053: no backfill; the old record has exactly what was put.
            assert get_values(backend, name, identifier) == case["before"]
            added = [d["FeatureName"] for d in case["added"]]
            backend.put_when_accepted(name, as_record(case["after"]), added)
            # C-031: the re-ingested record replaces the old one, added features included.
            assert get_values(backend, name, identifier) == case["after"]
        for description, case in zip(descriptions, cases, strict=True):
            store = OfflineStore.of(description)
            wait_for_rows(backend, store, 2)  # C-067: both puts, nothing replaced
            for definition in case["added"]:
                column = definition["FeatureName"].lower()  # C-083
                where = f'SELECT count(*) FROM {store.qualified} WHERE "{column}"'
                # C-092: NULL in the row written before the update, the value after it.
                assert scalar(backend, store, f"{where} IS NULL") == "1"
                assert scalar(backend, store, f"{where} IS NOT NULL") == "1"

    evolve()


# -- the offline store only appends ------------------------------------------------------

_DEFAULT_IDS = ["c1", "c2", "c3"]


def _operations() -> st.SearchStrategy[list[dict[str, Any]]]:
    put = st.fixed_dictionaries(
        {
            "op": st.just("put"),
            "id": st.sampled_from(_DEFAULT_IDS),
            "t": st.integers(1, 5),
            "stores": st.sampled_from(
                [None, ["OfflineStore"], ["OnlineStore"], ["OnlineStore", "OfflineStore"]]
            ),
        }
    )
    delete = st.fixed_dictionaries(
        {
            "op": st.just("delete"),
            "id": st.sampled_from(_DEFAULT_IDS),
            "t": st.integers(1, 5),
            "mode": st.sampled_from(["SoftDelete", "HardDelete"]),
        }
    )
    return st.lists(st.one_of(put, delete), min_size=1, max_size=6)


@pytest.mark.clause("C-067", "C-035", "C-036", "C-100", "C-101", "C-102", "C-065", "C-091")
@pytest.mark.offline_store
def test_offline_rows_equal_the_accepted_offline_writes(backend):
    description = backend.create_and_wait(backend.feature_group_request())
    name, store = description["FeatureGroupName"], OfflineStore.of(description)
    # The group lives across examples, so the oracle does too: it says which calls the
    # contract accepts and what the stores then hold, whatever the backend answered.
    oracle = Oracle()

    @settings(max_examples=example_budget(0.5), phases=NO_SHRINK)
    @given(operations=_operations())
    def append(operations: list[dict[str, Any]]) -> None:
        for operation in operations:
            identifier, t = operation["id"], operation["t"]
            if operation["op"] == "put":
                values = {"customer_id": identifier, "event_time": str(t)}
                members = {"TargetStores": operation["stores"]} if operation["stores"] else {}
                backend.runtime.put_record(
                    FeatureGroupName=name, Record=as_record(values), **members
                )
                oracle.put(identifier, values, t, operation["stores"])
                continue
            # C-102: a HardDelete not later than the online record must be refused, every
            # other delete accepted; the oracle decides before the backend is asked.
            allowed = oracle.delete(identifier, t, operation["mode"])
            expect_delete_outcome(
                allowed,
                partial(
                    backend.runtime.delete_record,
                    FeatureGroupName=name,
                    RecordIdentifierValueAsString=identifier,
                    EventTime=str(t),
                    DeletionMode=operation["mode"],
                ),
            )
        # C-067: one row per accepted offline write, whatever its event time; never fewer
        # (nothing replaced) and never more.
        wait_for_rows(backend, store, oracle.offline_rows)
        markers = f"SELECT count(*) FROM {store.qualified} WHERE is_deleted"
        assert scalar(backend, store, markers) == str(oracle.markers)  # C-102, C-065
        # C-035/C-101: the online store holds the oracle's latest versions.
        for identifier in _DEFAULT_IDS:
            assert get_values(backend, name, identifier) == oracle.get(identifier)

    append()
