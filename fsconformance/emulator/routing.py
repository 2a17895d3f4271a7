"""Which service a request is for, then which room answers it; ``None`` means moto's.

The service comes from the request's SigV4 scope (or its AWS host name), never from its
path: an S3 object named ``FeatureGroup/...`` is S3's. Only then does the operation decide
(``X-Amz-Target`` for the JSON protocols, the REST path for the runtime). Nothing here reads
the body of a request the emulation does not own.

A target naming no operation of the service model is answered here with AWS's
``UnknownOperationException`` (moto would answer it with a 500). Athena's query operations are
checked against the service model's constraints before the Athena room sees them. Should a
room ever raise something other than a ``ServiceError``, the answer is still AWS-shaped (an
``InternalFailure``), never an HTML page.
"""

from __future__ import annotations

import logging

from ..model.errors import ServiceError
from ..model.shapes import service_model, validate_input
from . import athena, clock, moto_seam
from .controlplane import handlers as controlplane
from .runtime import handlers as runtime
from .state import FeatureStoreState, state_for
from .wire import WireRequest, WireResponse, json_error

log = logging.getLogger("fsconformance.server")

JSON_11 = "application/x-amz-json-1.1"


def route(request: WireRequest) -> WireResponse | None:
    """Answer ``request`` if the emulation owns it, else return ``None``."""
    try:
        return _route(request)
    except Exception:  # a bug of ours: AWS-shaped all the same, and logged
        log.exception("internal failure answering %s %s", request.method, request.url)
        error = ServiceError("InternalFailure", "The request processing has failed.", 500)
        return json_error(error, JSON_11)


def _route(request: WireRequest) -> WireResponse | None:
    scope = request.scope()
    # Requests that can observe the offline store or the Glue catalog (S3, Glue, Athena, any
    # other service of moto's) move the emulated clock first, so an S3 listing sees the rows
    # that are due (C-060). SageMaker's own requests cannot see files, and the model applies
    # what is due to them itself, so they skip it: rows then buffer until someone looks,
    # which batches replication whatever the delay.
    if scope.service != "sagemaker":
        clock.tick()
    target = request.header("X-Amz-Target") or ""
    service, _, operation = target.partition(".")

    def state() -> FeatureStoreState:
        account_id = moto_seam.account_id_for(request.header("x-moto-account-id"), scope.access_key)
        return state_for(account_id, scope.region)

    if scope.service == "sagemaker":
        if service == "SageMaker":
            if operation not in service_model("sagemaker").operation_names:
                return unknown_operation(target)
            return (
                controlplane.handle(request, operation, state)
                if controlplane.owns(operation)
                else None
            )
        if not target:  # the runtime is REST; the control plane always names its target
            answered = runtime.handle(request, state)
            if answered is None and runtime.is_runtime_path(request):
                return unknown_operation(request.method)  # e.g. POST /FeatureGroup/g
            return answered  # None: another REST API signed as sagemaker (InvokeEndpoint)
        return None
    if scope.service == "athena" and service == "AmazonAthena":
        if operation not in service_model("athena").operation_names:
            return unknown_operation(target)
        if operation in athena.OPERATIONS:
            try:
                params = request.json_body()
                validate_input("athena", operation, params, code="InvalidRequestException")
            except ServiceError as error:
                return json_error(error, JSON_11)
        return athena.handle_request(request, operation, state)
    return None


def unknown_operation(target: str) -> WireResponse:
    """AWS's answer to an ``X-Amz-Target`` (or a runtime method and path) that names no
    operation of the service."""
    error = ServiceError("UnknownOperationException", f"Unknown operation: {target[:200]}")
    return json_error(error, JSON_11)
