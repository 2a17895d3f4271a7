"""SageMaker's feature-group operations: decoded members in, the control-plane model's answer out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ...model.control_plane import ControlPlane
from ...model.errors import validation
from ...model.shapes import service_model, validate_input
from .. import encryption, moto_seam
from ..offline import formats, glue_tables, replication
from ..state import FeatureStoreState
from ..wire import normalise_timestamps

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
    normalise_timestamps(service_model("sagemaker").operation_model(operation).input_shape, params)
    with state.lock:
        now = time.time()
        if operation == "DeleteFeatureGroup":
            # Everything the group accepted reaches S3 before it goes away (C-084).
            formats.load_writers(state)
            replication.flush_group(state, params.get("FeatureGroupName", ""), now)
        result = op(state.control_plane, params, now)
        if operation == "CreateFeatureGroup":
            formats.load_writers(state)  # an Iceberg group's writer, before its first row
        if operation in ("CreateFeatureGroup", "DeleteFeatureGroup"):
            # C-191: the online store's key is granted to Feature Store with the group and the
            # grant retired with it.
            group = state.control_plane.find(params["FeatureGroupName"])
            if operation == "CreateFeatureGroup":
                encryption.grant_online_key(state, group)
            else:
                encryption.retire_online_grant(state, group)
        if operation in ("CreateFeatureGroup", "UpdateFeatureGroup"):
            glue_tables.sync(state)  # the Glue table of a new group (C-080)
            state.control_plane.answered_at(operation, params["FeatureGroupName"], time.time())
    return result
