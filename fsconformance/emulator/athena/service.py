"""Every Athena operation a client sends, answered whatever protocol it came in (C-090).

- the query operations run on the emulation's engine over the offline store (``handlers``);
- the catalogue operations read the Glue catalogue the engine reads (``metadata``);
- the rest (workgroups, named queries, prepared statements, data catalogs of one's own, ...)
  are moto's Athena, asked by name through the seam in the ``json`` protocol its handlers
  were written for, so they answer on botocore models where plain moto cannot route them.
"""

from __future__ import annotations

from typing import Any

from ...model.errors import ServiceError, not_emulated
from ...model.shapes import validate_input
from .. import moto_seam, wire
from ..state import FeatureStoreState
from . import handlers, metadata


def owns(operation: str) -> bool:
    """Every Athena operation: moto's router cannot be trusted with Athena's protocol."""
    return True


def handle(state: FeatureStoreState, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    if operation in handlers.OPERATIONS:
        validate_input("athena", operation, params, code="InvalidRequestException")
        with state.lock:  # the handlers never wait for a query under it
            return handlers.handle(state, operation, params)
    if operation in metadata.OPERATIONS and operation != "ListDataCatalogs":
        validate_input("athena", operation, params, code="InvalidRequestException")
        answered = metadata.handle(state, operation, params)
        if answered is not None:
            return answered
    return ask_moto(state, operation, params)


def ask_moto(state: FeatureStoreState, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """moto's answer to an Athena operation the emulation leaves to it."""
    prefix = wire.json_target_prefix("athena")
    try:
        answered = moto_seam.call_json(
            "athena", prefix, operation, params, state.account_id, state.region_name
        )
    except Exception as failure:  # noqa: BLE001 - moto's handler broke on this input
        raise ServiceError(
            "InvalidRequestException",
            f"moto {moto_seam.moto_version()} could not answer {operation}: "
            f"{type(failure).__name__}: {failure}",
        ) from None
    if answered is None:
        raise not_emulated("athena", operation)
    status, payload = answered
    if status >= 400:
        code = str(payload.get("__type") or "InvalidRequestException").rpartition("#")[2]
        message = str(payload.get("message") or payload.get("Message") or code)
        raise ServiceError(code, message, status)
    if operation == "ListDataCatalogs":  # the account's Glue catalogue heads moto's own
        own = metadata.handle(state, operation, params) or {}
        listed = [s for s in payload.get("DataCatalogsSummary") or [] if s.get("CatalogName")]
        names = {s["CatalogName"].lower() for s in own["DataCatalogsSummary"]}
        payload["DataCatalogsSummary"] = own["DataCatalogsSummary"] + [
            s for s in listed if s["CatalogName"].lower() not in names
        ]
    return payload
