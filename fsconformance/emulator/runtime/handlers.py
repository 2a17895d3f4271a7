"""The Feature Store runtime's operations: decoded members in, the data-plane model's answer out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ...model.errors import not_emulated
from ...model.records import DataPlane
from ...model.shapes import operation_acceptor, validate_input
from ..state import FeatureStoreState

RUNTIME = "sagemaker-featurestore-runtime"
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


def owns(operation: str) -> bool:
    """Every operation of the runtime's model: moto has none of them."""
    return True


def handle(state: FeatureStoreState, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """Answer one runtime operation (raises ``ServiceError`` for what AWS refuses)."""
    answer = OPERATIONS.get(operation)
    if answer is None:  # a newer model's operation, not emulated yet
        raise not_emulated(RUNTIME, operation)
    accept = operation_acceptor(RUNTIME, operation)
    if accept is None or not accept(params):  # only a request with a fault is walked again
        validate_input(RUNTIME, operation, params)
    with state.lock:
        return answer(state.data_plane, params, time.time())
