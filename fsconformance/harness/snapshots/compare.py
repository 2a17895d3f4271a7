"""Compare a replay's exchanges with a recording's: shapes, not volatile values.

Exchanges are matched by operation and normalised request; when a test repeats a request
(polling), the last answer is the one compared. For each pair: the HTTP status and error code
exactly; in bodies, the key sets at every level, the JSON type of every value, enum members
(from the botocore service model) exactly, and other strings by format (placeholder, ARN,
integer, decimal, ISO time, text). List lengths must agree except in listings whose length
depends on what else the account holds.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from typing import Any

import botocore.session

# Status members that are still moving when a test looks once; only membership is compared.
TRANSIENT = frozenset({"FeatureGroupStatus", "Status", "State"})
# Operations whose result lists hold whatever the account or bucket holds.
_UNBOUNDED_OPERATIONS = re.compile(r"^(List|Search|GetTables|BatchGetQueryExecution)")


@functools.lru_cache(maxsize=16)
def _service_model(service: str) -> Any:
    try:
        return botocore.session.get_session().get_service_model(service)
    except Exception:  # an unknown service: compare without enums
        return None


def _output_shape(service: str, operation: str) -> Any:
    model = _service_model(service)
    if model is None:
        return None
    try:
        return model.operation_model(operation).output_shape
    except Exception:
        return None


def _member(shape: Any, key: str) -> Any:
    if shape is None:
        return None
    if shape.type_name == "structure":
        return shape.members.get(key)
    if shape.type_name == "map":
        return shape.value
    return None


def _element(shape: Any) -> Any:
    return shape.member if shape is not None and shape.type_name == "list" else None


def string_format(value: str) -> str:
    """The format class of a string, for comparing values that may legitimately differ."""
    if re.fullmatch(r"<[a-z0-9:_-]+>", value):
        return value
    if value.startswith("arn:"):
        return "arn:" + ":".join(value.split(":")[2:3])
    if value.startswith("s3://"):
        return "s3-uri"
    if re.fullmatch(r"-?\d+", value):
        return "integer"
    if re.fullmatch(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?", value):
        return "decimal"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", value):
        return "iso-time"
    return "text"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    names: dict[type, str] = {dict: "object", list: "list", str: "string"}
    return names.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Differ:
    def __init__(self, unbounded: bool) -> None:
        self.unbounded = unbounded
        self.found: list[str] = []

    def value(self, path: str, key: str, recorded: Any, replay: Any, shape: Any) -> None:
        if _kind(recorded) != _kind(replay):
            self.found.append(
                f"{path}: recorded a {_kind(recorded)} {_show(recorded)}, "
                f"replay a {_kind(replay)} {_show(replay)}"
            )
            return
        if isinstance(recorded, dict):
            self.mapping(path, recorded, replay, shape)
        elif isinstance(recorded, list):
            self.sequence(path, recorded, replay, shape)
        elif isinstance(recorded, str):
            self.string(path, key, recorded, replay, shape)

    def mapping(self, path: str, recorded: dict, replay: dict, shape: Any) -> None:
        is_map = shape is not None and shape.type_name == "map"
        if not is_map:
            for key in sorted(set(recorded) - set(replay)):
                self.found.append(f"{path}.{key}: recorded, missing from the replay")
            for key in sorted(set(replay) - set(recorded)):
                self.found.append(f"{path}.{key}: in the replay, not in the recording")
        for key in sorted(set(recorded) & set(replay)):
            self.value(f"{path}.{key}", key, recorded[key], replay[key], _member(shape, key))

    def sequence(self, path: str, recorded: list, replay: list, shape: Any) -> None:
        if not self.unbounded and len(recorded) != len(replay):
            self.found.append(f"{path}: recorded {len(recorded)} items, replay {len(replay)}")
        if not recorded or not replay:
            return
        element = _element(shape)
        if all(isinstance(item, dict) for item in recorded + replay):
            # Each replayed item against the union of the recorded items' shapes.
            keys_all = set.intersection(*(set(item) for item in recorded))
            keys_any = set.union(*(set(item) for item in recorded))
            for index, item in enumerate(replay):
                for key in sorted(keys_all - set(item)):
                    self.found.append(f"{path}[{index}].{key}: recorded, missing from the replay")
                for key in sorted(set(item) - keys_any):
                    self.found.append(f"{path}[{index}].{key}: in the replay, not in the recording")
            for label, a, b in _pairs(recorded, replay):
                self.mapping_common(f"{path}[{label}]", a, b, element)
            return
        kinds = {_kind(item) for item in recorded}
        for index, item in enumerate(replay):
            if _kind(item) not in kinds:
                self.found.append(f"{path}[{index}]: a {_kind(item)}, recorded {sorted(kinds)}")

    def mapping_common(self, path: str, recorded: dict, replay: dict, shape: Any) -> None:
        for key in sorted(set(recorded) & set(replay)):
            self.value(f"{path}.{key}", key, recorded[key], replay[key], _member(shape, key))

    def string(self, path: str, key: str, recorded: str, replay: str, shape: Any) -> None:
        enum = list(getattr(shape, "enum", None) or []) if shape is not None else []
        if enum:
            if key in TRANSIENT:
                if replay not in enum:
                    self.found.append(f"{path}: {replay!r} is not one of {enum}")
            elif recorded != replay:
                self.found.append(f"{path}: recorded {recorded!r}, replay {replay!r}")
            return
        if string_format(recorded) != string_format(replay):
            self.found.append(
                f"{path}: recorded {string_format(recorded)} {_show(recorded)}, "
                f"replay {string_format(replay)} {_show(replay)}"
            )


_IDENTITY = ("FeatureName", "Key", "Name", "FeatureGroupName")


def _pairs(recorded: list[dict], replay: list[dict]) -> list[tuple[str, dict, dict]]:
    """Items paired by a naming member (order may differ between services), else by index."""
    for member in _IDENTITY:
        if all(member in item for item in recorded + replay):
            mine = {str(item[member]): item for item in recorded}
            return [
                (f"{member}={item[member]}", mine[str(item[member])], item)
                for item in replay
                if str(item[member]) in mine
            ]
    if len(recorded) != len(replay):
        return []
    return [(str(i), a, b) for i, (a, b) in enumerate(zip(recorded, replay, strict=True))]


def _key(exchange: dict[str, Any]) -> tuple[str, str, str]:
    return (
        exchange.get("service", "?"),
        exchange.get("operation", "?"),
        json.dumps(exchange.get("request", {}), sort_keys=True),
    )


def _last_by_request(exchanges: Iterable[dict[str, Any]]) -> dict[tuple[str, str, str], dict]:
    last: dict[tuple[str, str, str], dict] = {}
    for exchange in exchanges:
        last[_key(exchange)] = exchange
    return last


def compare_exchanges(recorded: list[dict[str, Any]], replay: list[dict[str, Any]]) -> list[str]:
    """Every difference between a recording and a replay, one readable line each."""
    found: list[str] = []
    before, after = _last_by_request(recorded), _last_by_request(replay)
    for key in before:
        if key not in after:
            service, operation, request = key
            found.append(f"{service}.{operation} {request[:120]}: recorded, not made in the replay")
    for key in after:
        if key not in before:
            service, operation, request = key
            found.append(f"{service}.{operation} {request[:120]}: made, not in the recording")
    for key, old in before.items():
        new = after.get(key)
        if new is None:
            continue
        service, operation, _ = key
        where = f"{service}.{operation}"
        if old.get("status") != new.get("status"):
            found.append(
                f"{where}: HTTP status recorded {old.get('status')}, replay {new.get('status')}"
            )
        old_code = (old.get("error") or {}).get("Code")
        new_code = (new.get("error") or {}).get("Code")
        if old_code != new_code:
            found.append(f"{where} Error.Code: recorded {old_code!r}, replay {new_code!r}")
        if "response" in old and "response" in new:
            differ = _Differ(
                unbounded=bool(_UNBOUNDED_OPERATIONS.match(operation)) or service == "s3"
            )
            differ.mapping(
                where, old["response"], new["response"], _output_shape(service, operation)
            )
            found += differ.found
    return found


def compare_observations(recorded: list[dict[str, Any]], replay: list[dict[str, Any]]) -> list[str]:
    """Observations the replay made differently from the recording (same clause and name)."""
    found = []
    before = {(o.get("clause"), o.get("what")): o.get("value") for o in recorded}
    for observation in replay:
        key = (observation.get("clause"), observation.get("what"))
        if key in before and before[key] != observation.get("value"):
            found.append(
                f"observation {key[0]} {key[1]!r}: recorded {before[key]!r}, "
                f"replay {observation.get('value')!r}"
            )
    return found
