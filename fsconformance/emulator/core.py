"""One request -> response core for every transport (in-process handler, WSGI middleware).

``handle`` answers the requests the emulation owns and returns ``None`` for everything else,
which then falls through to moto.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..model.control_plane import ControlPlane
from ..model.errors import ServiceError
from ..model.shapes import service_model, validate_input
from . import moto_bridge
from .wire import WireRequest, WireResponse, json_error, json_response, normalise_timestamps

SAGEMAKER_JSON = "application/x-amz-json-1.1"

ControlPlaneOp = Callable[[ControlPlane, dict[str, Any], float], dict[str, Any]]

CONTROL_PLANE_OPERATIONS: dict[str, ControlPlaneOp] = {
    "CreateFeatureGroup": ControlPlane.create_feature_group,
    "DescribeFeatureGroup": ControlPlane.describe_feature_group,
    "UpdateFeatureGroup": ControlPlane.update_feature_group,
    "DeleteFeatureGroup": ControlPlane.delete_feature_group,
    "ListFeatureGroups": ControlPlane.list_feature_groups,
    "UpdateFeatureMetadata": ControlPlane.update_feature_metadata,
    "DescribeFeatureMetadata": ControlPlane.describe_feature_metadata,
}

# Generic SageMaker tag operations: answered here only for feature-group ARNs.
TAG_OPERATIONS: dict[str, ControlPlaneOp] = {
    "AddTags": ControlPlane.add_tags,
    "ListTags": ControlPlane.list_tags,
    "DeleteTags": ControlPlane.delete_tags,
}


def handle(request: WireRequest) -> WireResponse | None:
    """Answer ``request`` if the emulation owns it, else return ``None``."""
    target = request.header("X-Amz-Target") or ""
    if target.startswith("SageMaker."):
        return _handle_sagemaker(request, target.partition(".")[2])
    return None


def _handle_sagemaker(request: WireRequest, operation: str) -> WireResponse | None:
    op = CONTROL_PLANE_OPERATIONS.get(operation)
    try:
        params = request.json_body()
        if op is None:
            op = TAG_OPERATIONS.get(operation)
            if op is None or ":feature-group/" not in str(params.get("ResourceArn", "")):
                return None
        validate_input("sagemaker", operation, params)
        normalise_timestamps(
            service_model("sagemaker").operation_model(operation).input_shape, params
        )
        access_key, region = request.access_key_and_region()
        account_id = moto_bridge.account_id_for(request.headers, access_key)
        state = moto_bridge.state_for(account_id, region)
        with state.lock:
            result = op(state.control_plane, params, time.time())
    except ServiceError as error:
        return json_error(error, SAGEMAKER_JSON)
    return json_response(result, SAGEMAKER_JSON)
