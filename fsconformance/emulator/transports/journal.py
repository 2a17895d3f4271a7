"""``serve --data-dir``: every accepted write of a data directory, in an append-only file.

Why a journal of requests rather than a snapshot of state: the state lives in two places,
the emulation's model and moto's backends (S3 objects, Glue tables, buckets, roles), and
moto's backends are neither documented nor stable enough to serialise. Requests are the one
interface both understand. Each accepted write is kept with the moment it was applied at and
the seed its random draws came from (``determinism``), so replaying it after a restart makes
the same identifiers and times the client was first given (docs/durability.md).

The file, ``<data dir>/journal.log``, is a header line naming the format version, then one
record per write: the payload's length and CRC-32, then the payload (a JSON line of the
request's metadata, then its body). A record is written and flushed to the disk before the
write's answer leaves, so an answered write survives SIGKILL and power loss alike. A torn or
damaged record (a crash mid-append, bytes from elsewhere) ends the journal: what follows it is
moved to a file of its own beside the journal, never deleted, and what precedes it is kept.
Nothing is ever written outside the data directory: every file has a fixed name in it and is
opened without following symbolic links. One process at a time holds a data directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
import struct
import sys
import threading
import urllib.parse
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "journal.log"
FORMAT_VERSION = 1
_MAGIC = b"fsconformance journal "
_HEADER = _MAGIC + str(FORMAT_VERSION).encode() + b"\n"
_RECORD = struct.Struct(">QI")  # payload length, CRC-32 of the payload
# The first journal format: a SQLite table of requests (no seeds), imported once if found.
_LEGACY = "journal.sqlite3"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)

READ_ONLY_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Search")
# Query-protocol reads whose name says otherwise: STS hands out credentials on these.
_WRITES_NAMED_GET = frozenset({"GetSessionToken", "GetFederationToken"})


class JournalError(Exception):
    """A data directory that cannot be used; the message is one line naming the file."""


def changes_state(method: str, path: str, target: str, form: bytes = b"") -> bool:
    """Whether a request may change state (reads are not journaled).

    ``form`` is the body of a query-protocol request (IAM, STS: ``Action=...``), whose
    operation is named there rather than in a target header.
    """
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    if path == "/BatchGetRecord":
        return False
    operation = target.partition(".")[2]
    if not operation and form:
        actions = urllib.parse.parse_qs(form.decode("latin-1")).get("Action")
        operation = actions[0] if actions else ""
        if operation in _WRITES_NAMED_GET:
            return True
    return not operation.startswith(READ_ONLY_PREFIXES)


def answer_digest(status: int, body: bytes) -> str:
    """What a replay must give again: the status and the SHA-256 of the answer's body."""
    return f"{status} {hashlib.sha256(body).hexdigest()}"


@dataclass(frozen=True)
class Entry:
    """One accepted write: the request as applied, when, and the seed of its random draws."""

    at: float
    seed: int | None
    method: str
    path: str  # as sent, query string included
    headers: dict[str, str]
    body: bytes
    answer: str | None = None  # ``answer_digest`` of the first answer
    made_id: str | None = None  # the first format's record of an Athena query id
    scheme: str = "http"  # https under ``serve --tls``; moto names it in some answers

    def encode(self) -> bytes:
        meta: dict[str, Any] = {
            "at": self.at,
            "seed": self.seed,
            "method": self.method,
            "path": self.path,
            "headers": list(self.headers.items()),
            "answer": self.answer,
        }
        if self.made_id is not None:
            meta["made_id"] = self.made_id
        if self.scheme != "http":
            meta["scheme"] = self.scheme
        line = json.dumps(meta, separators=(",", ":"), ensure_ascii=True).encode("ascii")
        return line + b"\n" + self.body

    @classmethod
    def decode(cls, payload: bytes) -> Entry:
        line, newline, body = payload.partition(b"\n")
        if not newline:
            raise ValueError("no metadata line")
        meta = json.loads(line)
        headers = meta["headers"]
        if not isinstance(headers, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(s, str) for s in pair)
            for pair in headers
        ):
            raise ValueError("headers are not a list of name and value pairs")
        entry = cls(
            at=float(meta["at"]),
            seed=meta["seed"],
            method=str(meta["method"]),
            path=str(meta["path"]),
            headers=dict(headers),
            body=body,
            answer=meta.get("answer"),
            made_id=meta.get("made_id"),
            scheme=str(meta.get("scheme", "http")),
        )
        if entry.seed is not None and not isinstance(entry.seed, int):
            raise ValueError("the seed is not an integer")
        return entry


def _open_inside(directory: Path, name: str, flags: int) -> int:
    """Open ``directory/name`` (a fixed name, never a symbolic link) for the journal."""
    path = directory / name
    try:
        fd = os.open(path, flags | _NOFOLLOW | _CLOEXEC | _BINARY, 0o600)
    except OSError as error:
        if path.is_symlink():
            raise JournalError(
                f"{path}: is a symbolic link; the journal writes only files of its own "
                "data directory"
            ) from None
        raise JournalError(f"{path}: cannot open: {error.strerror or error}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise JournalError(f"{path}: is not a regular file")
    return fd


def _lock(fd: int, path: Path) -> None:
    """Hold the data directory for this process (released when it ends, even on SIGKILL)."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            raise JournalError(f"{path}: in use by another fsconformance serve") from None
        return
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise JournalError(f"{path}: in use by another fsconformance serve") from None


def _sync_directory(directory: Path) -> None:
    """Make a file's creation or new length durable (its directory entry included)."""
    with contextlib.suppress(OSError):  # not every platform opens directories
        fd = os.open(directory, os.O_RDONLY | _CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_sync = getattr(os, "fdatasync", os.fsync)
_pread_lock = threading.Lock()


def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    with _pread_lock:  # Windows has no pread; the appends seek to the end themselves
        os.lseek(fd, offset, os.SEEK_SET)
        return os.read(fd, size)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Journal:
    """The accepted writes of one data directory, in the order applied.

    Opening it reads the file through: a damaged tail is set aside (``notices`` says where),
    a journal of a newer format is refused with ``JournalError``.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise JournalError(f"{self.directory}: cannot create: {error.strerror}") from None
        self.path = self.directory / FILE_NAME
        self.notices: list[str] = []
        # Held by the server around applying and recording one write.
        self.lock = threading.RLock()
        self.broken: str | None = None  # why writes can no longer be kept, once they cannot
        self.last_at = 0.0
        # How many bytes were ever appended, and how many of them are on the disk
        # (``wait_durable``); counted across ``clear``, which shortens the file.
        self._synced_change = threading.Condition()
        self._written = self._synced = 0
        self._syncing = False
        self._fd = _open_inside(self.directory, FILE_NAME, os.O_RDWR | os.O_CREAT)
        try:
            _lock(self._fd, self.path)
            self._offsets = self._recover()
            self._import_legacy()
        except BaseException:
            os.close(self._fd)
            raise

    # -- opening --------------------------------------------------------------------------

    def _read_at(self, offset: int, size: int) -> bytes:
        chunks = []
        while size > 0:
            chunk = _pread(self._fd, min(size, 1 << 24), offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _recover(self) -> list[tuple[int, int]]:
        """Check every record; set a damaged tail aside. The (offset, length) of each kept."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            _write_all(self._fd, _HEADER)
            os.fsync(self._fd)
            _sync_directory(self.directory)
            return []
        first = self._read_at(0, min(size, 64))
        line, newline, _ = first.partition(b"\n")
        version = line[len(_MAGIC) :] if line.startswith(_MAGIC) and newline else b""
        if version.isdigit() and int(version) > FORMAT_VERSION:
            raise JournalError(
                f"{self.path}: written by a newer fsconformance (journal format "
                f"{int(version)}; this one reads format {FORMAT_VERSION}); upgrade "
                "fsconformance or choose another --data-dir"
            )
        offsets: list[tuple[int, int]] = []
        if version != str(FORMAT_VERSION).encode():
            self._set_aside(0, size, offsets)
            return offsets
        offset = len(line) + 1
        while offset < size:
            head = self._read_at(offset, _RECORD.size)
            if len(head) < _RECORD.size:
                break
            length, crc = _RECORD.unpack(head)
            if length > size - offset - _RECORD.size:
                break
            payload = self._read_at(offset + _RECORD.size, length)
            if zlib.crc32(payload) != crc:
                break
            try:
                entry = Entry.decode(payload)
            except (ValueError, KeyError, TypeError):
                break
            self.last_at = max(self.last_at, entry.at)
            offsets.append((offset + _RECORD.size, length))
            offset += _RECORD.size + length
        if offset < size:
            self._set_aside(offset, size, offsets)
        return offsets

    def _set_aside(self, offset: int, size: int, kept: list[tuple[int, int]]) -> None:
        """Move the bytes from ``offset`` on to a file of their own; the journal ends there."""
        number = 1
        while True:
            name = f"{FILE_NAME}.damaged-{number}"
            try:
                aside = _open_inside(self.directory, name, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
                break
            except JournalError:
                if (
                    not (self.directory / name).exists()
                    and not (self.directory / name).is_symlink()
                ):
                    raise
                number += 1
        try:
            position = offset
            while position < size:
                chunk = self._read_at(position, min(size - position, 1 << 24))
                if not chunk:
                    break
                _write_all(aside, chunk)
                position += len(chunk)
            os.fsync(aside)
        except OSError as error:
            raise JournalError(
                f"{self.directory / name}: cannot set the journal's damaged tail aside: "
                f"{error.strerror}"
            ) from None
        finally:
            os.close(aside)
        _sync_directory(self.directory)
        keep_from = offset
        if offset == 0:  # no usable header: a fresh journal in its place
            os.ftruncate(self._fd, 0)
            os.lseek(self._fd, 0, os.SEEK_SET)
            _write_all(self._fd, _HEADER)
            keep_from = len(_HEADER)
        os.ftruncate(self._fd, keep_from)
        os.fsync(self._fd)
        self.notices.append(
            f"{self.path}: damaged record at byte {offset}; kept {len(kept)} entries, set "
            f"aside {size - offset} bytes in {self.directory / name}"
        )

    def _import_legacy(self) -> None:
        """Bring the first format's entries (``journal.sqlite3``) into this journal, once."""
        legacy = self.directory / _LEGACY
        if not legacy.exists() or legacy.is_symlink() or self._offsets:
            return
        try:
            db = sqlite3.connect(legacy)
            try:
                rows = db.execute(
                    "SELECT at, method, path, headers, body, made_id FROM requests ORDER BY seq"
                ).fetchall()
            finally:
                db.close()
        except sqlite3.Error as error:
            self.notices.append(f"{legacy}: not imported: {error}")
            return
        entries = [
            Entry(at, None, method, path, dict(json.loads(headers)), bytes(body), None, made_id)
            for at, method, path, headers, body, made_id in rows
        ]
        self.append_all(entries)
        os.replace(legacy, self.directory / f"{_LEGACY}.imported")
        _sync_directory(self.directory)
        self.notices.append(
            f"{legacy}: imported {len(entries)} entries of the first journal format (kept as "
            f"{_LEGACY}.imported)"
        )

    # -- use ------------------------------------------------------------------------------

    def append(self, entry: Entry) -> int:
        """Write one accepted write to the file; the mark ``wait_durable`` waits for. Call
        with ``lock`` held, so the file's order is the order applied."""
        payload = entry.encode()
        record = _RECORD.pack(len(payload), zlib.crc32(payload)) + payload
        with self.lock:
            offset = os.lseek(self._fd, 0, os.SEEK_END)
            _write_all(self._fd, record)
            self._offsets.append((offset + _RECORD.size, len(payload)))
            self.last_at = max(self.last_at, entry.at)
            with self._synced_change:
                self._written += len(record)
                return self._written

    def wait_durable(self, end: int) -> None:
        """Return once every record up to the mark ``end`` is on the disk (raises
        ``OSError`` if it cannot be). Writers waiting together share one flush (a group commit), so clients
        writing at once are not each held up by a flush of their own."""
        with self._synced_change:
            while self._synced < end:
                if self._syncing:
                    self._synced_change.wait()
                    continue
                self._syncing = True
                target = self._written
                self._synced_change.release()
                try:
                    _sync(self._fd)
                finally:
                    self._synced_change.acquire()
                    self._syncing = False
                    self._synced_change.notify_all()
                self._synced = max(self._synced, target)

    def append_all(self, entries: list[Entry]) -> None:
        """Keep several writes; durable when this returns."""
        end = 0
        with self.lock:
            for entry in entries:
                end = self.append(entry)
        self.wait_durable(end)

    def clear(self) -> None:
        """Forget every write (moto's reset empties the state, and so the journal)."""
        with self.lock:
            os.ftruncate(self._fd, len(_HEADER))
            os.fsync(self._fd)
            self._offsets.clear()
            with self._synced_change:  # what was appended before is gone, durably
                self._synced = max(self._synced, self._written)

    def entries(self) -> Iterator[Entry]:
        """The kept writes, oldest first, read from the disk one at a time."""
        for offset, length in list(self._offsets):
            yield Entry.decode(self._read_at(offset, length))

    def __len__(self) -> int:
        return len(self._offsets)

    def close(self) -> None:
        with self.lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
