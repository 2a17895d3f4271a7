"""Self-tests of the request-body nesting limit (``wire.parse_json_body``, 64 levels).

The oracle is the depth of what Python's own JSON parser builds from the same body, so it
knows nothing of how the emulation counts brackets.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsconformance.emulator.wire import parse_json_body
from fsconformance.model.errors import ServiceError

# The documented limit (docs/emulation/errors.md), written here rather than read from the
# module under test, so that a changed limit fails these tests.
MAX_JSON_DEPTH = 64

# Strings that often hold what a bracket counter could trip on, and strings that never do
# (a body with only those takes the counter's fast path).
TRICKY = st.text(alphabet=st.sampled_from('[]{}"\\/aé\u2028 '), max_size=6)
PLAIN = st.text(alphabet=st.sampled_from("ab/é\u2028 "), max_size=4)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def nested(strings: st.SearchStrategy[str], levels: int) -> st.SearchStrategy[Any]:
    """Values nested exactly ``levels`` deep along one chain, with shallower siblings."""
    sibling = st.one_of(strings, st.just({}), st.just([]), st.lists(strings, max_size=2))
    level = st.tuples(st.booleans(), strings, st.lists(sibling, max_size=2))

    def build(steps: list[tuple[bool, str, list[Any]]]) -> Any:
        value: Any = "leaf"
        for as_list, key, siblings in steps:
            if as_list:
                value = [*siblings, value]
            else:
                value = {f"s{i}": item for i, item in enumerate(siblings)} | {"k" + key: value}
        return value

    return st.lists(level, min_size=levels, max_size=levels).map(build)


def body_of(value: Any, width: int, ensure_ascii: bool, text: str = "a") -> bytes:
    # Wrapped in an object with many shallow members: more brackets than the limit.
    members = {f"m{i}": [{"a": text} for _ in range(2)] for i in range(width)}
    return json.dumps({"v": value, **members}, ensure_ascii=ensure_ascii).encode()


def refused_as_too_deep(body: bytes) -> bool:
    try:
        parse_json_body(body)
    except ServiceError as error:
        assert error.code == "SerializationException"
        return "nested more than" in error.message
    return False


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    levels=st.integers(min_value=0, max_value=MAX_JSON_DEPTH + 6),
    width=st.integers(min_value=0, max_value=40),
    ensure_ascii=st.booleans(),
    tricky=st.booleans(),
)
def test_a_body_is_refused_as_too_deep_exactly_when_it_is(
    data: st.DataObject, levels: int, width: int, ensure_ascii: bool, tricky: bool
) -> None:
    strings = TRICKY if tricky else PLAIN
    value = data.draw(nested(strings, levels))
    body = body_of(value, width, ensure_ascii, data.draw(strings))
    expected = depth(json.loads(body)) > MAX_JSON_DEPTH
    assert refused_as_too_deep(body) == expected


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH])
def test_alternating_arrays_and_objects_at_the_limit(levels: int) -> None:
    # "[{[{...": a "{}" taken away can leave a "[]"; the count must not halve the depth.
    value: Any = "x"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    assert depth({"v": value}) == levels + 1
    assert refused_as_too_deep(body_of(value, 40, True)) == (levels + 1 > MAX_JSON_DEPTH)


def test_brackets_in_strings_cannot_hide_depth() -> None:
    # Closing brackets in strings on the way down and opening ones on the way back balance a
    # count taken over the whole body, strings included, at less than half the true depth.
    def lists(levels: int, inner: Any) -> Any:
        for _ in range(levels):
            inner = [inner]
        return inner

    middle = ["]" * 20, lists(25, "leaf"), "[" * 20]
    value = lists(19, ["]" * 19, lists(19, middle), "[" * 19])
    assert depth({"v": value}) == 66
    assert refused_as_too_deep(body_of(value, 40, True))
