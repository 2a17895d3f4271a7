"""What replaying a data directory's journal needs beside the server: each journaled request's
WSGI environment as the server first saw it, the Athena queries among them, and the count of
what a start restored."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from werkzeug.test import EnvironBuilder

from .journal import Entry


def replay_environ(
    method: str, path: str, headers: dict[str, str], body: bytes, scheme: str = "http"
) -> dict[str, Any]:
    """The WSGI environment of a journaled request, as the server first saw it."""
    kept = {
        k: v for k, v in headers.items() if k.lower() not in ("transfer-encoding", "content-length")
    }
    environ = EnvironBuilder(
        path=path.split("?")[0],
        query_string=path.partition("?")[2],
        method=method,
        headers=list(kept.items()),
        data=body,
    ).get_environ()
    environ["RAW_URI"] = environ["REQUEST_URI"] = path  # as first sent, query included
    environ["REMOTE_ADDR"] = "127.0.0.1"
    environ["wsgi.url_scheme"] = scheme
    return environ


def starts_a_query(entry: Entry) -> bool:
    """Whether a journaled write is Athena's StartQueryExecution, in the json or the
    rest-json protocol."""
    if entry.headers.get("X-Amz-Target", "").endswith(".StartQueryExecution"):
        return True
    return (
        entry.method == "POST" and entry.path.partition("?")[0].rstrip("/") == "/query-executions"
    )


@contextlib.contextmanager
def legacy_identifier(made_id: str | None) -> Iterator[None]:
    """The first journal format kept no seeds, only the Athena query id it answered."""
    if made_id is None:
        yield
        return
    with mock.patch.object(uuid, "uuid4", return_value=uuid.UUID(made_id)):
        yield


def no_write(data: bytes) -> None:
    """The ``write`` of a replay's start_response: the apps return their bodies."""
    raise RuntimeError("this server's applications return their bodies")


def close_result(result: Iterable[bytes]) -> None:
    """Close what a WSGI app returned, as a server must."""
    close = getattr(result, "close", None)
    if close is not None:
        close()


# A replay reports at most this many writes that answered differently, then a count.
MAX_NOTICES = 10
# How long a replayed Athena query may run before the replay moves on without it.
QUERY_SECONDS = 120.0


@dataclass
class Replayed:
    """What a start restored from its data directory."""

    count: int = 0
    differed: int = 0
    seconds: float = 0.0
    notices: list[str] = field(default_factory=list)
