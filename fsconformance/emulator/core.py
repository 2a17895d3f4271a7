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
from ..model.records import DataPlane
from ..model.shapes import service_model, validate_input
from . import athena, glue_catalog, moto_bridge, offline_store
from .wire import (
    WireRequest,
    WireResponse,
    json_error,
    json_response,
    normalise_timestamps,
    runtime_params,
)

SAGEMAKER_JSON = "application/x-amz-json-1.1"
RUNTIME_JSON = "application/json"
ATHENA_JSON = "application/x-amz-json-1.1"

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

# Search is answered here only for the feature store's resources (C-176); the rest is moto's.
SEARCH_OPERATIONS: dict[str, ControlPlaneOp] = {"Search": ControlPlane.search}
SEARCH_RESOURCES = frozenset({"FeatureGroup", "FeatureMetadata"})

# Generic SageMaker tag operations: answered here only for feature-group ARNs.
TAG_OPERATIONS: dict[str, ControlPlaneOp] = {
    "AddTags": ControlPlane.add_tags,
    "ListTags": ControlPlane.list_tags,
    "DeleteTags": ControlPlane.delete_tags,
}


DataPlaneOp = Callable[[DataPlane, dict[str, Any], float], dict[str, Any]]

RUNTIME_OPERATIONS: dict[str, DataPlaneOp] = {
    "PutRecord": DataPlane.put_record,
    "GetRecord": DataPlane.get_record,
    "BatchGetRecord": DataPlane.batch_get_record,
    "DeleteRecord": DataPlane.delete_record,
    "BatchWriteRecord": DataPlane.batch_write_record,
    "ListRecords": DataPlane.list_records,
    "UpdateRecord": DataPlane.update_record,
}


def handle(request: WireRequest) -> WireResponse | None:
    """Answer ``request`` if the emulation owns it, else return ``None``."""
    # Every request, ours or moto's, moves the emulated clock: finished updates reach the
    # Glue table and offline rows past their lag reach S3 (C-054, C-060).
    offline_store.tick()
    target = request.header("X-Amz-Target") or ""
    if target.startswith("AmazonAthena."):
        return _handle_athena(request, target.partition(".")[2])
    if target.startswith("SageMaker."):
        return _handle_sagemaker(request, target.partition(".")[2])
    if not target:
        return _handle_runtime(request)
    return None


def _state(request: WireRequest) -> moto_bridge.FeatureStoreState:
    access_key, region = request.access_key_and_region()
    account_id = moto_bridge.account_id_for(request.headers, access_key)
    return moto_bridge.state_for(account_id, region)


def _handle_runtime(request: WireRequest) -> WireResponse | None:
    try:
        routed = runtime_params(request)
        if routed is None:
            return None
        operation, params = routed
        if operation not in service_model("sagemaker-featurestore-runtime").operation_names:
            return None  # an older botocore without the operation: moto's, as before
        validate_input("sagemaker-featurestore-runtime", operation, params)
        state = _state(request)
        with state.lock:
            result = RUNTIME_OPERATIONS[operation](state.data_plane, params, time.time())
    except ServiceError as error:
        return json_error(error, RUNTIME_JSON)
    return json_response(result, RUNTIME_JSON)


def _handle_sagemaker(request: WireRequest, operation: str) -> WireResponse | None:
    op = CONTROL_PLANE_OPERATIONS.get(operation)
    try:
        params = request.json_body()
        if op is None and operation in SEARCH_OPERATIONS:
            if params.get("Resource") not in SEARCH_RESOURCES:
                return None
            op = SEARCH_OPERATIONS[operation]
        if op is None:
            op = TAG_OPERATIONS.get(operation)
            if op is None or ":feature-group/" not in str(params.get("ResourceArn", "")):
                return None
        validate_input("sagemaker", operation, params)
        normalise_timestamps(
            service_model("sagemaker").operation_model(operation).input_shape, params
        )
        state = _state(request)
        with state.lock:
            now = time.time()
            if operation == "DeleteFeatureGroup":
                # Everything the group accepted reaches S3 before it goes away (C-084).
                offline_store.flush_group(state, params.get("FeatureGroupName", ""), now)
            result = op(state.control_plane, params, now)
            if operation in ("CreateFeatureGroup", "UpdateFeatureGroup"):
                glue_catalog.sync(state)  # the Glue table of a new group (C-080)
                state.control_plane.answered_at(operation, params["FeatureGroupName"], time.time())
    except ServiceError as error:
        return json_error(error, SAGEMAKER_JSON)
    return json_response(result, SAGEMAKER_JSON)


def _handle_athena(request: WireRequest, operation: str) -> WireResponse | None:
    """Athena's query operations run on the offline store; the rest is moto's (C-090)."""
    if operation not in athena.OPERATIONS:
        return None
    try:
        params = request.json_body()
        state = _state(request)
        with state.lock:
            result = athena.handle(state, operation, params)
    except ServiceError as error:
        return json_error(error, ATHENA_JSON)
    return json_response(result, ATHENA_JSON)
