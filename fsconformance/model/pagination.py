"""NextToken for the listing operations: the offset, bound to the query it continues."""

from __future__ import annotations

import base64
import json
from typing import Any

from .errors import validation


def encode_token(offset: int, query: dict[str, Any]) -> str:
    raw = json.dumps({"offset": offset, "query": query}, sort_keys=True, default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_token(token: str, query: dict[str, Any]) -> int:
    """The offset ``token`` stands for; a token of another query is refused."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        expected = json.loads(json.dumps(query, sort_keys=True, default=str))
        if data["query"] != expected or not isinstance(data["offset"], int):
            raise ValueError
        return data["offset"]
    except (ValueError, KeyError, TypeError):
        raise validation("The NextToken is not valid for this request.") from None
