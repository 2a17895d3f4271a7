"""The synthetic datasets: committed bytes, determinism, shape and the sample's file quirks."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fsconformance import datagen
from fsconformance.cli import main
from tests.helpers import REPO

DATA = REPO / "data"
FEATURE_NAME = re.compile(r"[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}")
RESERVED = {"is_deleted", "write_time", "api_invocation_time"}
SAMPLE_QUIRKS = ("customers.csv", "customers_update.csv", "accounts.csv", "orders.csv")
PLAIN = ("accounts_update.csv", "orders_update.csv")


def parse(content: bytes) -> tuple[list[str], list[dict[str, str]]]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    header = rows[0]
    assert all(len(row) == len(header) for row in rows[1:])
    return header, [dict(zip(header, row, strict=True)) for row in rows[1:]]


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return datagen.generate()


def test_committed_data_equals_the_generator_output() -> None:
    assert datagen.check(DATA) == []


def test_the_expected_files(files: dict[str, bytes]) -> None:
    assert sorted(files) == [
        "accounts.csv",
        "accounts_update.csv",
        "customers.csv",
        "customers_update.csv",
        "orders.csv",
        "orders_update.csv",
    ]
    assert tuple(sorted(files)) == datagen.FILE_NAMES


def test_deterministic_within_a_process(files: dict[str, bytes]) -> None:
    assert datagen.generate() == files


def test_deterministic_across_processes_and_hash_seeds(files: dict[str, bytes]) -> None:
    digest = hashlib.sha256(b"".join(files[name] for name in sorted(files))).hexdigest()
    code = (
        "import hashlib; from fsconformance.datagen import generate; f = generate(); "
        "print(hashlib.sha256(b''.join(f[n] for n in sorted(f))).hexdigest())"
    )
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == digest


@pytest.mark.parametrize("name", SAMPLE_QUIRKS)
def test_bom_crlf_and_no_final_newline(files: dict[str, bytes], name: str) -> None:
    content = files[name]
    assert content.startswith(b"\xef\xbb\xbf")
    assert content.count(b"\n") == content.count(b"\r\n") > 0
    assert content.count(b"\r") == content.count(b"\r\n")
    assert not content.endswith((b"\n", b"\r"))


@pytest.mark.parametrize("name", PLAIN)
def test_lf_without_bom_and_no_final_newline(files: dict[str, bytes], name: str) -> None:
    content = files[name]
    assert not content.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in content
    assert content.count(b"\n") > 0
    assert not content.endswith(b"\n")


@pytest.mark.parametrize("name", sorted(datagen.generate()))
def test_headers_are_valid_unreserved_feature_names_without_event_time(
    files: dict[str, bytes], name: str
) -> None:
    header, _ = parse(files[name])
    for column in header:
        assert FEATURE_NAME.fullmatch(column), column
        assert column.lower() not in RESERVED, column
        assert "time" not in column.lower(), column  # the flow stamps the event time itself
    assert len({column.lower() for column in header}) == len(header)


@pytest.mark.parametrize("name", sorted(datagen.generate()))
def test_values_are_plain_ascii_without_empties(files: dict[str, bytes], name: str) -> None:
    _, rows = parse(files[name])
    for row in rows:
        for value in row.values():
            assert value != "" and value.isascii() and value == value.strip()


def test_customers(files: dict[str, bytes]) -> None:
    header, rows = parse(files["customers.csv"])
    assert header == [
        "customer_id",
        "sex",
        "is_married",
        *datagen.AGE_BUCKETS,
        "n_days_active",
    ]
    assert [row["customer_id"] for row in rows] == [f"C{i}" for i in range(1, 501)]
    for row in rows:
        assert row["sex"] in {"0", "1"} and row["is_married"] in {"0", "1"}
        assert [row[bucket] for bucket in datagen.AGE_BUCKETS].count("1") == 1
        assert {row[bucket] for bucket in datagen.AGE_BUCKETS} == {"0", "1"}
        assert re.fullmatch(r"0\.[0-9]{9}", row["n_days_active"])
        assert 0 < float(row["n_days_active"]) < 1
    # Realistic spread: every bucket and both values of each flag occur.
    for column in ("sex", "is_married", *datagen.AGE_BUCKETS):
        assert {row[column] for row in rows} == {"0", "1"}


def test_customers_update(files: dict[str, bytes]) -> None:
    header, rows = parse(files["customers.csv"])
    new_header, new_rows = parse(files["customers_update.csv"])
    assert new_header == [*header, "has_kids"]
    assert [row["customer_id"] for row in new_rows] == [row["customer_id"] for row in rows]
    changed = 0
    for old, new in zip(rows, new_rows, strict=True):
        assert new["has_kids"] in {"0", "1"}
        assert [new[bucket] for bucket in datagen.AGE_BUCKETS].count("1") == 1
        assert 0 < float(new["n_days_active"]) < 1
        assert float(new["n_days_active"]) >= float(old["n_days_active"])
        changed += any(old[column] != new[column] for column in header)
    assert 10 <= changed <= 150  # some values move on, most stay
    assert {row["has_kids"] for row in new_rows} == {"0", "1"}


def test_accounts(files: dict[str, bytes]) -> None:
    header, rows = parse(files["accounts.csv"])
    assert header == ["customer_id", "city_code", "state_code", "country_code"]
    assert 20 <= len(rows) <= 30
    ids = [row["customer_id"] for row in rows]
    assert len(set(ids)) == len(ids)
    for row in rows:
        assert re.fullmatch(r"[1-9][0-9]{5}", row["customer_id"])
        for column in header[1:]:
            assert re.fullmatch(r"[1-9][0-9]*", row[column])

    new_header, new_rows = parse(files["accounts_update.csv"])
    assert new_header == [*header, "email", "name"]
    assert [row["customer_id"] for row in new_rows] == ids
    for old, new in zip(rows, new_rows, strict=True):
        assert {k: new[k] for k in header} == old
        assert re.fullmatch(r"[a-z0-9.]+@example\.(com|org)", new["email"])
        assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", new["name"])
    assert len({row["email"] for row in new_rows}) == len(new_rows)


def test_orders(files: dict[str, bytes]) -> None:
    _, accounts = parse(files["accounts.csv"])
    header, rows = parse(files["orders.csv"])
    assert header == ["customer_id", "order_id", "order_status", "store_id"]
    assert 20 <= len(rows) <= 30
    order_ids = [row["order_id"] for row in rows]
    assert len(set(order_ids)) == len(order_ids)
    assert {row["customer_id"] for row in rows} <= {row["customer_id"] for row in accounts}
    for row in rows:
        assert re.fullmatch(r"[1-9][0-9]*", row["order_id"])
        assert row["order_status"] in {"0", "1"}
        assert re.fullmatch(r"[1-9][0-9]{2}", row["store_id"])

    new_header, new_rows = parse(files["orders_update.csv"])
    assert new_header == [*header, "order_total"]
    assert [row["order_id"] for row in new_rows] == order_ids
    for old, new in zip(rows, new_rows, strict=True):
        assert re.fullmatch(r"[1-9][0-9]*\.[0-9]{2}", new["order_total"])
        assert new["order_status"] >= old["order_status"]  # orders ship, never un-ship


def test_write_then_check(tmp_path: Path, files: dict[str, bytes]) -> None:
    out = tmp_path / "nested" / "data"
    assert datagen.check(out) == sorted(files)
    written = datagen.write(out)
    assert sorted(path.name for path in written) == sorted(files)
    assert all(path.read_bytes() == files[path.name] for path in written)
    assert datagen.check(out) == []

    (out / "orders.csv").write_bytes(files["orders.csv"] + b"\r\n")  # a trailing newline
    (out / "accounts.csv").unlink()
    assert datagen.check(out) == ["accounts.csv", "orders.csv"]


def test_cli_datagen_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "data"
    assert main(["datagen", "--check", "--out", str(out)]) == 1
    assert not out.exists()  # --check writes nothing
    err = capsys.readouterr().err.splitlines()
    assert f"{out / 'customers.csv'}: missing" in err

    assert main(["datagen", "--out", str(out)]) == 0
    assert datagen.check(out) == []
    assert main(["datagen", "--check", "--out", str(out)]) == 0
    capsys.readouterr()

    (out / "customers.csv").write_bytes(b"customer_id\nC1")
    assert main(["datagen", "--check", "--out", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{out / 'customers.csv'}: differs from the generator's output"
    assert len(err) == 2  # one line per stale file, then a summary


def test_cli_datagen_defaults_to_data_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["datagen"]) == 0
    assert datagen.check(tmp_path / "data") == []


def test_cli_usage_errors_return_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["no-such-command"]) == 2
    assert main(["--help"]) == 0
    capsys.readouterr()


def test_python_dash_m(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fsconformance", "datagen", "--check", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == len(datagen.generate()) + 1
