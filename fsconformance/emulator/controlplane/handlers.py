"""SageMaker's feature-group operations: decoded members in, the control-plane model's answer out."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from botocore.model import Shape

from ...model.control_plane import ControlPlane
from ...model.errors import ServiceError, validation
from ...model.shapes import service_model, validate_input
from .. import encryption, moto_seam
from ..offline import flush
from ..state import FeatureStoreState

Operation = Callable[[ControlPlane, dict[str, Any], float], dict[str, Any]]

OPERATIONS: dict[str, Operation] = {
    "CreateFeatureGroup": ControlPlane.create_feature_group,
    "DescribeFeatureGroup": ControlPlane.describe_feature_group,
    "UpdateFeatureGroup": ControlPlane.update_feature_group,
    "DeleteFeatureGroup": ControlPlane.delete_feature_group,
    "ListFeatureGroups": ControlPlane.list_feature_groups,
    "UpdateFeatureMetadata": ControlPlane.update_feature_metadata,
    "DescribeFeatureMetadata": ControlPlane.describe_feature_metadata,
}

# Search is answered here only for the feature store's resources (C-176); the rest is moto's.
SEARCH_OPERATIONS: dict[str, Operation] = {"Search": ControlPlane.search}
SEARCH_RESOURCES = frozenset({"FeatureGroup", "FeatureMetadata"})

# SageMaker's generic tag operations: answered here only for feature-group ARNs.
TAG_OPERATIONS: dict[str, Operation] = {
    "AddTags": ControlPlane.add_tags,
    "ListTags": ControlPlane.list_tags,
    "DeleteTags": ControlPlane.delete_tags,
}


Hook = Callable[[FeatureStoreState, str, dict[str, Any], float], None]


def _flush_before_delete(
    state: FeatureStoreState, operation: str, params: dict[str, Any], now: float
) -> None:
    """Everything the group accepted reaches S3 before it goes away (C-084)."""
    flush.flush_group(state, params.get("FeatureGroupName", ""), now)


def _retire_grant(
    state: FeatureStoreState, operation: str, params: dict[str, Any], now: float
) -> None:
    """C-191: the online store's KMS grant goes with the group."""
    encryption.retire_online_grant(state, state.control_plane.find(params["FeatureGroupName"]))


def _sync_tables(
    state: FeatureStoreState, operation: str, params: dict[str, Any], now: float
) -> None:
    """The table of a new group and the columns an update added, in the catalog (C-054,
    C-080), before the answer that made them leaves."""
    flush.sync_tables(state)
    state.control_plane.answered_at(operation, params["FeatureGroupName"], time.time())


def _grant_and_sync(
    state: FeatureStoreState, operation: str, params: dict[str, Any], now: float
) -> None:
    """C-191: the online store's KMS key is granted to Feature Store with the group."""
    encryption.grant_online_key(state, state.control_plane.find(params["FeatureGroupName"]))
    _sync_tables(state, operation, params, now)


# What the emulation's other stores do around a control-plane operation, under the state's lock.
BEFORE: dict[str, Hook] = {"DeleteFeatureGroup": _flush_before_delete}
AFTER: dict[str, Hook] = {
    "CreateFeatureGroup": _grant_and_sync,
    "UpdateFeatureGroup": _sync_tables,
    "DeleteFeatureGroup": _retire_grant,
}


def owns(operation: str) -> bool:
    """Whether the operation may be ours (tag operations are decided on their ARN)."""
    return operation in OPERATIONS or operation in TAG_OPERATIONS or operation in SEARCH_OPERATIONS


def handle(
    state: FeatureStoreState, operation: str, params: dict[str, Any]
) -> dict[str, Any] | None:
    """Answer one control-plane operation, or ``None`` for moto (Search over other resources,
    tags of other resources moto holds)."""
    op = OPERATIONS.get(operation)
    if op is None and operation in SEARCH_OPERATIONS:
        if params.get("Resource") not in SEARCH_RESOURCES:
            return None
        op = SEARCH_OPERATIONS[operation]
    if op is None:
        op = TAG_OPERATIONS.get(operation)
        if op is None:
            return None
        arn = params.get("ResourceArn")
        if not isinstance(arn, str) or ":feature-group/" not in arn:
            # Another resource's tags are moto's when moto holds that resource; for any
            # other ARN, and for a malformed request, moto fails with a 500.
            validate_input("sagemaker", operation, params)
            if isinstance(arn, str) and moto_seam.sagemaker_resource_exists(
                state.account_id, state.region_name, arn
            ):
                return None
            raise validation(f"Resource {arn} does not exist.")
    validate_input("sagemaker", operation, params)
    _normalise_timestamps(service_model("sagemaker").operation_model(operation).input_shape, params)
    with state.lock:
        now = time.time()
        before, after = BEFORE.get(operation), AFTER.get(operation)
        if before is not None:
            before(state, operation, params, now)
        result = op(state.control_plane, params, now)
        if after is not None:
            after(state, operation, params, now)
    return result


def _epoch_seconds(value: Any) -> float:
    """A timestamp member as epoch seconds: numbers as sent by botocore, or ISO-8601 text."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return float(value)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def _normalise_timestamps(shape: Shape | None, params: dict[str, Any]) -> None:
    """Turn the top-level timestamp members of a request into epoch seconds, in place."""
    if shape is None:
        return
    for name, member in shape.members.items():
        if member.type_name == "timestamp" and params.get(name) is not None:
            try:
                params[name] = _epoch_seconds(params[name])
            except ValueError:
                raise ServiceError(
                    "ValidationException", f"Value '{params[name]}' for {name} is not a timestamp."
                ) from None
