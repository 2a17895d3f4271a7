"""Shared assertions and request builders for the control-plane conformance suite.

Expected values live in the tests and come from the contract (docs/contract.md); the
helpers only shape requests and check error responses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fsconformance.backends import Backend

# C-004: the control plane answers malformed requests with SageMaker's generic validation
# error; the other codes are the ones the model declares for the feature-group operations.
VALIDATION = frozenset({"ValidationException"})
NOT_FOUND = frozenset({"ResourceNotFound"})
IN_USE = frozenset({"ResourceInUse"})
LIMIT_EXCEEDED = frozenset({"ResourceLimitExceeded"})

# C-010: the pattern every FeatureGroupArn matches.
FEATURE_GROUP_ARN = re.compile(r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:feature-group/.*")

# U-2 applies to every control-plane validation failure: the code is not in the model.
U2 = pytest.mark.uncertain("U-2: is the control-plane validation error code ValidationException?")


def check_client_error(
    error: ClientError, *, status: int = 400, codes: Collection[str] = VALIDATION
) -> None:
    """Assert that ``error`` carries ``status`` and one of ``codes`` (C-004)."""
    response = error.response
    seen_status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    seen_code = response.get("Error", {}).get("Code")
    assert seen_status == status, f"HTTP status {seen_status}, expected {status}: {error}"
    assert seen_code in codes, f"error code {seen_code!r}, expected one of {sorted(codes)}: {error}"


def error_seen(call: Callable[[], Any]) -> tuple[str, ClientError | None]:
    """Run ``call``; say what it answered (``"400 ValidationException"``, ``"no error"``) for an
    observation, and return the error if there was one, for the test's assertion."""
    try:
        call()
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"{status} {error.response.get('Error', {}).get('Code')}", error
    return "no error", None


def expect_client_error(
    call: Callable[[], Any], *, status: int = 400, codes: Collection[str] = VALIDATION
) -> ClientError:
    """Run ``call``, which must fail with ``status`` and one of ``codes``; return the error."""
    with pytest.raises(ClientError) as raised:
        call()
    check_client_error(raised.value, status=status, codes=codes)
    return raised.value


def feature(name: str, feature_type: str = "Fractional") -> dict[str, str]:
    return {"FeatureName": name, "FeatureType": feature_type}


def numbered_features(
    count: int, prefix: str = "f", feature_type: str = "Fractional"
) -> list[dict[str, str]]:
    """``count`` distinct, valid feature definitions."""
    return [feature(f"{prefix}{index}", feature_type) for index in range(count)]


def base_definitions() -> list[dict[str, str]]:
    """The definitions of ``Backend.feature_group_request``'s default group, spelled out."""
    return [
        feature("customer_id", "String"),
        feature("event_time", "Fractional"),
        feature("n_days_active", "Fractional"),
        feature("is_married", "Integral"),
    ]


def types_by_name(definitions: Iterable[dict[str, Any]]) -> dict[str, str]:
    """FeatureDefinitions as a name -> type mapping, for tests about names and types only (the
    order is C-017's too: Describe lists the definitions as they were created)."""
    return {d["FeatureName"]: d["FeatureType"] for d in definitions}


def create_groups(backend: Backend, names: Iterable[str], **members: Any) -> list[dict[str, Any]]:
    """Create one group per name, then wait for all of them; return their descriptions."""
    requests = [backend.feature_group_request(name, **members) for name in names]
    for request in requests:
        backend.sagemaker.create_feature_group(**request)
    return [backend.wait_until_created(r["FeatureGroupName"]) for r in requests]


def listed_names(backend: Backend, **query: Any) -> list[str]:
    """Names from one ListFeatureGroups page (enough for the few groups a test creates)."""
    response = backend.sagemaker.list_feature_groups(MaxResults=100, **query)
    assert "NextToken" not in response, "more groups matched than a single test creates"
    return [summary["FeatureGroupName"] for summary in response["FeatureGroupSummaries"]]


def _update_settled(description: dict[str, Any]) -> dict[str, Any] | None:
    status = description.get("LastUpdateStatus", {}).get("Status")
    return None if status in (None, "InProgress") else description


def expect_update_rejected(backend: Backend, request: dict[str, Any], **update: Any) -> None:
    """An update the service must refuse: a 400 at once, or ``LastUpdateStatus`` ``Failed``
    later (C-052 leaves the form open). Either way the definitions stay those the create
    ``request`` sent (C-017), not whatever the backend described beforehand."""
    name = request["FeatureGroupName"]
    before = types_by_name(request["FeatureDefinitions"])
    try:
        backend.sagemaker.update_feature_group(FeatureGroupName=name, **update)
    except ClientError as error:
        check_client_error(error, status=400, codes=VALIDATION)
    else:
        description = backend.poll(
            lambda: _update_settled(backend.describe(name)),
            budget="update",
            what=f"update of {name} settling",
        )
        assert description["LastUpdateStatus"]["Status"] == "Failed", description
    assert types_by_name(backend.describe(name)["FeatureDefinitions"]) == before
