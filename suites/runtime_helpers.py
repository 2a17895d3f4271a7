"""Request builders and reads shared by the online-store (runtime) conformance modules.

Expected values stay in the tests; these helpers only build groups and records and turn
responses into plain dictionaries. Error checks reuse ``suites.helpers``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fsconformance.backends import Backend
from fsconformance.flow import record_as_dict
from fsconformance.testing.strategies import RUNTIME_VALIDATION

from .helpers import expect_client_error

U1 = pytest.mark.uncertain("U-1: is the runtime validation error code ValidationError?")

# Event times in the two documented forms (C-023).
T_2020_10_29 = "2020-10-29T03:43:21Z"
T_2020_10_30 = "2020-10-30T03:43:21Z"
T_2020_10_31 = "2020-10-31T03:43:21Z"


def feature(name: str, feature_type: str, **members: Any) -> dict[str, Any]:
    return {"FeatureName": name, "FeatureType": feature_type, **members}


def iso_definitions(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A String record identifier, a String (ISO-8601) event time and a few plain features."""
    return [
        feature("customer_id", "String"),
        feature("event_time", "String"),
        feature("is_married", "Integral"),
        feature("n_days_active", "Fractional"),
        feature("name", "String"),
        feature("email", "String"),
        *extra,
    ]


def create_iso_group(backend: Backend, *extra: dict[str, Any], **members: Any) -> str:
    """Create a group over ``iso_definitions`` (online and offline unless told otherwise)."""
    request = backend.feature_group_request(definitions=iso_definitions(*extra), **members)
    backend.create_and_wait(request)
    return request["FeatureGroupName"]


def create_fractional_group(backend: Backend, **members: Any) -> str:
    """Create the backend's default group: a Fractional (epoch seconds) event time."""
    request = backend.feature_group_request(**members)
    backend.create_and_wait(request)
    return request["FeatureGroupName"]


def as_record(values: dict[str, str | list[str]]) -> list[dict[str, Any]]:
    """{feature: value} as a PutRecord ``Record``; a list becomes ``ValueAsStringList``."""
    return [
        {"FeatureName": name, "ValueAsStringList": value}
        if isinstance(value, list)
        else {"FeatureName": name, "ValueAsString": value}
        for name, value in values.items()
    ]


def put(backend: Backend, group: str, values: dict[str, Any], **members: Any) -> dict[str, Any]:
    return backend.runtime.put_record(FeatureGroupName=group, Record=as_record(values), **members)


def get(backend: Backend, group: str, identifier: str, **members: Any) -> dict[str, Any] | None:
    """GetRecord as {feature: value}, or None when the 200 response carries no ``Record``."""
    response = backend.runtime.get_record(
        FeatureGroupName=group, RecordIdentifierValueAsString=identifier, **members
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200, response
    return record_as_dict(response["Record"]) if "Record" in response else None


def expect_runtime_error(call: Callable[[], Any]) -> ClientError:
    """``call`` must fail with 400 and a runtime validation code (C-004)."""
    return expect_client_error(call, status=400, codes=RUNTIME_VALIDATION)


def expect_delete_outcome(allowed: bool, call: Callable[[], Any]) -> None:
    """A DeleteRecord the oracle allows must answer an empty 200 (C-100); one it forbids, a
    HardDelete not later than the online record (C-102), must fail as a validation error."""
    if allowed:
        assert call()["ResponseMetadata"]["HTTPStatusCode"] == 200
        return
    expect_runtime_error(call)  # fails with DID NOT RAISE when the backend accepts it


def iso_now() -> str:
    """The current UTC time in the ``yyyy-MM-dd'T'HH:mm:ssZ`` form (C-023)."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> dt.datetime:
    """An ISO-8601 UTC timestamp ending in ``Z``, with or without a fraction, as a datetime."""
    assert value.endswith("Z"), f"{value!r} does not end with Z"
    return dt.datetime.fromisoformat(value[:-1] + "+00:00")
