"""SageMaker Search over feature groups and feature metadata (C-176-C-178).

Each searchable resource is a document: the ``FeatureGroup`` or ``FeatureMetadata`` shape the
response carries. A filter names a property of it: a member (``FeatureGroupName``), a dotted
path into nested members (``OfflineStoreConfig.S3StorageConfig.S3Uri``, through lists such as
``FeatureDefinitions.FeatureName``), ``Tags.<key>``/``Parameters.<key>``, or
``AllTags``/``AllParameters`` for any key or value.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from .errors import validation
from .pagination import decode_token, encode_token

SEARCH_RESOURCES = frozenset({"FeatureGroup", "FeatureMetadata"})
MAX_CLAUSES = 50  # C-176: Filters, NestedFilters and SubExpressions, counted recursively
DEFAULT_MAX_RESULTS = 10
_ALIASES = {"FeatureGroupARN": "FeatureGroupArn"}  # the developer guide's spelling (C-177)
_TIME_PROPERTIES = frozenset({"CreationTime", "LastModifiedTime"})
_ORDERED = frozenset({"GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo"})
_MISSING = object()


def search(documents: list[dict[str, Any]], request: dict[str, Any]) -> dict[str, Any]:
    """The Search response over ``documents`` (each the resource's shape, times as epoch)."""
    resource = request["Resource"]
    expression = request.get("SearchExpression")
    if expression is not None:
        if _count(expression) > MAX_CLAUSES:
            raise validation(
                f"A SearchExpression can hold at most {MAX_CLAUSES} Filters, NestedFilters and "
                "SubExpressions in total."
            )
        if _count_contains(expression) > 1:
            raise validation("'CONTAINS' operator usage limit of 1 exceeded.")
        documents = [d for d in documents if _matches(d, expression)]
    sort_by = request.get("SortBy", "LastModifiedTime")
    descending = request.get("SortOrder", "Descending") == "Descending"
    present = [d for d in documents if _sort_value(d, sort_by) is not _MISSING]
    absent = [d for d in documents if _sort_value(d, sort_by) is _MISSING]
    present.sort(
        key=lambda d: (_sortable(_sort_value(d, sort_by)), _identity(d)), reverse=descending
    )
    ordered = present + sorted(absent, key=_identity)
    query = {k: v for k, v in request.items() if k not in ("NextToken", "MaxResults")}
    start = decode_token(request["NextToken"], query) if request.get("NextToken") else 0
    limit = request.get("MaxResults", DEFAULT_MAX_RESULTS)
    page = ordered[start : start + limit]
    response: dict[str, Any] = {
        "Results": [{resource: doc} for doc in page],
        "TotalHits": {"Value": len(ordered), "Relation": "EqualTo"},
    }
    if start + limit < len(ordered):
        response["NextToken"] = encode_token(start + limit, query)
    return response


# -- expressions ------------------------------------------------------------------------


def _count(expression: dict[str, Any]) -> int:
    return (
        len(expression.get("Filters") or [])
        + len(expression.get("NestedFilters") or [])
        + sum(1 + _count(sub) for sub in expression.get("SubExpressions") or [])
    )


def _count_contains(expression: dict[str, Any]) -> int:
    filters = list(expression.get("Filters") or [])
    for nested in expression.get("NestedFilters") or []:
        filters += nested.get("Filters") or []
    own = sum(1 for f in filters if f.get("Operator") == "Contains")
    return own + sum(_count_contains(sub) for sub in expression.get("SubExpressions") or [])


def _matches(document: dict[str, Any], expression: dict[str, Any]) -> bool:
    results = [_filter_matches(document, f) for f in expression.get("Filters") or []]
    results += [_nested_matches(document, n) for n in expression.get("NestedFilters") or []]
    results += [_matches(document, sub) for sub in expression.get("SubExpressions") or []]
    if expression.get("Operator", "And") == "Or":
        return any(results)
    return all(results)


def _nested_matches(document: dict[str, Any], nested: dict[str, Any]) -> bool:
    """Every filter must hold for one and the same element of the nested list."""
    prefix = nested["NestedPropertyName"]
    elements = _resolve(document, prefix)
    for element in elements:
        items = element if isinstance(element, list) else [element]
        for item in items:
            scoped = []
            for f in nested["Filters"]:
                name = f["Name"]
                if not name.startswith(prefix + "."):
                    raise validation(
                        f"Filter '{name}' in NestedFilters must start with '{prefix}.'."
                    )
                scoped.append(dict(f, Name=name[len(prefix) + 1 :]))
            if isinstance(item, dict) and all(_filter_matches(item, f) for f in scoped):
                return True
    return False


def _filter_matches(document: dict[str, Any], search_filter: dict[str, Any]) -> bool:
    name = search_filter["Name"]
    value = search_filter.get("Value")
    operator = search_filter.get("Operator", "Equals")
    values = [v for v in _resolve(document, name) if v is not None]
    if operator == "Exists":
        return bool(values)
    if operator == "NotExists":
        return not values
    if value is None:
        raise validation(f"Filter '{name}' with Operator {operator} needs a Value.")
    base = name.split(".")[-1]
    timed = _ALIASES.get(base, base) in _TIME_PROPERTIES
    if operator in _ORDERED:
        if not timed and not all(_is_number(v) for v in values):
            raise validation(f"Operator {operator} cannot be used with the text property '{name}'.")
        wanted = _time(value) if timed else _number(value)
        return any(_compare(operator, _number(v), wanted) for v in values)
    if operator in ("Contains", "In"):
        if timed:
            raise validation(f"Operator {operator} applies only to text properties, not '{name}'.")
        if operator == "Contains":
            return any(value in str(v) for v in values)
        return any(str(v) in [part.strip() for part in value.split(",")] for v in values)
    equal = any((_number(v) == _time(value)) if timed else _text(v) == value for v in values)
    return equal if operator == "Equals" else not equal


def _compare(operator: str, left: float, right: float) -> bool:
    return {
        "GreaterThan": left > right,
        "GreaterThanOrEqualTo": left >= right,
        "LessThan": left < right,
        "LessThanOrEqualTo": left <= right,
    }[operator]


# -- properties -------------------------------------------------------------------------


def _resolve(document: dict[str, Any], name: str) -> list[Any]:
    """Every value ``name`` reaches in ``document`` (lists are walked through)."""
    head, _, rest = name.partition(".")
    for bag, key_name in (("Tags", "AllTags"), ("Parameters", "AllParameters")):
        pairs = document.get(bag)
        if pairs is None:
            continue
        if head == key_name and not rest:
            return [p["Key"] for p in pairs] + [p["Value"] for p in pairs]
        if head == bag and rest:
            return [p["Value"] for p in pairs if p["Key"] == rest]
    current: list[Any] = [document]
    for part in name.split("."):
        part = _ALIASES.get(part, part)
        following: list[Any] = []
        for item in current:
            for element in item if isinstance(item, list) else [item]:
                if isinstance(element, dict) and part in element:
                    following.append(element[part])
        current = following
    flat: list[Any] = []
    for item in current:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


def _first(document: dict[str, Any], name: str) -> Any:
    values = _resolve(document, name)
    return values[0] if values else _MISSING


def _sort_value(document: dict[str, Any], sort_by: str) -> Any:
    """The value a document sorts by. A group never updated has no LastModifiedTime (C-051);
    for the default sort it counts as last modified when it was created (an emulation choice,
    docs/evidence.md), so the newest groups still come first."""
    value = _first(document, sort_by)
    if value is _MISSING and sort_by == "LastModifiedTime":
        return _first(document, "CreationTime")
    return value


def _identity(document: dict[str, Any]) -> tuple[str, str]:
    return document.get("FeatureGroupName", ""), document.get("FeatureName", "")


def _sortable(value: Any) -> tuple[int, Any]:
    if _is_number(value):
        return 0, float(value)
    return 1, json.dumps(value, sort_keys=True, default=str) if not isinstance(
        value, str
    ) else value


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise validation(f"Value '{value}' is not a number.") from None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _time(value: str) -> float:
    """A filter's timestamp: ``YYYY-mm-dd'T'HH:MM:SS`` (C-176), with or without a zone."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            return float(value)
        except ValueError:
            raise validation(
                f"Value '{value}' is not a timestamp of the form YYYY-mm-dd'T'HH:MM:SS."
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


# -- pagination -------------------------------------------------------------------------


def pairs(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in mapping.items()]
