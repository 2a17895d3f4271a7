"""``serve --data-dir``: every accepted state-changing request, kept in SQLite and replayed.

Why a journal of requests rather than a snapshot of state: the state lives in two places,
the emulation's model and moto's backends (S3 objects, Glue tables, buckets, roles), and
moto's backends are neither documented nor stable enough to serialise. Requests are the one
interface both understand, so the journal keeps each accepted request (method, path, headers,
body, and the time it was answered at) and a restart replays them, in order, at their original
times, through the same application. A request is written and committed (SQLite, WAL,
``synchronous=FULL``) before its answer leaves, so an answered write survives SIGKILL.

Writes are applied one at a time while a journal is open, so the journal's order is the order
the emulation saw (an equal event time is won by the later put). Identifiers the emulation
makes up and a client may hold on to (Athena's query execution ids) are replayed as they were
answered. moto's reset empties the journal, as it empties the state.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

READ_ONLY_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Search")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    made_id TEXT
)
"""


def changes_state(method: str, path: str, target: str) -> bool:
    """Whether a request may change state (reads are not journaled)."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    if path == "/BatchGetRecord":
        return False
    operation = target.partition(".")[2]
    return not operation.startswith(READ_ONLY_PREFIXES)


class Journal:
    """The accepted state-changing requests of one data directory, in the order applied."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "journal.sqlite3"
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        # Held by the server around applying and recording one write.
        self.lock = threading.RLock()

    def record(
        self,
        at: float,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        made_id: str | None = None,
    ) -> None:
        """Keep one accepted request; durable when this returns."""
        with self.lock:
            self._db.execute(
                "INSERT INTO requests (at, method, path, headers, body, made_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (at, method, path, json.dumps(headers), body, made_id),
            )

    def clear(self) -> None:
        with self.lock:
            self._db.execute("DELETE FROM requests")

    def entries(self) -> Iterator[tuple[float, str, str, dict[str, str], bytes, str | None]]:
        rows = self._db.execute(
            "SELECT at, method, path, headers, body, made_id FROM requests ORDER BY seq"
        ).fetchall()
        for at, method, path, headers, body, made_id in rows:
            yield at, method, path, json.loads(headers), bytes(body), made_id

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM requests").fetchone()[0]

    def close(self) -> None:
        self._db.close()


@contextlib.contextmanager
def replaying(at: float, made_id: str | None) -> Iterator[None]:
    """The clock (and a made-up identifier) as they were when a request was first answered."""
    patches: list[Any] = [mock.patch("time.time", return_value=at)]
    if made_id is not None:
        patches.append(mock.patch.object(uuid, "uuid4", return_value=uuid.UUID(made_id)))
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield
