"""Which emulated service a request is for, then which operation; ``None`` means moto's.

The service comes from the request's SigV4 scope (or its AWS host name), never from its
path: an S3 object named ``FeatureGroup/...`` is S3's. Only then is the operation read, in
whatever protocol the request speaks (``protocols``), and handed with its members and the
account's state to the service's handler. Nothing here reads the body of a request the
emulation does not own.

A request that names no operation of a service the emulation owns is answered here, in its
own protocol, with AWS's ``UnknownOperationException`` (moto would answer it with a 500 or an
empty 404). Should a handler ever raise something other than a ``ServiceError``, the answer
is still AWS-shaped (an ``InternalFailure``), never an HTML page.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from ..model.errors import ServiceError
from . import athena, clock, moto_seam, wire
from .controlplane import handlers as controlplane
from .runtime import handlers as runtime
from .state import FeatureStoreState, state_for
from .wire import WireRequest, WireResponse, json_error

log = logging.getLogger("fsconformance.server")


class Handler(Protocol):
    """One emulated service: which operations it answers, and the answers."""

    def owns(self, operation: str) -> bool: ...

    def handle(
        self, state: FeatureStoreState, operation: str, params: dict[str, Any]
    ) -> dict[str, Any] | None: ...


# The services the emulation answers, by the signing name their requests carry: SageMaker's
# control plane and the Feature Store runtime share "sagemaker".
_SIGNED_AS = {"sagemaker": ("sagemaker", "sagemaker-featurestore-runtime"), "athena": ("athena",)}
_HANDLERS: dict[str, Handler] = {
    "sagemaker": controlplane,
    "sagemaker-featurestore-runtime": runtime,
    "athena": athena,
}


def route(request: WireRequest) -> WireResponse | None:
    """Answer ``request`` if the emulation owns it, else return ``None``."""
    try:
        return _route(request)
    except Exception:  # a bug of ours: AWS-shaped all the same, and logged
        log.exception("internal failure answering %s %s", request.method, request.url)
        error = ServiceError("InternalFailure", "The request processing has failed.", 500)
        return json_error(error, "application/json")


def _route(request: WireRequest) -> WireResponse | None:
    scope = request.scope()
    # Requests that can observe the offline store or the Glue catalog (S3, Glue, Athena, any
    # other service of moto's) move the emulated clock first, so an S3 listing sees the rows
    # that are due (C-060). SageMaker's own requests cannot see files, and the model applies
    # what is due to them itself, so they skip it: rows then buffer until someone looks,
    # which batches replication whatever the delay.
    if scope.service != "sagemaker":
        clock.tick()
    services = _SIGNED_AS.get(scope.service or "")
    if services is None:
        return None
    protocol = wire.protocol_of(request)
    call = None
    for service in services:
        try:
            call = wire.match(service, request, protocol)
        except ServiceError as failure:
            return wire.error(service, protocol, failure, request)
        if call is not None:
            break
    if call is None:
        if scope.service == "athena":  # nothing else signs as Athena: a request we must name
            what = f"{request.method} {request.url}"
            unknown = wire.unknown_operation("athena", protocol, what, 404)
            return wire.error("athena", protocol, unknown, request)
        return None  # another API signed as sagemaker (InvokeEndpoint), or a foreign target
    handler = _HANDLERS[call.service]
    if not handler.owns(call.operation):
        return None
    try:
        params = wire.params(call, request)
        account_id = moto_seam.account_id_for(request.header("x-moto-account-id"), scope.access_key)
        output = handler.handle(state_for(account_id, scope.region), call.operation, params)
    except ServiceError as failure:
        return wire.error(call.service, protocol, failure, request)
    if output is None:
        return None
    return wire.answer(call, output, request)
