"""Checks a request against the constraints of the installed botocore service model.

botocore validates required members, types and minimums on the client side but not maximums,
patterns or enums (C-003); the service does. This module does what the service's request
validation layer does, and answers with AWS's "N validation errors detected" message.

Each operation has two forms of the same checks: an acceptor, one generated function that
only answers whether a request is clean (what nearly every request is, at a few
microseconds), and a checker, which walks the request again to word every error when the
acceptor does not accept it.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.model import ServiceModel, Shape

from .errors import ServiceError

# Java regex classes used by the SageMaker model, spelled for Python's re.
_JAVA_CLASSES = {
    r"\p{L}\p{Z}\p{N}": r"\w\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000 ",
    r"\uD800\uDC00-\uDBFF\uDFFF": r"\U00010000-\U0010FFFF",
}


@functools.cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


def data_loader() -> Any:
    """The loader validation reads service models with; clients given it (the backends')
    parse each large model file once per process instead of once per session."""
    return _botocore_session().get_component("data_loader")


@functools.cache
def service_model(service: str) -> ServiceModel:
    return _botocore_session().get_service_model(service)


@functools.cache
def _compile(pattern: str) -> re.Pattern[str] | None:
    for java, python in _JAVA_CLASSES.items():
        pattern = pattern.replace(java, python)
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:  # a pattern we cannot express: leave it to the semantic checks
        return None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _describe(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 100 else text[:100] + "..."


# Where a value sits in the request: "" for the request itself, else (parent, member name in
# camelCase) or (parent, list position from 1); see ``_render``.
Path = str | tuple[Any, str | int]
Checker = Callable[[Any, Path, list[str]], None]


def _checker(shape: Shape, memo: dict[str, Checker]) -> Checker:
    """A function that appends ``shape``'s constraint violations by ``value`` to ``errors``.

    Everything that depends on the shape alone (member names, required members, enums,
    compiled patterns) is worked out once here rather than on every request; ``memo`` ties
    recursive shapes to the checker being built.
    """
    if shape.name in memo:
        return memo[shape.name]
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        members: dict[str, tuple[str, Checker]] = {}
        required = list(shape.required_members)

        def check_structure(value: Any, path: Path, errors: list[str]) -> None:
            if not isinstance(value, dict):
                errors.append(
                    f"Value at '{_render(path)}' failed to satisfy constraint: Member must be an "
                    "object"
                )
                return
            for member in required:
                if value.get(member) is None:
                    errors.append(
                        f"Value null at '{_render((path, _camel(member)))}' failed to satisfy "
                        "constraint: Member must not be null"
                    )
            for member, member_value in value.items():
                found = members.get(member)
                if found is not None and member_value is not None:
                    camel, check = found
                    check(member_value, (path, camel), errors)

        memo[shape.name] = check_structure
        for name, member_shape in shape.members.items():
            members[name] = (_camel(name), _checker(member_shape, memo))
        return check_structure
    if kind == "list":
        memo[shape.name] = check_list = _list_checker(shape, meta, memo)
        return check_list
    if kind == "string":
        enum = list(shape.enum) if shape.enum else None
        enum_set = set(enum) if enum else None
        pattern = meta.get("pattern")
        # ".*" (compiled with DOTALL) matches every string: no need to run it.
        compiled = _compile(pattern) if pattern and pattern != ".*" else None
        shortest, longest = meta.get("min", 0), meta.get("max", math.inf)
        # Names (groups, features) repeat on every request: remember short values that passed.
        passed: set[str] = set()

        def check_string(value: Any, path: Path, errors: list[str]) -> None:
            if value.__class__ is str and value in passed:
                return
            if not isinstance(value, str):
                errors.append(
                    f"Value at '{_render(path)}' failed to satisfy constraint: Member must be a "
                    "string"
                )
                return
            before = len(errors)
            if not shortest <= len(value) <= longest:
                _check_length(value, meta, path, "length", errors)
            if enum_set is not None and value not in enum_set:
                errors.append(
                    f"Value '{_describe(value)}' at '{_render(path)}' failed to satisfy "
                    "constraint: Member "
                    f"must satisfy enum value set: [{', '.join(enum)}]"  # type: ignore[arg-type]
                )
            if compiled is not None and not compiled.fullmatch(value):
                errors.append(
                    f"Value '{_describe(value)}' at '{_render(path)}' failed to satisfy "
                    f"constraint: Member must satisfy regular expression pattern: {pattern}"
                )
            if len(errors) == before and len(value) <= 256 and (compiled or enum_set):
                if len(passed) >= 4096:  # bounded: a stream of distinct values never grows it
                    passed.clear()
                passed.add(value)

        memo[shape.name] = check_string
        return check_string
    if kind in ("integer", "long"):

        def check_number(value: Any, path: Path, errors: list[str]) -> None:
            if isinstance(value, bool) or not isinstance(value, int):
                errors.append(
                    f"Value at '{_render(path)}' failed to satisfy constraint: Member must be a "
                    "number"
                )
                return
            if "min" in meta and value < meta["min"]:
                errors.append(
                    f"Value '{value}' at '{_render(path)}' failed to satisfy constraint: Member "
                    f"must have value greater than or equal to {meta['min']}"
                )
            if "max" in meta and value > meta["max"]:
                errors.append(
                    f"Value '{value}' at '{_render(path)}' failed to satisfy constraint: Member "
                    f"must have value less than or equal to {meta['max']}"
                )

        memo[shape.name] = check_number
        return check_number
    if kind == "boolean":

        def check_boolean(value: Any, path: Path, errors: list[str]) -> None:
            if not isinstance(value, bool):
                errors.append(
                    f"Value at '{_render(path)}' failed to satisfy constraint: Member must be a "
                    "boolean"
                )

        memo[shape.name] = check_boolean
        return check_boolean

    if kind == "map":
        memo[shape.name] = check_map = _map_checker(shape, meta, memo)
        return check_map
    if kind in ("float", "double", "timestamp"):
        allowed: tuple[type, ...] = (int, float, str) if kind == "timestamp" else (int, float)
        noun = "a timestamp" if kind == "timestamp" else "a number"

        def check_scalar(value: Any, path: Path, errors: list[str]) -> None:
            if isinstance(value, bool) or not isinstance(value, allowed):
                errors.append(
                    f"Value at '{_render(path)}' failed to satisfy constraint: Member must be "
                    f"{noun}"
                )

        memo[shape.name] = check_scalar
        return check_scalar

    def check_nothing(value: Any, path: Path, errors: list[str]) -> None:
        return None

    memo[shape.name] = check_nothing
    return check_nothing


def _list_checker(shape: Shape, meta: dict[str, Any], memo: dict[str, Checker]) -> Checker:
    item_check: list[Checker] = []

    def check_list(value: Any, path: Path, errors: list[str]) -> None:
        if not isinstance(value, list):
            errors.append(
                f"Value at '{_render(path)}' failed to satisfy constraint: Member must be a list"
            )
            return
        _check_length(value, meta, path, "length", errors)
        check = item_check[0]
        for index, item in enumerate(value, start=1):
            if item is None:
                errors.append(
                    f"Value null at '{_render((path, index))}' failed to satisfy constraint: "
                    "Member must not be null"
                )
            else:
                check(item, (path, index), errors)

    memo[shape.name] = check_list
    item_check.append(_checker(shape.member, memo))
    return check_list


def _map_checker(shape: Shape, meta: dict[str, Any], memo: dict[str, Checker]) -> Checker:
    checks: list[Checker] = []

    def check_map(value: Any, path: Path, errors: list[str]) -> None:
        if not isinstance(value, dict):
            errors.append(
                f"Value at '{_render(path)}' failed to satisfy constraint: Member must be a map"
            )
            return
        _check_length(value, meta, path, "length", errors)
        check_key, check_value = checks
        for key, item in value.items():
            check_key(key, (path, "key"), errors)
            if item is None:
                errors.append(
                    f"Value null at '{_render((path, str(key)))}' failed to satisfy constraint: "
                    "Member must not be null"
                )
            else:
                check_value(item, ((path, str(key)), "value"), errors)

    memo[shape.name] = check_map
    checks.append(_checker(shape.key, memo))
    checks.append(_checker(shape.value, memo))
    return check_map


def _check_length(
    value: Any, meta: dict[str, Any], path: Path, word: str, errors: list[str]
) -> None:
    if "min" in meta and len(value) < meta["min"]:
        errors.append(
            f"Value '{_describe(value)}' at '{_render(path)}' failed to satisfy constraint: Member "
            f"must have {word} greater than or equal to {meta['min']}"
        )
    if "max" in meta and len(value) > meta["max"]:
        errors.append(
            f"Value '{_describe(value)}' at '{_render(path)}' failed to satisfy constraint: Member "
            f"must have {word} less than or equal to {meta['max']}"
        )


def _render(path: Path) -> str:
    """A path as AWS's messages spell it: members joined by dots (camelCase), list items as
    ``<list>.<n>.member``. Paths stay tuples until an error needs one written out, since
    formatting every member's path cost a third of a valid request's check."""
    pieces: list[str | int] = []
    while isinstance(path, tuple):
        path, piece = path
        pieces.append(piece)
    text = path
    for piece in reversed(pieces):
        if isinstance(piece, int):
            text = f"{text}.{piece}.member"
        else:
            text = f"{text}.{piece}" if text else piece
    return text


@functools.cache
def _operation_checker(service: str, operation: str) -> Checker | None:
    shape = service_model(service).operation_model(operation).input_shape
    return None if shape is None else _checker(shape, {})


# Below this many levels an acceptor calls the checker instead of writing checks out: more
# than the deepest input shape of the three services has (11 levels, SageMaker's
# CreateAlgorithm); a recursive shape stops at its first repeat in any case.
_ACCEPTOR_DEPTH = 12


@functools.cache
def operation_acceptor(service: str, operation: str) -> Callable[[Any], bool] | None:
    """The operation's generated acceptor (see ``_acceptor``); ``None`` for no input."""
    shape = service_model(service).operation_model(operation).input_shape
    return None if shape is None else _acceptor(shape)


def _clean(check: Checker, value: Any) -> bool:
    errors: list[str] = []
    check(value, "", errors)
    return not errors


def _acceptor(shape: Shape) -> Callable[[Any], bool]:
    """A function that is True only for values in which ``_checker(shape)`` finds nothing
    wrong, and for nearly all of those.

    It is the same checks written out as the body of one function, so a valid request pays
    no call and builds no path per member. ``False`` only sends the value on to the checker,
    which alone words errors; so do values of subclasses of dict, list, str and int.
    """
    namespace: dict[str, Any] = {"_clean": _clean}
    lines: list[str] = []
    names = itertools.count()

    def constant(value: Any) -> str:
        name = f"_c{next(names)}"
        namespace[name] = value
        return name

    def refuse_unless_within(var: str, meta: dict[str, Any], pad: str, size: bool) -> None:
        measured = f"len({var})" if size else var
        if "min" in meta:
            lines.append(f"{pad}if {measured} < {meta['min']!r}: return False")
        if "max" in meta:
            lines.append(f"{pad}if {measured} > {meta['max']!r}: return False")

    def emit(shape: Shape, var: str, pad: str, within: tuple[str, ...]) -> None:
        kind, meta = shape.type_name, shape.metadata
        if shape.name in within or len(within) >= _ACCEPTOR_DEPTH:
            check = constant(_checker(shape, {}))
            lines.append(f"{pad}if not _clean({check}, {var}): return False")
            return
        within = (*within, shape.name)
        if kind == "structure":
            lines.append(f"{pad}if {var}.__class__ is not dict: return False")
            required = set(shape.required_members)
            for member in required - set(shape.members):  # required, yet never described
                lines.append(f"{pad}if {var}.get({member!r}) is None: return False")
            for member, member_shape in shape.members.items():
                item = f"_v{next(names)}"
                lines.append(f"{pad}{item} = {var}.get({member!r})")
                if member in required:
                    lines.append(f"{pad}if {item} is None: return False")
                    emit(member_shape, item, pad, within)
                    continue
                lines.append(f"{pad}if {item} is not None:")
                before = len(lines)
                emit(member_shape, item, pad + "    ", within)
                if len(lines) == before:  # a kind the checker does not look at
                    lines[-2:] = []
        elif kind == "list":
            item = f"_v{next(names)}"
            lines.append(f"{pad}if {var}.__class__ is not list: return False")
            refuse_unless_within(var, meta, pad, size=True)
            lines.append(f"{pad}for {item} in {var}:")
            lines.append(f"{pad}    if {item} is None: return False")
            emit(shape.member, item, pad + "    ", within)
        elif kind == "map":
            key, item = f"_v{next(names)}", f"_v{next(names)}"
            lines.append(f"{pad}if {var}.__class__ is not dict: return False")
            refuse_unless_within(var, meta, pad, size=True)
            lines.append(f"{pad}for {key}, {item} in {var}.items():")
            lines.append(f"{pad}    if {item} is None: return False")
            emit(shape.key, key, pad + "    ", within)
            emit(shape.value, item, pad + "    ", within)
        elif kind == "string":
            lines.append(f"{pad}if {var}.__class__ is not str: return False")
            pattern = meta.get("pattern")
            compiled = _compile(pattern) if pattern and pattern != ".*" else None
            if compiled is None and not shape.enum:
                refuse_unless_within(var, meta, pad, size=True)
            else:
                passed: set[str] = set()
                ok = constant(_remembering(_checker(shape, {}), passed))
                known = constant(passed)
                lines.append(f"{pad}if {var} not in {known} and not {ok}({var}): return False")
        elif kind in ("integer", "long"):
            lines.append(f"{pad}if {var}.__class__ is not int: return False")
            refuse_unless_within(var, meta, pad, size=False)
        elif kind == "boolean":
            lines.append(f"{pad}if {var}.__class__ is not bool: return False")
        elif kind in ("float", "double", "timestamp"):
            allowed = constant((int, float, str) if kind == "timestamp" else (int, float))
            lines.append(f"{pad}if {var}.__class__ not in {allowed}: return False")
        # Any other kind the checker does not look at.

    emit(shape, "value", "    ", ())
    # Only the service model's member names and bounds are written into the source (as
    # literals); nothing of any request.
    source = "def accept(value):\n" + "\n".join(lines) + "\n    return True\n"
    exec(compile(source, f"<acceptor {shape.name}>", "exec"), namespace)  # noqa: S102
    return namespace["accept"]


def _remembering(check: Checker, passed: set[str]) -> Callable[[str], bool]:
    """Whether the string checker ``check`` finds a string clean, remembering short ones that
    are (names repeat on every request), a bounded number of them."""

    def acceptable(value: str) -> bool:
        if not _clean(check, value):
            return False
        if len(value) <= 256:
            if len(passed) >= 4096:
                passed.clear()
            passed.add(value)
        return True

    return acceptable


# Services whose requests leave validation with their null members removed (see below).
_NULL_IS_ABSENT = frozenset({"sagemaker"})


def validate_input(
    service: str, operation: str, params: dict[str, Any], code: str | None = None
) -> None:
    """Raise the service's validation error (``code``, if given) if ``params`` break the
    operation's model.

    AWS's JSON protocols read a member sent as ``null`` as a member not sent; a required
    one is refused as null above. For the control plane, whose model looks members up by
    presence, the null members are then removed from ``params``, so ``"FeatureAdditions":
    null`` is the request without additions and a ``TtlDuration`` whose Unit and Value are
    null is one without either, which removes the TTL (C-056).
    """
    accept = operation_acceptor(service, operation)
    if accept is None or accept(params):
        if service in _NULL_IS_ABSENT:
            _drop_nulls(params)
        return
    check = _operation_checker(service, operation)
    assert check is not None
    errors: list[str] = []
    check(params, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        if code is None:
            code = "ValidationException" if service == "sagemaker" else "ValidationError"
        raise ServiceError(code, f"{count} validation {noun} detected: " + "; ".join(errors), 400)
    if service in _NULL_IS_ABSENT:
        _drop_nulls(params)


def _drop_nulls(value: Any) -> None:
    """Remove every member whose value is null from the structures in ``value``, in place.
    (Validation has refused nulls inside lists and maps already.)"""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in [k for k, v in item.items() if v is None]:
                del item[key]
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, (dict, list)))
