"""The project's flow on every scenario in fixtures/, verified online and offline.

create -> ingest -> verify online -> add features -> verify the old records lack them ->
re-ingest with a later event time -> verify every record carries the new values online ->
verify the offline store through Athena: two rows per record, the new columns NULL in the
older ones, and the documented dedup query giving the post-update values.
"""

from __future__ import annotations

import pytest

from fsconformance import bundle
from fsconformance.flow import Flow
from fsconformance.offline import OfflineStore, OfflineVerifier, quoted
from fsconformance.scenarios import Scenario, load_scenarios
from fsconformance.testing.oracle import Oracle, epoch_of

# The scenarios beside the suites: the checkout's fixtures/ and data/, or the installed package's.
SCENARIOS = load_scenarios(bundle.folder("fixtures"), bundle.folder("data"))
# Event times of the two ingests, whole seconds so every event-time form can express them;
# the re-ingest is strictly later so the online store must take it (C-035).
FIRST_INGEST = 1_700_000_000.0
RE_INGEST = FIRST_INGEST + 3600


@pytest.fixture(params=SCENARIOS, ids=[s.name for s in SCENARIOS])
def scenario(request: pytest.FixtureRequest) -> Scenario:
    return request.param


def told(oracle: Oracle, scenario: Scenario, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Tell the contract oracle about the puts ``rows`` are about to make; return them."""
    for row in rows:
        event_time = epoch_of(row[scenario.event_time_name], scenario.event_time_type)
        oracle.put(row[scenario.record_identifier], row, event_time)
    return rows


@pytest.mark.online_store
@pytest.mark.schema_evolution
@pytest.mark.clause("C-016", "C-030", "C-041", "C-042", "C-044", "C-045", "C-051", "C-053", "C-055")
def test_flow_online_store_shows_added_features_only_after_re_ingest(backend, scenario):
    flow, oracle = Flow(backend, scenario), Oracle()
    created = flow.create()
    assert created["FeatureGroupStatus"] == "Created"

    initial = told(oracle, scenario, flow.rows_at(scenario.initial_rows(), FIRST_INGEST))
    result = flow.ingest(initial)
    assert result.failed == [] and result.succeeded == len(initial)

    # Every record reads back with exactly the strings that were put (C-042, C-044).
    identifiers = list(oracle.visible())
    expected_initial = oracle.visible()
    assert flow.online_records(identifiers) == expected_initial

    description = flow.add_features()
    defined = {d["FeatureName"]: d["FeatureType"] for d in description["FeatureDefinitions"]}
    for addition in scenario.feature_additions():
        assert defined.get(addition["FeatureName"]) == addition["FeatureType"]

    # Adding features backfills nothing: old records leave them out (C-041, C-053).
    before = flow.online_records(identifiers)
    assert before == oracle.visible() == expected_initial
    for record in before.values():
        assert scenario.added_feature_names.isdisjoint(record)

    updated = told(oracle, scenario, flow.rows_at(scenario.update_rows(), RE_INGEST))
    result = flow.reingest(updated)
    assert result.failed == [] and result.succeeded == len(updated)

    # The later event time wins online and the whole record is replaced (C-031, C-035).
    after = flow.online_records(identifiers)
    assert after == oracle.visible()
    for record in after.values():
        assert scenario.added_feature_names <= set(record)


@pytest.mark.offline_store
@pytest.mark.schema_evolution
@pytest.mark.slow
@pytest.mark.clause("C-053", "C-060", "C-067", "C-083", "C-090", "C-091", "C-092", "C-093")
def test_flow_offline_store_keeps_both_versions_and_dedups_to_the_latest(backend, scenario):
    flow, oracle = Flow(backend, scenario), Oracle()
    store = OfflineStore.of(flow.create())
    initial = told(oracle, scenario, flow.rows_at(scenario.initial_rows(), FIRST_INGEST))
    assert flow.ingest(initial).ok
    flow.add_features()
    updated = told(oracle, scenario, flow.rows_at(scenario.update_rows(), RE_INGEST))
    assert flow.reingest(updated).ok
    count = len(initial)
    athena = OfflineVerifier(backend)  # SQL through pyathena, as on AWS

    # Every accepted put is one row: 2N in all, each identifier twice (C-067, C-091).
    athena.wait_for_rows(store, oracle.offline_rows)
    identifier = quoted(scenario.record_identifier)
    per_id = athena.rows(
        store, f"SELECT {identifier} AS id, count(*) AS n FROM {store.qualified} GROUP BY 1"
    )
    assert {str(row["id"]): row["n"] for row in per_id} == oracle.offline_rows_per_identifier()

    # The added columns are NULL in the rows written before the update and set in the others
    # (C-053, C-092); hyphenated or mixed-case names are quoted and lowercased (C-083).
    first = scenario.event_time_value(FIRST_INGEST)
    literal = first if scenario.event_time_type == "Fractional" else f"'{first}'"
    older = f"{quoted(scenario.event_time_name)} = {literal}"
    for name in scenario.added_feature_names:
        assert athena.count(store, f"{older} AND {quoted(name)} IS NULL") == count
        assert athena.count(store, f"{quoted(name)} IS NOT NULL") == count

    # The documented latest-snapshot query returns one row per record, the re-ingested one (C-093).
    latest = athena.latest_records(store, scenario.record_identifier, scenario.event_time_name)
    expected = oracle.latest_offline()
    assert len(latest) == len(expected) == count
    for addition in scenario.feature_additions():
        name, kind = addition["FeatureName"], addition["FeatureType"]
        for row in latest:
            sent = expected[str(row[scenario.record_identifier.lower()])].values[name]
            assert row[name.lower()] == PYTHON_TYPES[kind](sent)


# How pyathena hands back each feature type's Athena column (C-066: bigint, double, string).
PYTHON_TYPES = {"Integral": int, "Fractional": float, "String": str}
