"""NextToken for the listing operations: a position (an offset, or the last key listed),
bound to the query it continues."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from .errors import ServiceError, validation


def encode_token(position: int | str, query: dict[str, Any]) -> str:
    raw = json.dumps({"position": position, "query": query}, sort_keys=True, default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_token(
    token: str,
    query: dict[str, Any],
    *,
    kind: type = int,
    invalid: Callable[[], ServiceError] | None = None,
) -> Any:
    """The position ``token`` stands for, of type ``kind``; a token of another query is
    refused, by default with the control plane's ValidationException."""
    try:
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        expected = json.loads(json.dumps(query, sort_keys=True, default=str))
        position = data["position"]
        if data["query"] != expected or not isinstance(position, kind) or position is True:
            raise ValueError
        if isinstance(position, int) and position < 0:
            raise ValueError
        return position
    except (ValueError, KeyError, TypeError):
        if invalid is not None:
            raise invalid() from None
        raise validation("The NextToken is not valid for this request.") from None
