"""Checks a request against the constraints of the installed botocore service model.

botocore validates required members, types and minimums on the client side but not maximums,
patterns or enums (C-003); the service does. This module does what the service's request
validation layer does, and answers with AWS's "N validation errors detected" message.
"""

from __future__ import annotations

import functools
import re
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
def service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


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


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append(
                f"Value at '{path}' failed to satisfy constraint: Member must be an object"
            )
            return
        for member in shape.required_members:
            if value.get(member) is None:
                errors.append(
                    f"Value null at '{_join(path, member)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for member, member_value in value.items():
            if member in shape.members and member_value is not None:
                _check(shape.members[member], member_value, _join(path, member), errors)
        return
    if kind == "list":
        if not isinstance(value, list):
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be a list")
            return
        _check_length(value, meta, path, "length", errors)
        for index, item in enumerate(value, start=1):
            if item is None:
                errors.append(
                    f"Value null at '{path}.{index}.member' failed to satisfy constraint: "
                    "Member must not be null"
                )
            else:
                _check(shape.member, item, f"{path}.{index}.member", errors)
        return
    if kind == "string":
        if not isinstance(value, str):
            errors.append(
                f"Value at '{path}' failed to satisfy constraint: Member must be a string"
            )
            return
        _check_length(value, meta, path, "length", errors)
        if shape.enum and value not in shape.enum:
            errors.append(
                f"Value '{_describe(value)}' at '{path}' failed to satisfy constraint: Member must "
                f"satisfy enum value set: [{', '.join(shape.enum)}]"
            )
        pattern = meta.get("pattern")
        compiled = _compile(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            errors.append(
                f"Value '{_describe(value)}' at '{path}' failed to satisfy constraint: Member must "
                f"satisfy regular expression pattern: {pattern}"
            )
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(
                f"Value at '{path}' failed to satisfy constraint: Member must be a number"
            )
            return
        if "min" in meta and value < meta["min"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value "
                f"greater than or equal to {meta['min']}"
            )
        if "max" in meta and value > meta["max"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value "
                f"less than or equal to {meta['max']}"
            )
        return
    if kind == "map":
        if not isinstance(value, dict):
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be a map")
            return
        _check_length(value, meta, path, "length", errors)
        for key, item in value.items():
            _check(shape.key, key, f"{path}.key", errors)
            if item is None:
                errors.append(
                    f"Value null at '{path}.{key}' failed to satisfy constraint: "
                    "Member must not be null"
                )
            else:
                _check(shape.value, item, f"{path}.{key}.value", errors)
        return
    if kind in ("float", "double") and (
        isinstance(value, bool) or not isinstance(value, (int, float))
    ):
        errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be a number")
        return
    if kind == "timestamp" and (
        isinstance(value, bool) or not isinstance(value, (int, float, str))
    ):
        errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be a timestamp")
        return
    if kind == "boolean" and not isinstance(value, bool):
        errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be a boolean")


def _check_length(
    value: Any, meta: dict[str, Any], path: str, word: str, errors: list[str]
) -> None:
    if "min" in meta and len(value) < meta["min"]:
        errors.append(
            f"Value '{_describe(value)}' at '{path}' failed to satisfy constraint: Member must have "
            f"{word} greater than or equal to {meta['min']}"
        )
    if "max" in meta and len(value) > meta["max"]:
        errors.append(
            f"Value '{_describe(value)}' at '{path}' failed to satisfy constraint: Member must have "
            f"{word} less than or equal to {meta['max']}"
        )


def _join(path: str, member: str) -> str:
    return f"{path}.{_camel(member)}" if path else _camel(member)


def validate_input(
    service: str, operation: str, params: dict[str, Any], code: str | None = None
) -> None:
    """Raise the service's validation error (``code``, if given) if ``params`` break the
    operation's model."""
    shape = service_model(service).operation_model(operation).input_shape
    if shape is None:
        return
    errors: list[str] = []
    _check(shape, params, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        if code is None:
            code = "ValidationException" if service == "sagemaker" else "ValidationError"
        raise ServiceError(code, f"{count} validation {noun} detected: " + "; ".join(errors), 400)
