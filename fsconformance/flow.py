"""The project's flow, step by step: create -> ingest -> add features -> re-ingest -> verify.

Each step is one method, so a test reads like the flow and can assert between the steps.
The same code runs on every backend; waits poll with the backend's budgets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from .backends.base import Backend
from .ingest import IngestResult, ingest, to_record
from .scenarios import Scenario

BATCH_GET_LIMIT = 100  # records per BatchGetRecord call (C-044)


class Flow:
    """One scenario's feature group on one backend."""

    def __init__(self, backend: Backend, scenario: Scenario, name: str | None = None) -> None:
        self.backend = backend
        self.scenario = scenario
        self.name = name or backend.unique_name()

    # -- steps --------------------------------------------------------------------------

    def create(self) -> dict[str, Any]:
        """CreateFeatureGroup with online and offline stores, then wait for ``Created``."""
        request = self.backend.feature_group_request(
            self.name,
            definitions=self.scenario.feature_definitions(),
            record_identifier=self.scenario.record_identifier,
            event_time=self.scenario.event_time_name,
        )
        return self.backend.create_and_wait(request)

    def rows_at(self, rows: Iterable[Mapping[str, str]], epoch: float) -> list[dict[str, str]]:
        """The rows with the event-time feature set to ``epoch`` in the scenario's form."""
        value = self.scenario.event_time_value(epoch)
        return [dict(row) | {self.scenario.event_time_name: value} for row in rows]

    def ingest(self, rows: list[dict[str, str]]) -> IngestResult:
        return ingest(
            self.backend.runtime,
            self.name,
            rows,
            record_identifier=self.scenario.record_identifier,
        )

    def add_features(self) -> dict[str, Any]:
        """UpdateFeatureGroup with the scenario's additions, then wait for ``Successful``."""
        self.backend.sagemaker.update_feature_group(
            FeatureGroupName=self.name, FeatureAdditions=self.scenario.feature_additions()
        )
        return self.backend.wait_for_update(self.name)

    def reingest(self, rows: list[dict[str, str]]) -> IngestResult:
        """Ingest rows that use the added features, once the data plane accepts them (C-055).

        The first row is retried until the data plane accepts it; then the other rows are
        ingested, so every row is written exactly once (the offline store keeps every accepted
        put, C-067).
        """
        first, *others = rows
        self.backend.put_when_accepted(
            self.name, to_record(first), self.scenario.added_feature_names
        )
        rest = self.ingest(others)
        return IngestResult(
            attempted=len(rows),
            succeeded=rest.succeeded + 1,
            failed=[replace(f, index=f.index + 1) for f in rest.failed],
        )

    # -- reads --------------------------------------------------------------------------

    def online_records(self, identifiers: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Every identifier's online record as {feature: value}, via BatchGetRecord in chunks."""
        identifiers = list(identifiers)
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(identifiers), BATCH_GET_LIMIT):
            chunk = identifiers[start : start + BATCH_GET_LIMIT]
            response = self.backend.runtime.batch_get_record(
                Identifiers=[
                    {"FeatureGroupName": self.name, "RecordIdentifiersValueAsString": chunk}
                ]
            )
            assert response["Errors"] == [], response["Errors"]
            assert response["UnprocessedIdentifiers"] == [], response["UnprocessedIdentifiers"]
            for item in response["Records"]:
                found[item["RecordIdentifierValueAsString"]] = record_as_dict(item["Record"])
        return found

    def get_record(self, identifier: str, **members: Any) -> dict[str, Any] | None:
        """GetRecord as {feature: value}, or None when the response has no ``Record``."""
        response = self.backend.runtime.get_record(
            FeatureGroupName=self.name, RecordIdentifierValueAsString=identifier, **members
        )
        return record_as_dict(response["Record"]) if "Record" in response else None


def record_as_dict(record: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        value["FeatureName"]: value.get("ValueAsString", value.get("ValueAsStringList"))
        for value in record
    }
