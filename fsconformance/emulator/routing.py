"""Which service a request is for, then which room answers it; ``None`` means moto's.

The service comes from the request's SigV4 scope (or its AWS host name), never from its
path: an S3 object named ``FeatureGroup/...`` is S3's. Only then does the operation decide
(``X-Amz-Target`` for the JSON protocols, the REST path for the runtime). Nothing here reads
the body of a request the emulation does not own.
"""

from __future__ import annotations

from . import athena, clock, moto_seam
from .controlplane import handlers as controlplane
from .runtime import handlers as runtime
from .state import FeatureStoreState, state_for
from .wire import WireRequest, WireResponse


def route(request: WireRequest) -> WireResponse | None:
    """Answer ``request`` if the emulation owns it, else return ``None``."""
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
        account_id = moto_seam.account_id_for(request.headers, scope.access_key)
        return state_for(account_id, scope.region)

    if scope.service == "sagemaker":
        if service == "SageMaker":
            return (
                controlplane.handle(request, operation, state)
                if controlplane.owns(operation)
                else None
            )
        if not target:  # the runtime is REST; the control plane always names its target
            return runtime.handle(request, state)
        return None
    if scope.service == "athena" and service == "AmazonAthena":
        return athena.handle_request(request, operation, state)
    return None
