"""Hypothesis strategies for feature groups and records, derived from the service model and
the contract (docs/contract.md).

Patterns, lengths, list limits and the feature-type enum are read from the installed botocore
service model (``fsconformance.model.shapes.service_model``), so the strategies follow the
model the suite runs against. What the model does not say (reserved names, event-time types
and formats, the 64-bit range) comes from the contract's clauses, named where it is used.

Every strategy keeps feature counts small by default so that examples stay fast; the one
case that needs many features (more than the model allows) builds them without drawing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import string
from dataclasses import dataclass, field
from typing import Any

from hypothesis import Phase
from hypothesis import strategies as st

from ..model.shapes import service_model

# -- what the service model says ----------------------------------------------------------

_SAGEMAKER = service_model("sagemaker")
_NAME_SHAPE = _SAGEMAKER.shape_for("FeatureName")
_GROUP_NAME_SHAPE = _SAGEMAKER.shape_for("FeatureGroupName")

FEATURE_NAME_PATTERN = re.compile(_NAME_SHAPE.metadata["pattern"])
GROUP_NAME_PATTERN = re.compile(_GROUP_NAME_SHAPE.metadata["pattern"])
NAME_MAX = int(_NAME_SHAPE.metadata["max"])  # 64 (C-011, §1.5)
GROUP_NAME_MAX = int(_GROUP_NAME_SHAPE.metadata["max"])  # 64
MAX_FEATURE_DEFINITIONS = int(_SAGEMAKER.shape_for("FeatureDefinitions").metadata["max"])  # 2500
MAX_FEATURE_ADDITIONS = int(_SAGEMAKER.shape_for("FeatureAdditions").metadata["max"])  # 100
FEATURE_TYPES: tuple[str, ...] = tuple(_SAGEMAKER.shape_for("FeatureType").enum)

# -- what the contract says ---------------------------------------------------------------

RESERVED_NAMES = ("is_deleted", "write_time", "api_invocation_time")  # C-013
# C-013: names the Spark connector refuses and the Glue layout uses for partition folders
# (C-063); the contract says to avoid them, so valid schemas never use them.
AVOIDED_NAMES = frozenset({"year", "month", "day", "hour", "temp_event_time_col"})
EVENT_TIME_TYPES = ("String", "Fractional")  # C-012
IDENTIFIER_TYPES = ("String", "Integral", "Fractional")  # C-012 (Fractional: observed)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # C-020
# C-023: event times between 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
EPOCH_MAX = 253402300799.999
CONTROL_PLANE_VALIDATION = frozenset({"ValidationException"})  # C-004 (2)
RUNTIME_VALIDATION = frozenset({"ValidationError", "ValidationException"})  # C-004 (1)

_ALNUM = string.ascii_letters + string.digits
_SEPARATORS = "-_"


# -- names --------------------------------------------------------------------------------


@st.composite
def names(draw: st.DrawFn, min_size: int = 1, max_size: int = NAME_MAX) -> str:
    """A name matching the model's name pattern: an alphanumeric first and last, with runs
    of ``-``/``_`` only between alphanumerics. Lengths 1 and ``max_size`` are drawn often."""
    size = draw(st.one_of(st.sampled_from([min_size, max_size]), st.integers(min_size, max_size)))
    if size == 1:
        return draw(st.sampled_from(_ALNUM))
    middle = draw(
        st.lists(
            st.one_of(st.sampled_from(_ALNUM), st.sampled_from(_SEPARATORS)),
            min_size=size - 2,
            max_size=size - 2,
        )
    )
    name = draw(st.sampled_from(_ALNUM)) + "".join(middle) + draw(st.sampled_from(_ALNUM))
    if size <= NAME_MAX:  # the strategy and the model's pattern must agree
        assert FEATURE_NAME_PATTERN.fullmatch(name) and GROUP_NAME_PATTERN.fullmatch(name), name
    return name


def feature_names(max_size: int = 24) -> st.SearchStrategy[str]:
    """Feature names a valid schema may use: not reserved (C-013) and not avoided."""
    return names(max_size=max_size).filter(
        lambda n: n.lower() not in RESERVED_NAMES and n.lower() not in AVOIDED_NAMES
    )


@st.composite
def group_names(draw: st.DrawFn, prefix: str) -> str:
    """A group name that starts with ``prefix`` (the backend's unique, tagged name) and
    reaches up to the model's 64 characters through a drawn separator and tail."""
    room = GROUP_NAME_MAX - len(prefix) - 1
    if room < 1:
        return prefix
    separator = draw(st.sampled_from(["-", "_", "--", "_-"]))[: max(1, room - 1)]
    tail = draw(names(max_size=max(1, room - len(separator) + 1)))
    name = (prefix + separator + tail)[:GROUP_NAME_MAX]
    while not GROUP_NAME_PATTERN.fullmatch(name):  # a cut that ended on a separator
        name = name[:-1]
    return name


# -- schemas ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    """The schema part of a CreateFeatureGroup request."""

    identifier: str
    event_time: str
    definitions: tuple[dict[str, str], ...]

    def types(self) -> dict[str, str]:
        return {d["FeatureName"]: d["FeatureType"] for d in self.definitions}

    def type_of(self, name: str) -> str:
        return self.types()[name]

    def members(self) -> dict[str, Any]:
        """The members to pass to ``Backend.feature_group_request``."""
        return {
            "definitions": [dict(d) for d in self.definitions],
            "record_identifier": self.identifier,
            "event_time": self.event_time,
        }

    def with_additions(self, additions: list[dict[str, str]]) -> Schema:
        return Schema(self.identifier, self.event_time, self.definitions + tuple(additions))


def _distinct(existing: set[str], name: str) -> bool:
    return name.lower() not in existing


@st.composite
def schemas(
    draw: st.DrawFn,
    max_extra: int = 4,
    identifier_types: tuple[str, ...] = IDENTIFIER_TYPES,
) -> Schema:
    """A valid schema: a record identifier of any identifier type, an event time of type
    String or Fractional (C-012), and 0..``max_extra`` more features of every type, in any
    order. Names are distinct even ignoring case (Glue lowercases columns, C-083)."""
    taken: set[str] = set()

    def fresh() -> str:
        name = draw(feature_names().filter(lambda n: _distinct(taken, n)))
        taken.add(name.lower())
        return name

    identifier = fresh()
    event_time = fresh()
    definitions = [
        {"FeatureName": identifier, "FeatureType": draw(st.sampled_from(identifier_types))},
        {"FeatureName": event_time, "FeatureType": draw(st.sampled_from(EVENT_TIME_TYPES))},
    ]
    for _ in range(draw(st.integers(0, max_extra))):
        definitions.append(
            {"FeatureName": fresh(), "FeatureType": draw(st.sampled_from(FEATURE_TYPES))}
        )
    ordered = draw(st.permutations(definitions))
    return Schema(identifier, event_time, tuple(ordered))


@st.composite
def additions(draw: st.DrawFn, schema: Schema, max_size: int = 3) -> list[dict[str, str]]:
    """1..``max_size`` new features for ``schema``: fresh names, any type (C-050, C-052)."""
    taken = {name.lower() for name in schema.types()}
    added = []
    for _ in range(draw(st.integers(1, max_size))):
        name = draw(feature_names().filter(lambda n: _distinct(taken, n)))
        taken.add(name.lower())
        added.append({"FeatureName": name, "FeatureType": draw(st.sampled_from(FEATURE_TYPES))})
    return added


@dataclass(frozen=True)
class InvalidSchema:
    """A CreateFeatureGroup schema that breaks exactly one rule, and the codes it earns."""

    rule: str
    identifier: str
    event_time: str
    definitions: tuple[dict[str, str], ...]
    codes: frozenset[str] = CONTROL_PLANE_VALIDATION
    clause: str = "C-004"
    group_name_suffix: str | None = None  # set when the group name itself is the broken part

    def members(self) -> dict[str, Any]:
        return {
            "definitions": [dict(d) for d in self.definitions],
            "record_identifier": self.identifier,
            "event_time": self.event_time,
        }


# Names that break the name pattern while keeping its length: a leading separator, a space,
# a dot, a non-ASCII letter (C-011: `_abc`, `a b`, `a.b`). A trailing separator is left out:
# whether the service anchors the pattern is UNCERTAIN (C-011).
_BAD_NAME_FORMS = (
    lambda n: "_" + n,
    lambda n: "-" + n,
    lambda n: n[:1] + " " + n[1:] if len(n) > 1 else n + " x",
    lambda n: n[:1] + "." + n[1:] if len(n) > 1 else n + ".x",
    lambda n: n[:1] + "é" + n[1:] if len(n) > 1 else n + "é1",
)


@st.composite
def invalid_schemas(draw: st.DrawFn) -> InvalidSchema:
    """A schema that is valid but for one broken rule (C-011, C-012, C-013, C-140, C-010)."""
    base = draw(schemas(max_extra=2, identifier_types=("String", "Integral")))
    definitions = [dict(d) for d in base.definitions]
    identifier, event_time = base.identifier, base.event_time
    extras = [d for d in definitions if d["FeatureName"] not in (identifier, event_time)]
    rule = draw(
        st.sampled_from(
            [
                "feature name pattern",
                "feature name length",
                "group name pattern",
                "group name length",
                "reserved name",
                "undefined identifier",
                "undefined event time",
                "integral event time",
                "too many features",
                "duplicate name",
            ]
        )
    )
    codes = CONTROL_PLANE_VALIDATION
    suffix = None
    taken = {d["FeatureName"].lower() for d in definitions}
    if rule == "feature name pattern":
        form = draw(st.sampled_from(_BAD_NAME_FORMS))
        bad = form(draw(feature_names(max_size=20)))
        definitions.append(
            {"FeatureName": bad, "FeatureType": draw(st.sampled_from(FEATURE_TYPES))}
        )
        clause = "C-011"
    elif rule == "feature name length":
        long = draw(names(min_size=NAME_MAX + 1, max_size=NAME_MAX + 8))
        definitions.append({"FeatureName": long, "FeatureType": "String"})
        clause = "C-003"
    elif rule == "group name pattern":
        suffix = draw(st.sampled_from([" x", ".x", "é", "/x", "+x"]))
        clause = "C-011"
    elif rule == "group name length":
        suffix = "-" + "x" * GROUP_NAME_MAX  # always past 64 characters after any prefix
        clause = "C-011"
    elif rule == "reserved name":
        definitions.append(
            {
                "FeatureName": draw(st.sampled_from(RESERVED_NAMES)),
                "FeatureType": draw(st.sampled_from(FEATURE_TYPES)),
            }
        )
        clause = "C-013"
    elif rule == "undefined identifier":
        identifier = draw(feature_names().filter(lambda n: n.lower() not in taken))
        clause = "C-012"
    elif rule == "undefined event time":
        event_time = draw(feature_names().filter(lambda n: n.lower() not in taken))
        clause = "C-012"
    elif rule == "integral event time":
        for d in definitions:
            if d["FeatureName"] == event_time:
                d["FeatureType"] = "Integral"
        clause = "C-012"
    elif rule == "too many features":
        count = MAX_FEATURE_DEFINITIONS + 1 - len(definitions)
        fillers = (f"x{index}" for index in itertools.count())
        definitions += [
            {"FeatureName": name, "FeatureType": "Fractional"}
            for name in itertools.islice((n for n in fillers if n.lower() not in taken), count)
        ]
        clause = "C-140"
    else:  # duplicate name: an exact copy of an existing name with any type
        copied = draw(st.sampled_from(extras or definitions))
        definitions.append(
            {
                "FeatureName": copied["FeatureName"],
                "FeatureType": draw(st.sampled_from(FEATURE_TYPES)),
            }
        )
        clause = "C-010"
    return InvalidSchema(
        rule, identifier, event_time, tuple(definitions), codes, clause, group_name_suffix=suffix
    )


# -- values and records -------------------------------------------------------------------


def integral_values() -> st.SearchStrategy[str]:
    """Integral values as strings, the 64-bit bounds drawn often (C-020, C-021)."""
    return st.one_of(
        st.sampled_from([INT64_MIN, INT64_MAX, 0, -1]), st.integers(INT64_MIN, INT64_MAX)
    ).map(str)


def fractional_values() -> st.SearchStrategy[str]:
    """Finite doubles as strings: Python's shortest form, and with explicit exponents."""
    finite = st.floats(allow_nan=False, allow_infinity=False)
    return st.one_of(
        finite.map(repr),
        finite.map(lambda x: f"{x:e}"),
        finite.map(lambda x: f"{x:.3E}"),
        st.integers(-(10**6), 10**6).map(str),
    ).filter(lambda text: math.isfinite(float(text)))  # rounding may pass the largest double


def string_values(min_size: int = 0, max_size: int = 30) -> st.SearchStrategy[str]:
    """Unicode text (no lone surrogates: they cannot travel as JSON)."""
    return st.text(st.characters(exclude_categories=["Cs"]), min_size=min_size, max_size=max_size)


def values_of(feature_type: str) -> st.SearchStrategy[str]:
    return {
        "Integral": integral_values(),
        "Fractional": fractional_values(),
        "String": string_values(),
    }[feature_type]


def iso_event_time(moment: dt.datetime, millis: bool) -> str:
    """C-023: ``yyyy-MM-dd'T'HH:mm:ssZ`` or ``yyyy-MM-dd'T'HH:mm:ss.SSSZ``, zero-padded."""
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    return text + (f".{moment.microsecond // 1000:03d}Z" if millis else "Z")


def event_time_value(feature_type: str, epoch_seconds: float, millis: bool = False) -> str:
    """The event time ``epoch_seconds`` in the form a feature of ``feature_type`` takes."""
    # C-023: millisecond precision; whole milliseconds so that no float error shows.
    millis_total = round(epoch_seconds * 1000)
    if feature_type == "Fractional":
        return (
            f"{millis_total // 1000}.{millis_total % 1000:03d}"
            if millis
            else str(int(epoch_seconds))
        )
    moment = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=millis_total)
    return iso_event_time(moment, millis)


def event_times(feature_type: str) -> st.SearchStrategy[str]:
    """Valid event times (C-023): both ISO forms for String, epoch seconds (with up to
    millisecond precision) for Fractional, across the documented range."""
    if feature_type == "String":
        moments = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31))
        return st.builds(iso_event_time, moments, st.booleans())
    millis = st.integers(0, int(EPOCH_MAX * 1000))
    return st.one_of(
        millis.map(lambda ms: str(ms // 1000)),
        millis.map(lambda ms: f"{ms // 1000}.{ms % 1000:03d}"),
        st.sampled_from(["0", "1700000000", "253402300799.999"]),
    )


def identifier_values(feature_type: str) -> st.SearchStrategy[str]:
    """Record identifier values: never empty, at most a few dozen characters (C-024)."""
    if feature_type == "String":
        return string_values(min_size=1, max_size=20)
    return values_of(feature_type)


@st.composite
def records(draw: st.DrawFn, schema: Schema, identifier: str | None = None) -> dict[str, str]:
    """A valid record for ``schema`` as {feature: value string}: the identifier and event
    time always, each other feature present or left out (C-034)."""
    types = schema.types()
    values = {
        schema.identifier: identifier
        if identifier is not None
        else draw(identifier_values(types[schema.identifier])),
        schema.event_time: draw(event_times(types[schema.event_time])),
    }
    for name, kind in types.items():
        if name not in values and draw(st.booleans()):
            values[name] = draw(values_of(kind))
    return values


@dataclass(frozen=True)
class InvalidRecord:
    """A PutRecord ``Record`` that breaks one rule, and the clause that says so."""

    rule: str
    record: list[dict[str, str]]
    clause: str
    codes: frozenset[str] = field(default=RUNTIME_VALIDATION)


_BAD_INTEGRALS = st.one_of(
    st.sampled_from(["abc", "1.5", "", "1e3x", "--1"]),
    st.integers(INT64_MAX + 1, 2**80).map(str),
    st.integers(-(2**80), INT64_MIN - 1).map(str),
)
_BAD_FRACTIONALS = st.sampled_from(["abc", "1.2.3", "", "1e", "e5", "0x1p3", "1,5"])
_BAD_ISO_TIMES = st.sampled_from(
    [
        "2020-10-30T03:43:21+00:00",
        "2020-10-30 03:43:21",
        "2020-10-30T03:43:21.123456Z",
        "2020-10-30",
        "1700000000",
        "2020-13-30T03:43:21Z",
    ]
)  # C-023's expected rejections, and a month that does not exist
_BAD_EPOCHS = st.sampled_from(["1700000000000", "abc", "2020-10-30T03:43:21Z", ""])


def _as_record(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"FeatureName": k, "ValueAsString": v} for k, v in values.items()]


@st.composite
def invalid_records(draw: st.DrawFn, schema: Schema) -> InvalidRecord:
    """A record for ``schema`` that breaks one rule: a value that does not parse as its type
    (C-022), an Integral out of range (C-020), a bad event time (C-023), no identifier or no
    event time (C-032), or a feature the group does not define (C-033)."""
    values = draw(records(schema))
    types = schema.types()
    numeric = [
        n for n, t in types.items() if t in ("Integral", "Fractional") and n != schema.event_time
    ]
    rules = ["bad event time", "missing identifier", "missing event time", "unknown feature"]
    if numeric:
        rules.append("unparseable value")
    rule = draw(st.sampled_from(rules))
    clause = {
        "bad event time": "C-023",
        "missing identifier": "C-032",
        "missing event time": "C-032",
        "unknown feature": "C-033",
        "unparseable value": "C-022",
    }[rule]
    if rule == "unparseable value":
        name = draw(st.sampled_from(numeric))
        bad = _BAD_INTEGRALS if types[name] == "Integral" else _BAD_FRACTIONALS
        values[name] = draw(bad)
        if types[name] == "Integral" and values[name].lstrip("-").isdigit():
            clause = "C-020"
    elif rule == "bad event time":
        bad = _BAD_ISO_TIMES if types[schema.event_time] == "String" else _BAD_EPOCHS
        values[schema.event_time] = draw(bad)
    elif rule == "missing identifier":
        del values[schema.identifier]
    elif rule == "missing event time":
        del values[schema.event_time]
    else:
        taken = {n.lower() for n in types}
        values[draw(feature_names().filter(lambda n: n.lower() not in taken))] = "1"
    return InvalidRecord(rule, _as_record(values), clause)


# For tests whose every example creates a feature group or waits on the offline store:
# shrinking a failure would take minutes, so such tests report the first failing example
# (hypothesis still prints its reproduction blob).
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


def example_budget(share: float, cap: int | None = None) -> int:
    """``share`` of the loaded profile's ``max_examples`` (at least 1, at most ``cap``), for
    tests whose examples cost more than others (each creates a group, say)."""
    from hypothesis import settings

    count = max(1, round(settings().max_examples * share))  # the loaded profile's
    return min(count, cap) if cap is not None else count


# -- schema evolution ---------------------------------------------------------------------


@st.composite
def evolutions(draw: st.DrawFn) -> dict[str, Any]:
    """A schema, the features an update adds, a record put before the update and the same
    record re-ingested after it, one second later, with every added feature set. The event
    time is whole seconds or carries milliseconds (C-023), in either event-time type."""
    schema = draw(schemas(max_extra=2), label="schema")
    added = draw(additions(schema, max_size=2), label="additions")
    identifier = draw(identifier_values(schema.type_of(schema.identifier)), label="identifier")
    before = draw(records(schema, identifier=identifier), label="record before")
    millis = draw(st.booleans(), label="fractional event time")
    thousandths = draw(st.integers(0, 4_000_000_000_000), label="event time (ms)")
    seconds = (thousandths if millis else thousandths - thousandths % 1000) / 1000
    event_type = schema.type_of(schema.event_time)
    before[schema.event_time] = event_time_value(event_type, seconds, millis)
    after = dict(before)
    after[schema.event_time] = event_time_value(event_type, seconds + 1, millis)
    for definition in added:
        after[definition["FeatureName"]] = draw(values_of(definition["FeatureType"]))
    return {"schema": schema, "added": added, "before": before, "after": after}
