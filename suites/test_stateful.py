"""A model-based test: API operations in any order, checked against the contract's oracle
(C-031, C-035, C-036, C-041, C-045, C-053, C-067, C-101, C-102, C-103).

The rules of ``FeatureStoreMachine`` are the API operations (create a group, put, add
features, get, batch get, soft/hard delete, count offline rows in Athena), issued to the
backend. The expectations come from ``fsconformance.testing.oracle``, written from the
contract's text alone, so a backend (the emulation included, which serves
``fsconformance.model``) is never compared with itself. Waits use the
backend's own: a group is used once ``Created``, added features once the update has succeeded
and the data plane accepts them, offline rows once Athena counts them.

Hypothesis prints the blob that reproduces a failing run (``print_blob`` in every profile).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from fsconformance.backends import Backend
from fsconformance.flow import record_as_dict
from fsconformance.testing.oracle import HARD, SOFT, Oracle
from fsconformance.testing.strategies import (
    NO_SHRINK,
    Schema,
    additions,
    event_time_value,
    example_budget,
    records,
    schemas,
)

from .offline_helpers import OfflineStore, scalar, wait_for_rows
from .runtime_helpers import as_record, expect_delete_outcome

# A few identifiers per type, so that operations meet the same records (C-024: looked up by
# the very string that was put); the probe identifier is outside the pool.
POOLS = {
    "String": (["a", "b", "é-ü"], "probe"),
    "Integral": (["1", "-2", "9223372036854775807"], "424242"),
    "Fractional": (["0.5", "1.25", "-3.0"], "4242.5"),
}
STORES = [None, ["OnlineStore"], ["OfflineStore"], ["OnlineStore", "OfflineStore"]]


def machine_for(backend: Backend) -> type[RuleBasedStateMachine]:
    class FeatureStoreMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.oracle = Oracle()
            self.name: str | None = None
            self.updated = False

        # -- rules: the API operations ---------------------------------------------------

        @initialize(schema=schemas(max_extra=2))
        def create_group(self, schema: Schema) -> None:
            request = backend.feature_group_request(**schema.members())
            description = backend.create_and_wait(request)
            self.name = request["FeatureGroupName"]
            self.store = OfflineStore.of(description)
            self.schema = schema
            self.event_type = schema.type_of(schema.event_time)
            self.pool, self.probe = POOLS[schema.type_of(schema.identifier)]

        @rule(
            data=st.data(),
            which=st.integers(0, 2),
            t=st.integers(1, 6),
            stores=st.sampled_from(STORES),
        )
        def put_record(self, data: st.DataObject, which: int, t: int, stores: Any) -> None:
            identifier = self.pool[which]
            values = data.draw(records(self.schema, identifier=identifier))
            values[self.schema.event_time] = event_time_value(self.event_type, t)
            members = {"TargetStores": stores} if stores else {}
            backend.runtime.put_record(
                FeatureGroupName=self.name, Record=as_record(values), **members
            )
            self.oracle.put(identifier, values, t, stores)

        @precondition(lambda self: not self.updated)
        @rule(data=st.data())
        def add_features(self, data: st.DataObject) -> None:
            added = data.draw(additions(self.schema, max_size=2))
            backend.sagemaker.update_feature_group(
                FeatureGroupName=self.name, FeatureAdditions=added
            )
            backend.wait_for_update(self.name)  # C-051
            self.schema = self.schema.with_additions(added)
            self.updated = True
            # C-055: wait until the data plane takes the added features, with an online-only
            # put of an identifier outside the pool (so the oracle is not concerned).
            probe = {
                self.schema.identifier: self.probe,
                self.schema.event_time: event_time_value(self.event_type, 1),
            }
            probe |= {d["FeatureName"]: "1" for d in added}
            backend.put_when_accepted(
                self.name,
                as_record(probe),
                [d["FeatureName"] for d in added],
                TargetStores=["OnlineStore"],
            )

        @rule(which=st.integers(0, 2), t=st.integers(1, 6), hard=st.booleans())
        def delete_record(self, which: int, t: int, hard: bool) -> None:
            identifier = self.pool[which]
            mode = HARD if hard else SOFT
            allowed = self.oracle.delete(identifier, t, mode)
            expect_delete_outcome(
                allowed,
                lambda: backend.runtime.delete_record(
                    FeatureGroupName=self.name,
                    RecordIdentifierValueAsString=identifier,
                    EventTime=event_time_value(self.event_type, t),
                    DeletionMode=mode,
                ),
            )

        @rule(which=st.integers(0, 2))
        def get_record(self, which: int) -> None:
            identifier = self.pool[which]
            response = backend.runtime.get_record(
                FeatureGroupName=self.name, RecordIdentifierValueAsString=identifier
            )
            got = record_as_dict(response["Record"]) if "Record" in response else None
            # C-040: no Record for a missing or deleted one; C-041/C-053: only what was put.
            assert got == self.oracle.get(identifier)

        @rule()
        def count_offline_rows(self) -> None:
            # C-067: one row per accepted offline write; C-102: one marker per delete.
            wait_for_rows(backend, self.store, self.oracle.offline_rows)
            markers = f"SELECT count(*) FROM {self.store.qualified} WHERE is_deleted"
            assert scalar(backend, self.store, markers) == str(self.oracle.markers)

        # -- invariants: the online store agrees with the oracle -------------------------

        @invariant()
        def batch_get_matches_the_oracle(self) -> None:
            if self.name is None:
                return
            response = backend.runtime.batch_get_record(
                Identifiers=[
                    {"FeatureGroupName": self.name, "RecordIdentifiersValueAsString": self.pool}
                ]
            )
            got = {
                r["RecordIdentifierValueAsString"]: record_as_dict(r["Record"])
                for r in response["Records"]
            }
            note(f"online now: {got}")
            # C-044/C-045: one latest version per identifier, missing ones absent.
            assert got == self.oracle.visible()
            assert response["Errors"] == [] and response["UnprocessedIdentifiers"] == []

        def teardown(self) -> None:
            if self.name is not None:  # each run's group goes: the account holds 100 (C-140)
                backend.sagemaker.delete_feature_group(FeatureGroupName=self.name)

    return FeatureStoreMachine


@pytest.mark.clause(
    "C-031",
    "C-035",
    "C-036",
    "C-040",
    "C-041",
    "C-044",
    "C-045",
    "C-053",
    "C-067",
    "C-101",
    "C-102",
    "C-103",
)
@pytest.mark.online_store
@pytest.mark.offline_store
@pytest.mark.no_snapshot("hypothesis draws different rules and values on every run")
def test_the_backend_behaves_like_the_contract_oracle(backend):
    run_state_machine_as_test(
        machine_for(backend), settings=settings(max_examples=example_budget(0.2), phases=NO_SHRINK)
    )
