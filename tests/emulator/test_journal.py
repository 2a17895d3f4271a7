"""The journal file of ``serve --data-dir``: kept, damaged, refused, and never outside its
directory (docs/durability.md)."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from fsconformance.emulator.transports.journal import (
    FILE_NAME,
    Entry,
    Journal,
    JournalError,
    changes_state,
)


def entry(i: int, body: bytes = b"") -> Entry:
    return Entry(
        at=1_700_000_000.0 + i,
        seed=i * 7919,
        method="PUT",
        path=f"/bucket/key-{i}?x=1",
        headers={"Host": "127.0.0.1:5000", "X-Odd": "caf\u00e9\u00ff"},
        body=body or os.urandom(100 + i),
        answer=f"200 {i:064x}",
    )


def written(directory: Path, count: int) -> tuple[list[Entry], list[int]]:
    """A journal of ``count`` entries; the entries and the byte each record starts at."""
    journal = Journal(directory)
    entries = [entry(i) for i in range(count)]
    starts = []
    for item in entries:
        starts.append(os.path.getsize(journal.path))
        journal.wait_durable(journal.append(item))
    journal.close()
    return entries, starts


def reopened(directory: Path) -> tuple[list[Entry], list[str]]:
    journal = Journal(directory)
    try:
        return list(journal.entries()), journal.notices
    finally:
        journal.close()


def test_entries_come_back_as_written(tmp_path: Path) -> None:
    entries, _ = written(tmp_path, 5)
    journal = Journal(tmp_path)
    tls = dataclasses.replace(entry(9), scheme="https")
    journal.wait_durable(journal.append(tls))
    journal.close()
    again, notices = reopened(tmp_path)
    assert again == [*entries, tls]
    assert notices == []


def test_a_torn_final_record_is_set_aside_and_the_rest_kept(tmp_path: Path) -> None:
    entries, starts = written(tmp_path, 3)
    path = tmp_path / FILE_NAME
    whole = path.read_bytes()
    cut = starts[2] + 20  # the last record half written, as a crash mid-append leaves it
    path.write_bytes(whole[:cut])
    again, notices = reopened(tmp_path)
    assert again == entries[:2]
    assert notices == [
        f"{path}: damaged record at byte {starts[2]}; kept 2 entries, set aside 20 bytes in "
        f"{tmp_path / (FILE_NAME + '.damaged-1')}"
    ]
    assert (tmp_path / f"{FILE_NAME}.damaged-1").read_bytes() == whole[starts[2] : cut]
    assert path.read_bytes() == whole[: starts[2]]


def test_garbage_after_the_last_record_is_set_aside(tmp_path: Path) -> None:
    entries, _ = written(tmp_path, 4)
    path = tmp_path / FILE_NAME
    size = path.stat().st_size
    garbage = b"\x00\xffnot a record" * 10
    with path.open("ab") as file:
        file.write(garbage)
    again, notices = reopened(tmp_path)
    assert again == entries
    assert len(notices) == 1
    assert f"at byte {size}; kept 4 entries, set aside {len(garbage)} bytes" in notices[0]
    assert (tmp_path / f"{FILE_NAME}.damaged-1").read_bytes() == garbage


def test_a_damaged_record_ends_the_journal_there_and_keeps_what_follows_aside(
    tmp_path: Path,
) -> None:
    entries, starts = written(tmp_path, 3)
    path = tmp_path / FILE_NAME
    whole = bytearray(path.read_bytes())
    whole[starts[1] + 30] ^= 0xFF  # one flipped byte in the second record's payload
    path.write_bytes(bytes(whole))
    again, notices = reopened(tmp_path)
    assert again == entries[:1]
    assert f"at byte {starts[1]}; kept 1 entries" in notices[0]
    assert (tmp_path / f"{FILE_NAME}.damaged-1").read_bytes() == bytes(whole[starts[1] :])


def test_a_file_without_a_journal_header_is_set_aside_whole(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_bytes(b"this was never a journal\n" * 3)
    again, notices = reopened(tmp_path)
    assert again == []
    assert "at byte 0; kept 0 entries, set aside 75 bytes" in notices[0]
    journal = Journal(tmp_path)  # and the fresh journal in its place works
    kept = entry(1)
    journal.wait_durable(journal.append(kept))
    journal.close()
    assert reopened(tmp_path) == ([kept], [])


def test_what_was_set_aside_before_is_never_overwritten(tmp_path: Path) -> None:
    written(tmp_path, 1)
    path = tmp_path / FILE_NAME
    earlier = tmp_path / f"{FILE_NAME}.damaged-1"
    earlier.write_bytes(b"kept from an earlier start")
    with path.open("ab") as file:
        file.write(b"garbage")
    _, notices = reopened(tmp_path)
    assert notices[0].endswith(f"{FILE_NAME}.damaged-2")
    assert earlier.read_bytes() == b"kept from an earlier start"
    assert (tmp_path / f"{FILE_NAME}.damaged-2").read_bytes() == b"garbage"


def test_a_journal_of_a_newer_format_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    content = b"fsconformance journal 2\n" + os.urandom(64)
    path.write_bytes(content)
    with pytest.raises(JournalError) as refused:
        Journal(tmp_path)
    message = str(refused.value)
    assert "\n" not in message
    assert str(path) in message and "format 2" in message and "format 1" in message
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE_NAME]


def test_a_second_process_cannot_hold_the_same_directory(tmp_path: Path) -> None:
    first = Journal(tmp_path)
    try:
        with pytest.raises(JournalError, match="in use by another fsconformance serve"):
            Journal(tmp_path)
    finally:
        first.close()
    Journal(tmp_path).close()  # free again once the first lets go


def test_the_journal_never_writes_through_a_symbolic_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_bytes(b"someone else's file")
    data = tmp_path / "data"
    data.mkdir()
    (data / FILE_NAME).symlink_to(outside)
    with pytest.raises(JournalError, match="symbolic link"):
        Journal(data)
    assert outside.read_bytes() == b"someone else's file"
    # Nor does setting a damaged tail aside follow a link planted where it would go.
    (data / FILE_NAME).unlink()
    written(data, 1)
    (data / f"{FILE_NAME}.damaged-1").symlink_to(outside)
    with (data / FILE_NAME).open("ab") as file:
        file.write(b"garbage")
    _, notices = reopened(data)
    assert notices[0].endswith(f"{FILE_NAME}.damaged-2")
    assert outside.read_bytes() == b"someone else's file"


def test_a_reset_between_a_write_and_its_flush_neither_hangs_nor_skips_a_flush(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path)
    before = journal.append(entry(1))
    journal.clear()
    waiter = threading.Thread(target=journal.wait_durable, args=(before,))
    waiter.start()
    waiter.join(timeout=30)
    assert not waiter.is_alive()
    kept = entry(2)
    after = journal.append(kept)
    assert after > before  # a later write waits for a flush of its own
    journal.wait_durable(after)
    journal.close()
    assert reopened(tmp_path) == ([kept], [])


def test_moto_reset_empties_the_journal(tmp_path: Path) -> None:
    written(tmp_path, 3)
    journal = Journal(tmp_path)
    journal.clear()
    journal.close()
    assert reopened(tmp_path) == ([], [])


def test_the_first_formats_journal_is_imported_once_and_kept(tmp_path: Path) -> None:
    legacy = tmp_path / "journal.sqlite3"
    db = sqlite3.connect(legacy)
    db.execute(
        "CREATE TABLE requests (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, "
        "method TEXT NOT NULL, path TEXT NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL, "
        "made_id TEXT)"
    )
    db.execute(
        "INSERT INTO requests (at, method, path, headers, body, made_id) VALUES (?,?,?,?,?,?)",
        (5.0, "PUT", "/b/k", json.dumps({"Host": "h"}), b"body", None),
    )
    db.commit()
    db.close()
    again, notices = reopened(tmp_path)
    assert [(e.at, e.method, e.path, e.headers, e.body, e.seed) for e in again] == [
        (5.0, "PUT", "/b/k", {"Host": "h"}, b"body", None)
    ]
    assert "imported 1 entries" in notices[0]
    assert not legacy.exists() and (tmp_path / "journal.sqlite3.imported").exists()
    assert reopened(tmp_path)[1] == []  # once


@pytest.mark.parametrize(
    ("method", "path", "target", "form", "writes"),
    [
        ("GET", "/b/k", "", b"", False),
        ("PUT", "/b/k", "", b"", True),
        ("POST", "/", "AWSGlue.GetTable", b"", False),
        ("POST", "/", "AWSGlue.CreateTable", b"", True),
        ("POST", "/", "", b"Action=ListRoles&Version=2010-05-08", False),
        ("POST", "/", "", b"Action=CreateRole&Version=2010-05-08", True),
        ("POST", "/", "", b"Action=GetSessionToken&Version=2011-06-15", True),
        ("POST", "/", "", b"Action=GetCallerIdentity&Version=2011-06-15", False),
        ("POST", "/BatchGetRecord", "", b"", False),
    ],
)
def test_which_requests_are_journaled(
    method: str, path: str, target: str, form: bytes, writes: bool
) -> None:
    assert changes_state(method, path, target, form) is writes
