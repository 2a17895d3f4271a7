"""Scenario files: loading, validation messages, type inference (C-151), event-time forms."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fsconformance import datagen
from fsconformance.scenarios import (
    Scenario,
    ScenarioError,
    format_event_time,
    infer_feature_type,
    load_scenario,
    load_scenarios,
    read_table,
)
from tests.helpers import REPO

FIXTURES = REPO / "fixtures"
FLAGS = ["sex", "is_married", *datagen.AGE_BUCKETS]
ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")  # C-023
ISO_MILLIS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
T = 1604029401  # 2020-10-30T03:43:21Z


@pytest.fixture(scope="module")
def scenarios() -> dict[str, Scenario]:
    return {scenario.name: scenario for scenario in load_scenarios(FIXTURES)}


def types(scenario: Scenario) -> dict[str, str]:
    return {d["FeatureName"]: d["FeatureType"] for d in scenario.feature_definitions()}


# --- the committed fixtures -----------------------------------------------------------------


def test_every_fixture_file_loads(scenarios: dict[str, Scenario]) -> None:
    files = sorted(FIXTURES.glob("*.toml"))
    assert [load_scenario(path).name for path in files] == [path.stem for path in files]
    assert sorted(scenarios) == ["accounts", "customers", "customers_iso", "orders"]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.toml")), ids=lambda p: p.stem)
def test_fixture_shape(path: Path) -> None:
    scenario = load_scenario(path)
    definitions = scenario.feature_definitions()
    names = [d["FeatureName"] for d in definitions]
    assert len(set(names)) == len(names)
    assert scenario.record_identifier in names
    assert definitions[-1] == {
        "FeatureName": scenario.event_time_name,
        "FeatureType": scenario.event_time_type,
    }
    assert scenario.event_time_type in {"String", "Fractional"}  # C-012
    assert scenario.added_feature_names.isdisjoint(names)
    assert 1 <= len(scenario.feature_additions()) <= 100
    initial, update = scenario.initial_rows(), scenario.update_rows()
    assert initial and update
    assert all(set(row) == set(names[:-1]) for row in initial)  # no event time in the data
    assert all(set(row) == set(names[:-1]) | scenario.added_feature_names for row in update)
    ids = [row[scenario.record_identifier] for row in initial]
    assert [row[scenario.record_identifier] for row in update] == ids


def test_customers(scenarios: dict[str, Scenario]) -> None:
    scenario = scenarios["customers"]
    assert scenario.record_identifier == "customer_id"
    assert scenario.record_identifier_type == "String"
    assert (scenario.event_time_name, scenario.event_time_form) == ("event_time", "fractional")
    assert scenario.feature_additions() == [{"FeatureName": "has_kids", "FeatureType": "Integral"}]
    assert scenario.added_feature_names == frozenset({"has_kids"})
    assert not scenario.features_explicit


def test_rows_are_the_csv_text(scenarios: dict[str, Scenario]) -> None:
    rows = scenarios["customers"].initial_rows()
    assert len(rows) == 500
    assert next(iter(rows[0])) == "customer_id"  # the BOM is gone
    raw = (REPO / "data" / "customers.csv").read_bytes().decode("utf-8-sig").split("\r\n")
    assert [",".join(row.values()) for row in rows] == raw[1:]  # CRLF gone, values verbatim
    assert rows[-1]["customer_id"] == "C500"

    update = scenarios["accounts"].update_rows()
    assert all("@example." in row["email"] and " " in row["name"] for row in update)
    # Callers get copies.
    rows[0]["customer_id"] = "changed"
    assert scenarios["customers"].initial_rows()[0]["customer_id"] == "C1"


def test_accounts_and_orders(scenarios: dict[str, Scenario]) -> None:
    accounts = scenarios["accounts"]
    assert accounts.features_explicit
    assert accounts.feature_additions() == [
        {"FeatureName": "email", "FeatureType": "String"},
        {"FeatureName": "name", "FeatureType": "String"},
    ]
    orders = scenarios["orders"]
    assert orders.record_identifier == "order_id"
    assert orders.record_identifier_type == "Integral"
    assert orders.feature_additions() == [
        {"FeatureName": "order_total", "FeatureType": "Fractional"}
    ]


# --- type inference (C-151) -----------------------------------------------------------------


def test_c151_customers_types(scenarios: dict[str, Scenario]) -> None:
    assert types(scenarios["customers"]) == {
        "customer_id": "String",
        **dict.fromkeys(FLAGS, "Integral"),
        "n_days_active": "Fractional",
        "event_time": "Fractional",
    }


def test_c151_accounts_types(scenarios: dict[str, Scenario]) -> None:
    accounts = types(scenarios["accounts"])
    assert accounts.pop("EventTime") == "String"  # iso_millis
    assert set(accounts.values()) == {"Integral"}
    assert len(accounts) == 4


def test_c151_accounts_inferred_equal_the_explicit_types(scenarios: dict[str, Scenario]) -> None:
    table = read_table(REPO / "data" / "accounts.csv")
    inferred = [infer_feature_type(table.column(name)) for name in table.header]
    assert inferred == [feature.type for feature in scenarios["accounts"].features]


@pytest.mark.parametrize(
    ("form", "expected"),
    [("fractional", "Fractional"), ("iso", "String"), ("iso_millis", "String")],
)
def test_event_time_type_follows_the_form(scenarios: dict[str, Scenario], form, expected) -> None:
    found = {s.event_time_form: types(s)[s.event_time_name] for s in scenarios.values()}
    assert found[form] == expected


@pytest.mark.parametrize("name", sorted(datagen.generate()))
def test_inference_agrees_with_pandas(name: str) -> None:
    """The SDK maps pandas dtypes int64 -> Integral, float64 -> Fractional, text -> String."""
    path = REPO / "data" / name
    frame = pd.read_csv(path)
    table = read_table(path)
    assert list(frame.columns) == list(table.header)  # pandas strips the BOM too
    for column in table.header:
        kind = frame[column].dtype.kind
        expected = {"i": "Integral", "f": "Fractional"}.get(kind, "String")
        assert infer_feature_type(table.column(column)) == expected, column


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "0", "-7"], "Integral"),
        (["9223372036854775807"], "Integral"),
        (["9223372036854775808"], "String"),  # beyond int64: pandas gives uint64/object
        (["1", ""], "Fractional"),  # a missing value makes pandas use float64
        (["1", "0.5"], "Fractional"),
        (["1e3", ".5", "2."], "Fractional"),
        (["C1", "C2"], "String"),
        (["1", "x"], "String"),
        (["nan"], "String"),
        (["", ""], "String"),
        ([], "String"),
    ],
)
def test_infer_feature_type(values: list[str], expected: str) -> None:
    assert infer_feature_type(values) == expected


# --- event-time values (C-023) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "form", "expected"),
    [
        (T, "fractional", "1604029401.0"),
        (T + 0.5, "fractional", "1604029401.5"),
        (T + 0.12, "fractional", "1604029401.12"),
        (T + 0.123, "fractional", "1604029401.123"),
        (T + 0.1234, "fractional", "1604029401.123"),  # millisecond precision
        (T + 0.9996, "fractional", "1604029402.0"),
        (0, "fractional", "0.0"),
        (-0.25, "fractional", "-0.25"),
        (T, "iso", "2020-10-30T03:43:21Z"),
        (T + 0.999, "iso", "2020-10-30T03:43:21Z"),  # milliseconds dropped
        (T, "iso_millis", "2020-10-30T03:43:21.000Z"),
        (T + 0.123, "iso_millis", "2020-10-30T03:43:21.123Z"),
        (-0.5, "iso", "1969-12-31T23:59:59Z"),
        (-0.5, "iso_millis", "1969-12-31T23:59:59.500Z"),
        (-30610224000, "iso", "1000-01-01T00:00:00Z"),
        (-30610224001, "iso", "0999-12-31T23:59:59Z"),  # four-digit years
        (253402300799.999, "iso_millis", "9999-12-31T23:59:59.999Z"),
    ],
)
def test_event_time_value(seconds: float, form: str, expected: str) -> None:
    assert format_event_time(seconds, form) == expected


def test_event_time_value_per_scenario(scenarios: dict[str, Scenario]) -> None:
    assert scenarios["customers"].event_time_value(T + 0.123) == "1604029401.123"
    assert scenarios["customers_iso"].event_time_value(T + 0.123) == "2020-10-30T03:43:21Z"
    assert scenarios["accounts"].event_time_value(T + 0.123) == "2020-10-30T03:43:21.123Z"
    assert scenarios["orders"].event_time_value(T) == "1604029401.0"


@pytest.mark.parametrize("seconds", [T, T + 0.001, 1.7e9 + 0.25, 86400 * 365 * 40 + 0.999])
def test_event_time_forms_agree(seconds: float) -> None:
    fractional = format_event_time(seconds, "fractional")
    iso = format_event_time(seconds, "iso")
    millis = format_event_time(seconds, "iso_millis")
    assert re.fullmatch(r"[0-9]+\.[0-9]{1,3}", fractional)
    assert ISO.fullmatch(iso) and ISO_MILLIS.fullmatch(millis)
    parsed = datetime.strptime(millis, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert math.isclose(parsed.timestamp(), float(fractional), abs_tol=1e-6)
    assert millis.startswith(iso[:-1])


@pytest.mark.parametrize(
    "seconds", [math.nan, math.inf, 1_700_000_000_000, 253402300800, -62135596801]
)
def test_event_time_value_out_of_range(seconds: float) -> None:
    with pytest.raises(ValueError):
        format_event_time(seconds, "iso")


def test_event_time_value_unknown_form() -> None:
    with pytest.raises(ValueError, match="epoch_ms"):
        format_event_time(T, "epoch_ms")


# --- malformed scenario files ---------------------------------------------------------------

BASE: dict[str, Any] = {
    "name": "customers",
    "data": "customers.csv",
    "update_data": "customers_update.csv",
    "record_identifier": "customer_id",
    "event_time": {"name": "event_time", "form": "fractional"},
    "additions": [{"name": "has_kids", "type": "Integral"}],
}
DROP = object()


def to_toml(doc: dict[str, Any]) -> str:
    """Enough TOML for these tests: scalars, tables of scalars, arrays of tables."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(item) for item in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(v)

    return "\n".join(f"{json.dumps(key)} = {value(v)}" for key, v in doc.items()) + "\n"


def patched(changes: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(BASE))
    for dotted, new in changes.items():
        *parents, last = dotted.split(".")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if new is DROP:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = new
        else:
            target[last] = new
    return doc


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    datagen.write(tmp_path / "data")
    (tmp_path / "fixtures").mkdir()
    return tmp_path


def write_scenario(layout: Path, doc: dict[str, Any] | str) -> Path:
    path = layout / "fixtures" / "scenario.toml"
    path.write_text(doc if isinstance(doc, str) else to_toml(doc), encoding="utf-8")
    return path


def test_the_base_document_is_valid(layout: Path) -> None:
    scenario = load_scenario(write_scenario(layout, patched({})))
    assert types(scenario) == types(load_scenario(FIXTURES / "customers.toml"))


def test_explicit_data_dir(tmp_path: Path) -> None:
    datagen.write(tmp_path / "elsewhere")
    path = tmp_path / "s.toml"
    path.write_text(to_toml(BASE), encoding="utf-8")
    assert (
        load_scenario(path, data_dir=tmp_path / "elsewhere").data.parent == tmp_path / "elsewhere"
    )


CSV_FILES = {
    "reserved.csv": "customer_id,write_time\r\nC1,1",
    "bad_header.csv": "customer_id,bad name\nC1,1",
    "ragged.csv": "customer_id,sex\nC1,1\nC2",
    "dupe_columns.csv": "customer_id,Sex,sex\nC1,1,1",
    "with_event_time.csv": "customer_id,event_time\nC1,1.5",
    "update_extra.csv": "customer_id,has_kids,pets\nC1,1,2",
    "update_missing_id.csv": "id,has_kids\nC1,1",
    "latin1.csv": "customer_id,name\nC1,Jos\xe9",
    "empty_id.csv": "customer_id,sex\nC1,1\n,0",
}


def features_with_first(first: dict[str, str]) -> list[dict[str, str]]:
    """A complete, correct explicit feature list for customers.csv, except for its first entry."""
    return [
        first,
        *({"name": column, "type": "Integral"} for column in FLAGS),
        {"name": "n_days_active", "type": "Fractional"},
    ]


MALFORMED = [
    # (changes to BASE, field, a fragment of the problem)
    ({"name": DROP}, "name", "missing"),
    ({"name": 5}, "name", "must be a string, not an integer"),
    ({"name": ""}, "name", "must not be empty"),
    ({"name": "bad name"}, "name", "not usable in a feature-group name"),
    ({"description": ["x"]}, "description", "must be a string"),
    ({"recordidentifier": "customer_id"}, "recordidentifier", "unknown field"),
    ({"data": DROP}, "data", "missing"),
    ({"data": "nope.csv"}, "data", "does not exist"),
    ({"data": "../data/customers.csv"}, "data", "must be a plain file name"),
    ({"data": "reserved.csv"}, "data", "'write_time' is a reserved feature name"),
    ({"data": "bad_header.csv"}, "data", "'bad name' is not a valid feature name"),
    ({"data": "ragged.csv"}, "data", "ragged.csv line 3 has 1 values for 2 columns"),
    ({"data": "dupe_columns.csv"}, "data", "twice"),
    ({"data": "latin1.csv"}, "data", "not UTF-8"),
    ({"update_data": DROP}, "update_data", "missing"),
    ({"update_data": 3}, "update_data", "must be a string"),
    ({"update_data": "nope.csv"}, "update_data", "does not exist"),
    ({"record_identifier": DROP}, "record_identifier", "missing"),
    ({"record_identifier": "cust_id"}, "record_identifier", "not a column of customers.csv"),
    ({"record_identifier": "sex"}, "record_identifier", "occurs twice in customers.csv"),
    ({"record_identifier": "event_time"}, "record_identifier", "must differ"),
    ({"data": "empty_id.csv"}, "record_identifier", "empty in empty_id.csv line 3"),
    ({"update_data": "update_missing_id.csv"}, "record_identifier", "update_missing_id.csv"),
    ({"event_time": DROP}, "event_time", "missing"),
    ({"event_time": "event_time"}, "event_time", "must be a table, not a string"),
    ({"event_time.name": DROP}, "event_time.name", "missing"),
    ({"event_time.name": "write_time"}, "event_time.name", "reserved"),
    ({"event_time.name": "_t"}, "event_time.name", "not a valid feature name"),
    ({"event_time.name": "sex"}, "event_time.name", "is a column of customers.csv"),
    ({"data": "with_event_time.csv"}, "event_time.name", "must not be in the data"),
    ({"event_time.form": DROP}, "event_time.form", "missing"),
    ({"event_time.form": 1}, "event_time.form", "must be a string"),
    ({"event_time.zone": "UTC"}, "event_time.zone", "unknown field"),
    ({"features": "customer_id"}, "features", "must be an array of tables"),
    ({"features": [{"name": "customer_id", "type": "String"}]}, "features", "'sex'"),
    (
        {"features": features_with_first({"name": "customer_id", "type": "Integral"})},
        "features[0].type",
        "customer_id is Integral but customers.csv line 2 has 'C1'",
    ),
    (
        {"features": features_with_first({"name": "x", "type": "String"})},
        "features[0].name",
        "not a column",
    ),
    ({"features": features_with_first({"name": "customer_id"})}, "features[0].type", "missing"),
    (
        {"features": features_with_first({"name": "customer_id", "type": "Text"})},
        "features[0].type",
        "'Text'",
    ),
    ({"additions": DROP}, "additions", "missing"),
    ({"additions": []}, "additions", "has 0 items"),
    ({"additions": {"name": "has_kids"}}, "additions", "must be an array of tables"),
    ({"additions.0": "has_kids"}, "additions[0]", "must be a table"),
    ({"additions.0.type": "Int"}, "additions[0].type", "'Int' is not one of Fractional"),
    ({"additions.0.type": DROP}, "additions[0].type", "missing"),
    ({"additions.0.name": DROP}, "additions[0].name", "missing"),
    ({"additions.0.name": "sex"}, "additions[0].name", "already a column of customers.csv"),
    ({"additions.0.name": "has_pets"}, "additions[0].name", "not a column of customers_update"),
    ({"additions.0.name": "is_deleted"}, "additions[0].name", "reserved"),
    ({"additions.0.name": "has-"}, "additions[0].name", "not a valid feature name"),
    ({"additions.0.name": "event_time"}, "additions[0].name", "is the event-time feature"),
    ({"additions.0.default": 0}, "additions[0].default", "unknown field"),
    (
        {"additions": [{"name": "has_kids", "type": "Integral"}] * 2},
        "additions[1].name",
        "already additions[0]",
    ),
    ({"update_data": "update_extra.csv"}, "additions", "'pets'"),
]


@pytest.mark.parametrize(("changes", "field", "problem"), MALFORMED)
def test_malformed_field(layout: Path, changes: dict[str, Any], field: str, problem: str) -> None:
    for name, text in CSV_FILES.items():
        (layout / "data" / name).write_bytes(
            text.encode("latin-1" if "latin1" in name else "utf-8")
        )
    path = write_scenario(layout, patched(changes))
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {field}: "), message
    assert problem in message, message
    assert (raised.value.path, raised.value.field) == (path, field)


def test_the_documented_example_message(layout: Path) -> None:
    path = write_scenario(layout, patched({"event_time.form": "epoch_ms"}))
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value) == (
        f"{path}: event_time.form: 'epoch_ms' is not one of fractional, iso, iso_millis"
    )


def test_a_feature_type_the_values_do_not_fit(layout: Path) -> None:
    features = [
        {"name": "customer_id", "type": "String"},
        *({"name": c, "type": "Integral"} for c in FLAGS),
        {"name": "n_days_active", "type": "Integral"},
    ]
    path = write_scenario(layout, patched({"features": features}))
    with pytest.raises(ScenarioError, match=r": features\[9\]\.type: n_days_active is Integral"):
        load_scenario(path)


def test_invalid_toml_is_one_line(layout: Path) -> None:
    path = write_scenario(layout, 'name = "customers"\nthis is not toml\n')
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value).startswith(f"{path}: toml: invalid TOML")
    assert "\n" not in str(raised.value)


def test_duplicate_scenario_names(layout: Path) -> None:
    for stem in ("a", "b"):
        (layout / "fixtures" / f"{stem}.toml").write_text(to_toml(BASE), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"b\.toml: name: 'customers' is already the name of"):
        load_scenarios(layout / "fixtures")
