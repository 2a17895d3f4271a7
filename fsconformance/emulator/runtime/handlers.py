"""The Feature Store runtime's operations, from the REST-JSON wire to the data-plane model."""

from __future__ import annotations

import functools
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from ...model.errors import ServiceError
from ...model.records import DataPlane
from ...model.shapes import service_model, validate_input
from ..state import FeatureStoreState
from ..wire import WireRequest, WireResponse, json_error, json_response

CONTENT_TYPE = "application/json"

Operation = Callable[[DataPlane, dict[str, Any], float], dict[str, Any]]

OPERATIONS: dict[str, Operation] = {
    "PutRecord": DataPlane.put_record,
    "GetRecord": DataPlane.get_record,
    "BatchGetRecord": DataPlane.batch_get_record,
    "DeleteRecord": DataPlane.delete_record,
    "BatchWriteRecord": DataPlane.batch_write_record,
    "ListRecords": DataPlane.list_records,
    "UpdateRecord": DataPlane.update_record,
}


def handle(request: WireRequest, state_of: Callable[[], FeatureStoreState]) -> WireResponse | None:
    try:
        routed = runtime_params(request)
        if routed is None:
            return None
        operation, params = routed
        if operation not in service_model("sagemaker-featurestore-runtime").operation_names:
            return None  # an older botocore without the operation: moto's, as before
        validate_input("sagemaker-featurestore-runtime", operation, params)
        state = state_of()
        with state.lock:
            result = OPERATIONS[operation](state.data_plane, params, time.time())
    except ServiceError as error:
        return json_error(error, CONTENT_TYPE)
    return json_response(result, CONTENT_TYPE)


def runtime_params(request: WireRequest) -> tuple[str, dict[str, Any]] | None:
    """The Feature Store runtime operation and its members, from a REST-JSON request (C-001)."""
    url = urllib.parse.urlsplit(request.url)
    if url.path in ("/BatchGetRecord", "/BatchWriteRecord") and request.method == "POST":
        return url.path[1:], request.json_body()
    prefix = "/FeatureGroup/"
    if not url.path.startswith(prefix):
        return None
    # The name is one URI label (an ARN's "/" arrives as %2F); a second label is the operation.
    label, _, suffix = url.path[len(prefix) :].partition("/")
    name = urllib.parse.unquote(label)
    if suffix:
        operation = {"ListRecords": "ListRecords", "Record": "UpdateRecord"}.get(suffix)
        if operation is None or request.method != "POST":
            return None
        # The group is the URL's: a FeatureGroupName in the body is not a member of it.
        return operation, request.json_body() | {"FeatureGroupName": name}
    if request.method == "PUT":
        return "PutRecord", request.json_body() | {"FeatureGroupName": name}
    params: dict[str, Any] = {"FeatureGroupName": name}
    # Only the reads and deletes carry members in the query string.
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    for member in (
        "RecordIdentifierValueAsString",
        "EventTime",
        "ExpirationTimeResponse",
        "DeletionMode",
    ):
        if member in query:
            params[member] = query[member][0]
    if request.method == "GET":
        if "FeatureName" in query:
            params["FeatureNames"] = query["FeatureName"]
        return "GetRecord", params
    if request.method == "DELETE":
        if "TargetStores" in query:
            params["TargetStores"] = query["TargetStores"]
        return "DeleteRecord", params
    return None


def is_runtime_path(request: WireRequest) -> bool:
    """Whether the request's path is one of the runtime service model's, whatever its method
    (operations this emulation does not answer yet included)."""
    path = urllib.parse.urlsplit(request.url).path
    exact, prefixes = _runtime_paths()
    return path in exact or path.startswith(prefixes)


@functools.cache
def _runtime_paths() -> tuple[frozenset[str], tuple[str, ...]]:
    model = service_model("sagemaker-featurestore-runtime")
    uris = [model.operation_model(op).http["requestUri"] for op in model.operation_names]
    exact = frozenset(u.split("?")[0] for u in uris if "{" not in u)
    return exact, tuple(sorted({u.split("{")[0] for u in uris if "{" in u}))
