"""Feature values as the data plane parses them: the three scalar types, event times, collection
values, TTLs and expiry times (C-020-C-023, C-110, C-181, C-182).

Every value travels as a string (C-021). A value must parse as its feature's declared type,
the way the service's Java parser reads it: ASCII digits only, 64-bit integers, finite doubles.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from .errors import runtime_error

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # C-020
MAX_RECORD_BYTES = 350 * 1024  # C-037
MAX_IDENTIFIER_BYTES = 2 * 1024  # C-037
# C-023: event times between 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
EVENT_TIME_MIN = -62167219200.0
EVENT_TIME_MAX = 253402300799.999
TTL_SECONDS = {"Seconds": 1, "Minutes": 60, "Hours": 3600, "Days": 86400, "Weeks": 604800}

# ASCII digits only, as Java parses them: "١٢٣" is not a number (C-020).
_INTEGRAL = re.compile(r"[+-]?[0-9]{1,19}")
_FRACTIONAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_ISO_EVENT_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{3})?Z"
)


def parse_event_time(value: str, feature_type: str) -> float:
    """Epoch seconds of an event-time value (C-023), or a validation error."""
    if feature_type == "Fractional":
        seconds = parse_double(value)
        if seconds is None:
            raise runtime_error(
                f"Event time value '{value}' is not a Fractional number of seconds since the "
                "Unix epoch."
            )
    else:
        match = _ISO_EVENT_TIME.fullmatch(value)
        if match is None:
            raise runtime_error(
                f"Event time value '{value}' must be ISO-8601 in UTC, as yyyy-MM-dd'T'HH:mm:ssZ "
                "or yyyy-MM-dd'T'HH:mm:ss.SSSZ."
            )
        year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
        try:
            # The proleptic Gregorian count from year 1; year 0 is outside datetime's range.
            moment = dt.datetime(max(year, 1), month, day, hour, minute, second)
        except ValueError:
            raise runtime_error(f"Event time value '{value}' is not a valid date.") from None
        seconds = (moment - dt.datetime(1970, 1, 1)).total_seconds()
        if year == 0:
            seconds -= 366 * 86400
        if match.group(7):
            seconds += int(match.group(7)[1:]) / 1000
    if not EVENT_TIME_MIN <= seconds <= EVENT_TIME_MAX:
        raise runtime_error(
            f"Event time value '{value}' is outside 0000-01-01T00:00:00.000Z to "
            "9999-12-31T23:59:59.999Z."
        )
    return seconds


def parse_double(value: str) -> float | None:
    if not _FRACTIONAL.fullmatch(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def check_value(feature: dict[str, Any], value: str) -> None:
    """A scalar value must parse as its feature's declared type (C-020, C-022)."""
    kind = feature["FeatureType"]
    name = feature["FeatureName"]
    if kind == "Integral":
        if len(value) <= 18 and value.isascii() and value.isdigit():
            return  # plain digits, up to 18 of them: always a 64-bit integer (most values)
        # Up to 18 digits always fits 64 bits; only longer ones need the number itself.
        if not _INTEGRAL.fullmatch(value) or (
            len(value) > 18 and not INT64_MIN <= int(value) <= INT64_MAX
        ):
            raise runtime_error(
                f"Value '{value[:100]}' for feature '{name}' is not an Integral (a signed 64-bit "
                "integer)."
            )
    elif kind == "Fractional" and parse_double(value) is None:
        raise runtime_error(
            f"Value '{value[:100]}' for feature '{name}' is not a Fractional (a 64-bit floating "
            "point number)."
        )


def check_collection(feature: dict[str, Any], value: list[str]) -> list[str]:
    """A collection value as stored (C-181, C-182): every element of the feature's scalar
    type; a Set keeps the first of equal elements; a Vector has exactly its Dimension."""
    name = feature["FeatureName"]
    for item in value:
        check_value(feature, item)
    kind = feature["CollectionType"]
    if kind == "Set":
        return list(dict.fromkeys(value))
    if kind == "Vector":
        dimension = ((feature.get("CollectionConfig") or {}).get("VectorConfig") or {}).get(
            "Dimension"
        )
        if dimension is not None and len(value) != dimension:
            raise runtime_error(
                f"Vector feature '{name}' has {len(value)} elements; its Dimension is {dimension}."
            )
    return list(value)


def format_expires_at(epoch: float) -> str:
    epoch = min(epoch, EVENT_TIME_MAX)  # put_record refuses later ones; never fail a read
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=epoch)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def expires_at(event_time: float, ttl: float | None) -> float | None:
    """When a record expires: its event time plus the TTL, no later than year 9999 (C-110)."""
    if ttl is None:
        return None
    if ttl > EVENT_TIME_MAX - event_time:
        raise runtime_error(
            "The record's expiration time (event time plus TtlDuration) is later than "
            "9999-12-31T23:59:59.999Z."
        )
    return event_time + ttl


def ttl_seconds(ttl: dict[str, Any] | None) -> float | None:
    if not ttl or "Unit" not in ttl or "Value" not in ttl:
        return None
    return TTL_SECONDS[ttl["Unit"]] * ttl["Value"]


def feature_value(name: str, value: Any) -> dict[str, Any]:
    """A feature's value as a Record holds it: ValueAsString, or ValueAsStringList."""
    if isinstance(value, list):
        return {"FeatureName": name, "ValueAsStringList": list(value)}
    return {"FeatureName": name, "ValueAsString": value}
