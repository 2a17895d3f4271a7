"""Self-tests of validation's fast path (``shapes._acceptor``, C-003, C-004).

Every request first meets a function that only says whether the model's checker would find
nothing wrong; the checker alone words errors. The oracle here is that checker: over
requests drawn from each owned operation's input shape, valid and spoiled alike, both must
agree on every value.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.model import Shape, ShapeResolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsconformance.emulator import athena
from fsconformance.emulator.controlplane import handlers as controlplane
from fsconformance.emulator.runtime import handlers as runtime
from fsconformance.model.errors import ServiceError
from fsconformance.model.shapes import (
    _acceptor,
    _checker,
    _clean,
    _compile,
    service_model,
    validate_input,
)
from tests.helpers import create_request

OPERATIONS = (
    [("sagemaker-featurestore-runtime", op) for op in runtime.OPERATIONS]
    + [
        ("sagemaker", op)
        for op in sorted(
            {
                *controlplane.OPERATIONS,
                *controlplane.TAG_OPERATIONS,
                *controlplane.SEARCH_OPERATIONS,
            }
        )
    ]
    + [("athena", op) for op in sorted(athena.OPERATIONS)]
)

WORDS = [
    "",
    "a",
    "g",
    "A1",
    "customers",
    "customer_id",
    "g-1_x",
    "a b",
    "é",
    "x" * 64,
    "x" * 65,
    "x" * 151,
    "arn:aws:sagemaker:us-east-1:123456789012:feature-group/g",
    "SELECT 1",
    "s3://bucket/prefix",
]
NOT_TEXT = st.sampled_from([5, 1.5, True, None, [], {}])


def mostly(
    valid: st.SearchStrategy[Any], spoiled: st.SearchStrategy[Any], spoil: int
) -> st.SearchStrategy[Any]:
    """Valid values but one time in ``spoil`` (never, for 0): one spoiled value anywhere makes
    the whole request invalid, so without the bias the deep members would never be judged."""
    if not spoil:
        return valid
    return st.integers(1, spoil).flatmap(lambda roll: spoiled if roll == 1 else valid)


def sizes(meta: dict[str, Any]) -> list[int]:
    """Lengths near the shape's bounds, when they are small enough to build."""
    candidates = {0, 1, 2}
    for bound in ("min", "max"):
        if bound in meta and meta[bound] <= 260:
            candidates |= {max(meta[bound] - 1, 0), meta[bound], meta[bound] + 1}
    return sorted(candidates)


def within(meta: dict[str, Any], size: int) -> bool:
    return meta.get("min", 0) <= size <= meta.get("max", size)


def values(shape: Shape, depth: int = 0, spoil: int = 20) -> st.SearchStrategy[Any]:
    kind, meta = shape.type_name, shape.metadata
    if depth > 5 and kind in ("structure", "list", "map"):
        return st.none()
    if kind == "structure":
        members = {
            name: mostly(values(member, depth + 1, spoil), st.none(), spoil)
            for name, member in shape.members.items()
        }
        required = set(shape.required_members)

        @st.composite
        def structure(draw: Any) -> dict[str, Any]:
            value = {}
            for name in sorted(members):
                always = name in required and not spoil
                if always or draw(st.floats(0, 1)) < (0.9 if name in required else 0.3):
                    value[name] = draw(members[name])
            if draw(st.booleans()):
                value["NotAMember"] = draw(st.sampled_from(["x", 5, None]))
            return value

        return mostly(structure(), NOT_TEXT, spoil) if depth else structure()
    if kind == "list":
        item = mostly(values(shape.member, depth + 1, spoil), st.none(), spoil)  # type: ignore[attr-defined]
        lengths = sizes(meta)
        good = [n for n in lengths if within(meta, n)] or lengths
        return mostly(
            st.sampled_from(good).flatmap(lambda n: st.lists(item, min_size=n, max_size=n)),
            st.one_of(
                st.sampled_from(lengths).flatmap(lambda n: st.lists(item, min_size=n, max_size=n)),
                NOT_TEXT,
            ),
            spoil,
        )
    if kind == "map":
        keys = values(shape.key, depth + 1, spoil)  # type: ignore[attr-defined]
        item = mostly(values(shape.value, depth + 1, spoil), st.none(), spoil)  # type: ignore[attr-defined]
        hashable = keys.filter(lambda key: key.__hash__ is not None)
        largest = min(meta.get("max", 3), 3)
        return mostly(
            st.dictionaries(hashable, item, min_size=min(meta.get("min", 0), 3), max_size=largest),
            st.one_of(st.dictionaries(hashable, item, max_size=largest + 1), NOT_TEXT),
            spoil,
        )
    if kind == "string":
        pool = list(WORDS) + list(shape.enum or [])
        for bound in ("min", "max"):
            if bound in meta and 1 < meta[bound] <= 300:
                pool += ["y" * (meta[bound] - 1), "y" * meta[bound], "y" * (meta[bound] + 1)]
        checker = _checker(shape, {})
        good: st.SearchStrategy[str] | None = None
        if [word for word in pool if _clean(checker, word)]:
            good = st.sampled_from([word for word in pool if _clean(checker, word)])
        elif meta.get("pattern") and _compile(meta["pattern"]) is not None:
            # No word of the pool fits: words of the pattern, of an allowed length.
            good = st.from_regex(_compile(meta["pattern"]), fullmatch=True).filter(
                lambda word: _clean(checker, word)
            )
        valid = good if good is not None else st.sampled_from(pool)
        return mostly(valid, st.one_of(st.sampled_from(pool), NOT_TEXT), spoil)
    if kind in ("integer", "long"):
        numbers = [0, 1, -1, 10, 100, 10**12]
        numbers += [meta[b] + d for b in ("min", "max") if b in meta for d in (-1, 0, 1)]
        good = [n for n in numbers if meta.get("min", n) <= n <= meta.get("max", n)] or numbers
        spoiled = st.sampled_from([*numbers, True, "5", 1.5, None])
        return mostly(st.sampled_from(good), spoiled, spoil)
    if kind == "boolean":
        return mostly(st.booleans(), st.sampled_from([1, 0, "true", None]), spoil)
    if kind in ("float", "double"):
        return mostly(st.sampled_from([1.5, 2, 0]), st.sampled_from([True, "1", None, [1]]), spoil)
    if kind == "timestamp":
        return mostly(
            st.sampled_from([1.5, 2, "2024-01-01T00:00:00Z"]),
            st.sampled_from([True, None, [1]]),
            spoil,
        )
    return st.sampled_from(["x", 5, None])


def input_shape(service: str, operation: str) -> Shape:
    shape = service_model(service).operation_model(operation).input_shape
    assert shape is not None
    return shape


@pytest.mark.parametrize(("service", "operation"), OPERATIONS)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_fast_path_accepts_exactly_what_the_checker_finds_clean(
    service: str, operation: str, data: st.DataObject
) -> None:
    shape = input_shape(service, operation)
    value = data.draw(values(shape))
    assert _acceptor(shape)(value) == _clean(_checker(shape, {}), value)


# Every kind and bound the checker knows, in one small model: spoiled values reach each leaf
# far more often than in a whole service's request.
EVERY_KIND = ShapeResolver(
    {
        "Top": {
            "type": "structure",
            "required": ["Name"],
            "members": {
                "Name": {"shape": "Name"},
                "Text": {"shape": "Text"},
                "Choice": {"shape": "Choice"},
                "Flag": {"shape": "Flag"},
                "Count": {"shape": "Count"},
                "Big": {"shape": "Big"},
                "Ratio": {"shape": "Ratio"},
                "Share": {"shape": "Share"},
                "When": {"shape": "When"},
                "Names": {"shape": "Names"},
                "Labels": {"shape": "Labels"},
                "Nested": {"shape": "Top"},
            },
        },
        "Name": {"type": "string", "min": 1, "max": 8, "pattern": "[a-z]+"},
        "Text": {"type": "string", "min": 2, "max": 4},
        "Choice": {"type": "string", "enum": ["On", "Off"]},
        "Flag": {"type": "boolean"},
        "Count": {"type": "integer", "min": 1, "max": 10},
        "Big": {"type": "long", "min": 0},
        "Ratio": {"type": "float"},
        "Share": {"type": "double"},
        "When": {"type": "timestamp"},
        "Names": {"type": "list", "member": {"shape": "Name"}, "min": 1, "max": 2},
        "Labels": {"type": "map", "key": {"shape": "Name"}, "value": {"shape": "Text"}, "max": 2},
    }
).get_shape_by_name("Top")


SPOILS = [None, True, False, 0, 1, -1, 10, 11, 1.5, "", "a", "ab", "abcde", "On", "A"]
SPOILS += [[], {}, ["a"], ["a", "b", "c"], [None], {"a": "xx"}, {"A": "xx"}, {"a": None}]


def places(value: Any) -> list[tuple[Any, Any]]:
    """(container, key or index) of every value inside ``value``."""
    found: list[tuple[Any, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, inner in pairs:
            found.append((item, key))
            if isinstance(inner, (dict, list)):
                stack.append(inner)
    return found


@settings(max_examples=200, deadline=None)
@given(data=st.data(), value=values(EVERY_KIND, spoil=0))
def test_the_fast_path_agrees_with_the_checker_on_every_kind_and_bound(
    data: st.DataObject, value: Any
) -> None:
    # A valid request with one value replaced: each kind and bound meets each wrong value.
    assert _clean(_checker(EVERY_KIND, {}), value)
    assert _acceptor(EVERY_KIND)(value)
    container, key = data.draw(st.sampled_from(places(value)))
    container[key] = data.draw(st.sampled_from(SPOILS))
    assert _acceptor(EVERY_KIND)(value) == _clean(_checker(EVERY_KIND, {}), value)


VALID_TOP = {
    "Name": "a",
    "Text": "ab",
    "Choice": "On",
    "Flag": True,
    "Count": 10,
    "Big": 0,
    "Ratio": 1.5,
    "Share": 2,
    "When": "2024-01-01T00:00:00Z",
    "Names": ["a", "b"],
    "Labels": {"a": "ab", "b": "abcd"},
    "Nested": {"Name": "b"},
}


@pytest.mark.parametrize("member", sorted(VALID_TOP))
def test_every_member_meets_every_wrong_value(member: str) -> None:
    assert _acceptor(EVERY_KIND)(VALID_TOP) and _clean(_checker(EVERY_KIND, {}), VALID_TOP)
    for wrong in [*SPOILS, "abcdefghi", "2024-01-01", 2**63, -(2**63)]:
        value = dict(VALID_TOP, **{member: wrong})
        assert _acceptor(EVERY_KIND)(value) == _clean(_checker(EVERY_KIND, {}), value), wrong
    for key in ["", "A", "abcdefghi", 5]:  # map keys are checked as their own shape
        value = dict(VALID_TOP, Labels={key: "ab"})
        assert _acceptor(EVERY_KIND)(value) == _clean(_checker(EVERY_KIND, {}), value), key


def test_the_fast_path_takes_the_requests_clients_send() -> None:
    # A BatchWriteRecord and a CreateFeatureGroup as botocore sends them: accepted whole.
    record = [
        {"FeatureName": "customer_id", "ValueAsString": "C1"},
        {"FeatureName": "tags", "ValueAsStringList": ["a", "b"]},
    ]
    batch = {"Entries": [{"FeatureGroupName": "g", "Record": record}] * 3}
    assert _acceptor(input_shape("sagemaker-featurestore-runtime", "BatchWriteRecord"))(batch)
    create = create_request(
        OnlineStoreConfig={"EnableOnlineStore": True, "TtlDuration": {"Unit": "Days", "Value": 3}},
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    assert _acceptor(input_shape("sagemaker", "CreateFeatureGroup"))(create)


def test_subclasses_of_builtin_types_are_left_to_the_checker() -> None:
    class Text(str):
        pass

    shape = input_shape("sagemaker-featurestore-runtime", "PutRecord")
    good = {"FeatureGroupName": Text("g"), "Record": [{"FeatureName": "f", "ValueAsString": "1"}]}
    assert not _acceptor(shape)(good)
    validate_input("sagemaker-featurestore-runtime", "PutRecord", good)  # the checker passes it
    bad = dict(good, FeatureGroupName=Text("bad name"))
    with pytest.raises(ServiceError, match="at 'featureGroupName' failed to satisfy"):
        validate_input("sagemaker-featurestore-runtime", "PutRecord", bad)
