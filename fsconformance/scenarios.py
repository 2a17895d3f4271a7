"""Scenarios: which feature group the flow creates, from which data, and what it adds later.

A scenario is one TOML file in ``fixtures/``; its datasets live in ``data/`` next to it (see
``fsconformance.datagen``). Example::

    name = "customers"                    # scenario id
    description = "String ids, ..."       # optional
    data = "customers.csv"                # initial ingest, a file name in data/
    update_data = "customers_update.csv"  # re-ingest after UpdateFeatureGroup
    record_identifier = "customer_id"

    [event_time]                          # stamped by the flow at ingest, never in the data
    name = "event_time"
    form = "fractional"                   # fractional | iso | iso_millis (C-023)

    [[additions]]                         # UpdateFeatureGroup FeatureAdditions, 1 to 100
    name = "has_kids"
    type = "Integral"                     # Integral | Fractional | String

An optional ``features = [{name = "...", type = "..."}, ...]`` lists the types of the initial
data's columns explicitly (every column exactly once, in any order); without it they are
inferred from the values like the SageMaker SDK infers them from a pandas frame (C-151).

Loading validates everything the flow relies on and fails with a :class:`ScenarioError` whose
message is one line: ``<file>: <field>: <what is wrong>``.
"""

from __future__ import annotations

import csv
import io
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sized
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, ValidationError

from .model.rules import RESERVED_FEATURE_NAMES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "EVENT_TIME_FORMS",
    "FEATURE_TYPES",
    "Feature",
    "Scenario",
    "ScenarioError",
    "Table",
    "format_event_time",
    "infer_feature_type",
    "load_scenario",
    "load_scenarios",
    "read_table",
]

FEATURE_TYPES = ("Fractional", "Integral", "String")  # C-020
# The event-time form -> the type of the event-time feature (C-012, C-023).
EVENT_TIME_FORMS = {"fractional": "Fractional", "iso": "String", "iso_millis": "String"}
FEATURE_NAME = re.compile(r"[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}")  # the model's FeatureName
SCENARIO_NAME = re.compile(r"[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}")  # as a FeatureGroupName
MAX_ADDITIONS = 100  # UpdateFeatureGroup FeatureAdditions, 1 to 100 items

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_INT64 = (-(2**63), 2**63 - 1)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# C-023's range starts at year 0000; datetime starts at year 1, which is where this stops.
_MIN_MS = (datetime(1, 1, 1, tzinfo=timezone.utc) - _EPOCH) // timedelta(milliseconds=1)
_MAX_MS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc) - _EPOCH) // timedelta(
    milliseconds=1
)


class ScenarioError(ValueError):
    """A scenario file that cannot be used. ``str()`` is one line: file, field, problem."""

    def __init__(self, path: Path | str, field: str, problem: str) -> None:
        self.path = Path(path)
        self.field = field
        self.problem = problem
        message = f"{path}: {field}: {problem}"
        super().__init__(message.replace("\r", " ").replace("\n", " "))


@dataclass(frozen=True)
class Feature:
    """One feature: a name and a scalar ``FeatureType``."""

    name: str
    type: str

    def definition(self) -> dict[str, str]:
        """The feature as a ``FeatureDefinition`` of the SageMaker API."""
        return {"FeatureName": self.name, "FeatureType": self.type}


@dataclass(frozen=True)
class Table:
    """A parsed CSV file: its header and its rows, every value the exact text of the file."""

    path: Path
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def column(self, name: str) -> list[str]:
        index = self.header.index(name)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, str]]:
        return [dict(zip(self.header, row, strict=True)) for row in self.rows]


def read_table(path: Path) -> Table:
    """Read a CSV file: BOM stripped, CRLF or LF, with or without a final newline.

    Raises ``ValueError`` (one line) for a file that is not UTF-8, is empty, repeats a column
    name or has a row whose length differs from the header's.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path.name} is not UTF-8 ({error.reason} at byte {error.start})"
        ) from None
    lines = list(csv.reader(io.StringIO(text, newline="")))
    if not lines or not any(lines[0]):
        raise ValueError(f"{path.name} has no header line")
    header = tuple(lines[0])
    seen: set[str] = set()
    for name in header:
        if name.lower() in seen:
            raise ValueError(f"{path.name} has the column {name!r} twice (names ignore case)")
        seen.add(name.lower())
    for number, row in enumerate(lines[1:], start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{path.name} line {number} has {len(row)} values for {len(header)} columns"
            )
    return Table(path=path, header=header, rows=tuple(tuple(row) for row in lines[1:]))


def infer_feature_type(values: Iterable[str]) -> str:
    """The FeatureType the SageMaker SDK would give a CSV column read with pandas (C-151).

    pandas itself reads the column: int64 -> Integral, float64 -> Fractional, anything else
    (text, or integers beyond int64) -> String. Only an empty cell is missing, as the SDK's
    ingest sends no value for it (C-034); "nan" and the like stay text. A column with no
    values at all is String here (pandas would say float64, but an all-empty column says
    nothing about its type).
    """
    values = list(values)
    if all(value == "" for value in values):
        return "String"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([["column"], *([v] for v in values)])
    buffer.seek(0)
    frame = pd.read_csv(buffer, keep_default_na=False, na_values=[""], skip_blank_lines=False)
    return {"i": "Integral", "f": "Fractional"}.get(frame["column"].dtype.kind, "String")


def _conforms(value: str, feature_type: str) -> bool:
    """Whether a CSV value parses as ``feature_type`` (an empty value is a missing feature)."""
    if value == "" or feature_type == "String":
        return True
    if feature_type == "Integral":
        return bool(_INTEGER.fullmatch(value)) and _INT64[0] <= int(value) <= _INT64[1]
    return bool(_DECIMAL.fullmatch(value)) and math.isfinite(float(value))


@dataclass(frozen=True)
class Scenario:
    """A validated scenario (see the module docstring for the file format)."""

    name: str
    path: Path
    data: Path
    update_data: Path
    record_identifier: str
    event_time_name: str
    event_time_form: str
    features: tuple[Feature, ...]
    additions: tuple[Feature, ...]
    features_explicit: bool = False
    description: str = ""
    initial: Table | None = field(default=None, repr=False, compare=False)
    update: Table | None = field(default=None, repr=False, compare=False)

    @property
    def event_time_type(self) -> str:
        return EVENT_TIME_FORMS[self.event_time_form]

    @property
    def record_identifier_type(self) -> str:
        return next(f.type for f in self.features if f.name == self.record_identifier)

    @property
    def added_feature_names(self) -> frozenset[str]:
        return frozenset(feature.name for feature in self.additions)

    def feature_definitions(self) -> list[dict[str, str]]:
        """CreateFeatureGroup ``FeatureDefinitions``: the data's features, then the event time."""
        event_time = Feature(self.event_time_name, self.event_time_type)
        return [feature.definition() for feature in (*self.features, event_time)]

    def feature_additions(self) -> list[dict[str, str]]:
        """UpdateFeatureGroup ``FeatureAdditions``."""
        return [feature.definition() for feature in self.additions]

    def initial_rows(self) -> list[dict[str, str]]:
        """The rows of ``data``, values exactly as written in the file (no event time)."""
        return (self.initial or read_table(self.data)).records()

    def update_rows(self) -> list[dict[str, str]]:
        """The rows of ``update_data``, values exactly as written in the file (no event time)."""
        return (self.update or read_table(self.update_data)).records()

    def event_time_value(self, epoch_seconds: float) -> str:
        """``epoch_seconds`` written in this scenario's event-time form (C-023).

        The time is first rounded to the millisecond. ``fractional`` writes the seconds as a
        decimal without trailing zeros but with at least one fractional digit
        (``1604029401.0``, ``1604029401.12``, ``1604029401.123``); ``iso`` writes
        ``2020-10-30T03:43:21Z`` (the milliseconds dropped, not rounded into the seconds);
        ``iso_millis`` writes ``2020-10-30T03:43:21.123Z``. Raises ``ValueError`` for a value
        that is not finite or lies outside years 0001 to 9999.
        """
        return format_event_time(epoch_seconds, self.event_time_form)


def format_event_time(epoch_seconds: float, form: str) -> str:
    """``epoch_seconds`` in the event-time ``form`` (see :meth:`Scenario.event_time_value`)."""
    if form not in EVENT_TIME_FORMS:
        raise ValueError(f"{form!r} is not one of {', '.join(EVENT_TIME_FORMS)}")
    if isinstance(epoch_seconds, bool) or not math.isfinite(epoch_seconds):
        raise ValueError(f"event time {epoch_seconds!r} is not a finite number of seconds")
    millis = round(epoch_seconds * 1000)
    if not _MIN_MS <= millis <= _MAX_MS:
        raise ValueError(f"event time {epoch_seconds!r} is outside years 0001 to 9999")
    if form == "fractional":
        seconds, fraction = divmod(abs(millis), 1000)
        sign = "-" if millis < 0 else ""
        return f"{sign}{seconds}.{f'{fraction:03d}'.rstrip('0') or '0'}"
    moment = _EPOCH + timedelta(milliseconds=millis)
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if form == "iso_millis":
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


# --- loading --------------------------------------------------------------------------------


# The file's shape, declared once: pydantic checks presence, types, unknown fields, the
# name rules and the additions' count, and reports where in the file each problem is; the
# loader below only checks what spans fields or files.


def _feature_name(name: str) -> str:
    if not FEATURE_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a valid feature name (1 to 64 letters, digits, '-' and '_', "
            "starting and ending with a letter or digit)"
        )
    if name.lower() in RESERVED_FEATURE_NAMES:
        raise ValueError(
            f"{name!r} is a reserved feature name "
            f"({', '.join(sorted(RESERVED_FEATURE_NAMES))} are reserved)"
        )
    return name


def _scenario_name(name: str) -> str:
    if not SCENARIO_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not usable in a feature-group name (1 to 64 letters, digits, "
            "'-' and '_', starting and ending with a letter or digit)"
        )
    return name


def _one_of(choices: Iterable[str]) -> Any:
    choices = tuple(choices)

    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return value

    return AfterValidator(check)


_Text = Annotated[StrictStr, Field(min_length=1)]
_FeatureName = Annotated[_Text, AfterValidator(_feature_name)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _FeatureSpec(_Strict):
    name: _FeatureName
    type: Annotated[_Text, _one_of(FEATURE_TYPES)]


class _EventTimeSpec(_Strict):
    name: _FeatureName
    form: Annotated[_Text, _one_of(EVENT_TIME_FORMS)]


class _ScenarioSpec(_Strict):
    name: Annotated[_Text, AfterValidator(_scenario_name)]
    description: StrictStr = ""
    data: _Text
    update_data: _Text
    record_identifier: _Text
    event_time: _EventTimeSpec
    features: list[_FeatureSpec] | None = None
    additions: Annotated[list[_FeatureSpec], Field(min_length=1, max_length=MAX_ADDITIONS)]


def _field_of(location: tuple[int | str, ...]) -> str:
    """pydantic's location as the file's field: ``("additions", 0, "type")`` ->
    ``additions[0].type``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _problem(error: Mapping[str, Any]) -> str:
    """One of pydantic's errors in the words the loader's other messages use."""
    kind, value, context = error["type"], error.get("input"), error.get("ctx", {})
    if kind == "missing":
        return "missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "string_type":
        return f"must be a string, not {_toml_type(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "list_type":
        return f"must be an array of tables, not {_toml_type(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a table, not {_toml_type(value)}"
    if kind in ("too_short", "too_long"):
        count = len(value) if isinstance(value, Sized) else 0
        return f"has {count} items; UpdateFeatureGroup takes 1 to {MAX_ADDITIONS}"
    if kind == "value_error":
        return str(context["error"])
    return str(error["msg"])  # pragma: no cover - a rule the schema does not use


class _Loader:
    def __init__(self, path: Path, data_dir: Path) -> None:
        self.path = path
        self.data_dir = data_dir

    def fail(self, field: str, problem: str) -> ScenarioError:
        return ScenarioError(self.path, field, problem)

    def unique(self, features: list[_FeatureSpec], key: str) -> list[Feature]:
        seen: dict[str, int] = {}
        for index, feature in enumerate(features):
            if feature.name.lower() in seen:
                raise self.fail(
                    f"{key}[{index}].name",
                    f"{feature.name!r} is already {key}[{seen[feature.name.lower()]}] "
                    "(names ignore case)",
                )
            seen[feature.name.lower()] = index
        return [Feature(f.name, f.type) for f in features]

    def table(self, file_name: str, key: str) -> Table:
        if Path(file_name).name != file_name or file_name in (".", ".."):
            raise self.fail(key, f"{file_name!r} must be a plain file name in {self.data_dir}")
        path = self.data_dir / file_name
        if not path.is_file():
            raise self.fail(key, f"{path} does not exist")
        try:
            table = read_table(path)
        except ValueError as error:
            raise self.fail(key, str(error)) from None
        for column in table.header:
            try:
                _feature_name(column)
            except ValueError as error:
                raise self.fail(key, f"column of {file_name}: {error}") from None
        return table

    def load(self) -> Scenario:
        try:
            doc = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except OSError as error:
            raise self.fail("file", error.strerror or str(error)) from None
        except UnicodeDecodeError:
            raise self.fail("file", "is not UTF-8") from None
        except tomllib.TOMLDecodeError as error:
            raise self.fail("toml", f"invalid TOML: {error}") from None

        try:
            spec = _ScenarioSpec.model_validate(doc)
        except ValidationError as error:
            first = error.errors()[0]
            raise self.fail(_field_of(first["loc"]), _problem(first)) from None
        name, description = spec.name, spec.description
        initial = self.table(spec.data, "data")
        update = self.table(spec.update_data, "update_data")

        # The event time: a name the data does not use (the flow stamps it).
        event_name, form = spec.event_time.name, spec.event_time.form
        for table in (initial, update):
            if event_name.lower() in (column.lower() for column in table.header):
                raise self.fail(
                    "event_time.name",
                    f"{event_name!r} is a column of {table.path.name}; the event time is "
                    "stamped at ingest and must not be in the data",
                )

        # The record identifier: a column of both files, unique and never empty.
        record_identifier = spec.record_identifier
        if record_identifier == event_name:
            raise self.fail("record_identifier", "must differ from event_time.name")
        for table in (initial, update):
            if record_identifier not in table.header:
                raise self.fail(
                    "record_identifier",
                    f"{record_identifier!r} is not a column of {table.path.name} "
                    f"(columns: {', '.join(table.header)})",
                )
            seen: set[str] = set()
            for number, value in enumerate(table.column(record_identifier), start=2):
                if value == "":
                    raise self.fail(
                        "record_identifier", f"empty in {table.path.name} line {number}"
                    )
                if value in seen:
                    raise self.fail(
                        "record_identifier",
                        f"{value!r} occurs twice in {table.path.name} (line {number})",
                    )
                seen.add(value)

        # The initial features: explicit, or inferred from the values (C-151).
        if spec.features is not None:
            features = self.unique(spec.features, "features")
            declared = {feature.name for feature in features}
            for index, feature in enumerate(features):
                if feature.name not in initial.header:
                    raise self.fail(
                        f"features[{index}].name",
                        f"{feature.name!r} is not a column of {initial.path.name}",
                    )
            missing = [column for column in initial.header if column not in declared]
            if missing:
                raise self.fail(
                    "features", f"does not list the column {missing[0]!r} of {initial.path.name}"
                )
            for index, feature in enumerate(features):
                self.conforming(initial, feature, f"features[{index}].type")
        else:
            features = [
                Feature(column, infer_feature_type(initial.column(column)))
                for column in initial.header
            ]
        if record_identifier not in {f.name for f in features}:  # pragma: no cover - checked above
            raise self.fail("record_identifier", "is not a feature")

        # The additions: new columns of the update data, with values of the declared type.
        additions = self.unique(spec.additions, "additions")
        initial_names = {column.lower() for column in initial.header}
        for index, addition in enumerate(additions):
            where = f"additions[{index}].name"
            if addition.name.lower() == event_name.lower():
                raise self.fail(where, f"{addition.name!r} is the event-time feature")
            if addition.name.lower() in initial_names:
                raise self.fail(
                    where,
                    f"{addition.name!r} is already a column of {initial.path.name}; "
                    "an addition must be a new feature",
                )
            if addition.name not in update.header:
                raise self.fail(where, f"{addition.name!r} is not a column of {update.path.name}")
            self.conforming(update, addition, f"additions[{index}].type")
        known = {column.lower() for column in initial.header} | {a.name.lower() for a in additions}
        for column in update.header:
            if column.lower() not in known:
                raise self.fail(
                    "additions",
                    f"{update.path.name} has the column {column!r}, which is neither a column "
                    f"of {initial.path.name} nor an addition",
                )
        for feature in features:
            if feature.name in update.header:
                self.conforming(update, feature, "update_data")

        return Scenario(
            name=name,
            path=self.path,
            data=initial.path,
            update_data=update.path,
            record_identifier=record_identifier,
            event_time_name=event_name,
            event_time_form=form,
            features=tuple(features),
            additions=tuple(additions),
            features_explicit=spec.features is not None,
            description=description,
            initial=initial,
            update=update,
        )

    def conforming(self, table: Table, feature: Feature, where: str) -> None:
        for number, value in enumerate(table.column(feature.name), start=2):
            if not _conforms(value, feature.type):
                raise self.fail(
                    where,
                    f"{feature.name} is {feature.type} but {table.path.name} line {number} "
                    f"has {value!r}",
                )


def _toml_type(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


def load_scenario(path: Path | str, data_dir: Path | str | None = None) -> Scenario:
    """Load and validate one scenario file.

    Data files are looked up in ``data_dir``, by default the ``data`` directory beside the
    scenario's directory (``fixtures/x.toml`` -> ``data/``).
    """
    path = Path(path)
    data_dir = Path(data_dir) if data_dir is not None else path.parent.parent / "data"
    return _Loader(path, data_dir).load()


def load_scenarios(directory: Path | str, data_dir: Path | str | None = None) -> list[Scenario]:
    """Load every ``*.toml`` scenario in ``directory``, sorted by file name.

    Scenario names must be unique across the directory.
    """
    directory = Path(directory)
    scenarios: list[Scenario] = []
    by_name: dict[str, Path] = {}
    for path in sorted(directory.glob("*.toml")):
        scenario = load_scenario(path, data_dir)
        if scenario.name in by_name:
            raise ScenarioError(
                path, "name", f"{scenario.name!r} is already the name of {by_name[scenario.name]}"
            )
        by_name[scenario.name] = path
        scenarios.append(scenario)
    return scenarios
