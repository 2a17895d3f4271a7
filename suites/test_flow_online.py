"""The project's flow on every scenario in fixtures/, verified through the online store.

create -> ingest -> verify online -> add features -> verify the old records lack them ->
re-ingest with a later event time -> verify every record carries the new values.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fsconformance.flow import Flow
from fsconformance.scenarios import Scenario, load_scenarios

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCENARIOS = load_scenarios(FIXTURES)
# Event times of the two ingests, whole seconds so every event-time form can express them;
# the re-ingest is strictly later so the online store must take it (C-035).
FIRST_INGEST = 1_700_000_000.0
RE_INGEST = FIRST_INGEST + 3600


@pytest.fixture(params=SCENARIOS, ids=[s.name for s in SCENARIOS])
def scenario(request: pytest.FixtureRequest) -> Scenario:
    return request.param


def _by_identifier(scenario: Scenario, rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row[scenario.record_identifier]: row for row in rows}


@pytest.mark.online_store
@pytest.mark.schema_evolution
@pytest.mark.clause("C-016", "C-030", "C-041", "C-042", "C-044", "C-045", "C-051", "C-053", "C-055")
def test_flow_online_store_shows_added_features_only_after_re_ingest(backend, scenario):
    flow = Flow(backend, scenario)
    created = flow.create()
    assert created["FeatureGroupStatus"] == "Created"

    initial = flow.rows_at(scenario.initial_rows(), FIRST_INGEST)
    result = flow.ingest(initial)
    assert result.failed == [] and result.succeeded == len(initial)

    # Every record reads back with exactly the strings that were put (C-042, C-044).
    expected_initial = _by_identifier(scenario, initial)
    assert flow.online_records(expected_initial) == expected_initial

    description = flow.add_features()
    defined = {d["FeatureName"]: d["FeatureType"] for d in description["FeatureDefinitions"]}
    for addition in scenario.feature_additions():
        assert defined.get(addition["FeatureName"]) == addition["FeatureType"]

    # Adding features backfills nothing: old records leave them out (C-041, C-053).
    before = flow.online_records(expected_initial)
    assert before == expected_initial
    for record in before.values():
        assert scenario.added_feature_names.isdisjoint(record)

    updated = flow.rows_at(scenario.update_rows(), RE_INGEST)
    result = flow.reingest(updated)
    assert result.failed == [] and result.succeeded == len(updated)

    # The later event time wins online and the whole record is replaced (C-031, C-035).
    after = flow.online_records(expected_initial)
    assert after == _by_identifier(scenario, updated)
    for record in after.values():
        assert scenario.added_feature_names <= set(record)
