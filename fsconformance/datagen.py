"""Deterministic synthetic datasets for the scenarios in ``fixtures/``.

The public Feature Store samples ship a handful of small CSV files (contract C-150). The project
does not vendor them: it generates look-alikes with the same columns, value ranges and file-format
quirks, so the loaders are exercised on the same byte-level surprises:

* ``customers.csv`` / ``customers_update.csv``: 500 customers ``C1``..``C500`` with 0/1 flags,
  a one-hot age bucket and a ``n_days_active`` fraction; the update adds ``has_kids`` and moves
  some values on (more active days, a birthday into the next bucket, a wedding). Both files start
  with a UTF-8 BOM and use CRLF, like the public ``customers.csv``.
* ``accounts.csv`` / ``accounts_update.csv``: a couple of dozen customers with 6-digit integer
  ids and integer location codes; the update adds the String features ``email`` and ``name``.
  The first file has a BOM and CRLF, the update has neither (the public pair differs the same way).
* ``orders.csv`` / ``orders_update.csv``: orders of those accounts, keyed by an integer
  ``order_id``; the update adds ``order_total`` (Fractional) and ships some pending orders.
  BOM and CRLF for the first file, LF without BOM for the update.

No file ends with a newline. No file has an event-time column: the flow stamps one at ingest
time (C-023), in the form its scenario asks for.

Every file is drawn from its own ``random.Random`` seeded with a fixed string, so the output is
the same on every platform and Python version that keeps ``random``'s documented seeding, and
changing one dataset does not reshuffle the others.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

__all__ = ["AGE_BUCKETS", "FILE_NAMES", "check", "generate", "write"]

BOM = "\ufeff"
AGE_BUCKETS = (
    "age_18-29",
    "age_30-39",
    "age_40-49",
    "age_50-59",
    "age_60-69",
    "age_70-plus",
)
_AGE_WEIGHTS = (22, 21, 19, 16, 13, 9)
# Probability of being married and of having kids, per age bucket.
_MARRIED = (0.25, 0.55, 0.65, 0.68, 0.66, 0.6)
_KIDS = (0.15, 0.5, 0.65, 0.6, 0.55, 0.5)

N_CUSTOMERS = 500
N_ACCOUNTS = 25
N_ORDERS = 25

_FIRST_NAMES = (
    "Ada", "Bruno", "Carmen", "Dmitri", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas",
    "Kemi", "Lars", "Mira", "Nikhil", "Oona", "Pavel", "Quinn", "Rosa", "Sanjay", "Tove",
    "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zora",
)  # fmt: skip
_LAST_NAMES = (
    "Abara", "Berg", "Castell", "Duarte", "Eklund", "Fontaine", "Grau", "Haddad", "Ivers",
    "Jansen", "Kowal", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quist", "Rahman",
    "Sato", "Torres", "Urquhart", "Varga", "Weiss", "Yilmaz", "Zeller",
)  # fmt: skip


@dataclass(frozen=True)
class _Format:
    bom: bool
    newline: str


_SAMPLE_QUIRKS = _Format(bom=True, newline="\r\n")  # the public customers/orders files
_PLAIN = _Format(bom=False, newline="\n")  # the public "updated" file


def _encode(header: list[str], rows: list[list[str]], fmt: _Format) -> bytes:
    for row in [header, *rows]:
        if len(row) != len(header):
            raise AssertionError(f"ragged row {row!r} for header {header!r}")
        for value in row:
            if any(c in value for c in ',"\r\n'):
                raise AssertionError(f"value {value!r} would need CSV quoting")
    text = fmt.newline.join(",".join(row) for row in [header, *rows])
    return ((BOM if fmt.bom else "") + text).encode("utf-8")


def _fraction(rng: random.Random) -> int:
    """A fraction in (0, 1) as an integer count of billionths (exact, no float formatting)."""
    return rng.randint(1, 999_999_999)


def _fraction_text(billionths: int) -> str:
    return f"0.{billionths:09d}"


def _customers() -> dict[str, bytes]:
    rng = random.Random("fsconformance/customers")
    header = ["customer_id", "sex", "is_married", *AGE_BUCKETS, "n_days_active"]
    people: list[dict[str, int | str]] = []
    for number in range(1, N_CUSTOMERS + 1):
        bucket = rng.choices(range(len(AGE_BUCKETS)), weights=_AGE_WEIGHTS)[0]
        people.append(
            {
                "id": f"C{number}",
                "sex": rng.randint(0, 1),
                "married": int(rng.random() < _MARRIED[bucket]),
                "bucket": bucket,
                "active": _fraction(rng),
            }
        )

    def row(person: dict[str, int | str]) -> list[str]:
        one_hot = ["1" if i == person["bucket"] else "0" for i in range(len(AGE_BUCKETS))]
        return [
            str(person["id"]),
            str(person["sex"]),
            str(person["married"]),
            *one_hot,
            _fraction_text(int(person["active"])),
        ]

    initial = [row(person) for person in people]

    # The update: time has passed. Some customers were active on more days, a few had a
    # birthday that moved them into the next bucket, a few got married; everyone now says
    # whether they have kids.
    rng = random.Random("fsconformance/customers_update")
    updated = []
    for person in people:
        changed: dict[str, int | str] = dict(person)
        if rng.random() < 0.12:
            changed["active"] = min(int(person["active"]) + rng.randint(1, 80_000_000), 999_999_999)
        if rng.random() < 0.03 and int(person["bucket"]) < len(AGE_BUCKETS) - 1:
            changed["bucket"] = int(person["bucket"]) + 1
        if rng.random() < 0.03:
            changed["married"] = 1
        kids = int(rng.random() < _KIDS[int(changed["bucket"])])
        updated.append([*row(changed), str(kids)])
    return {
        "customers.csv": _encode(header, initial, _SAMPLE_QUIRKS),
        "customers_update.csv": _encode([*header, "has_kids"], updated, _SAMPLE_QUIRKS),
    }


def _accounts() -> tuple[dict[str, bytes], list[int]]:
    rng = random.Random("fsconformance/accounts")
    header = ["customer_id", "city_code", "state_code", "country_code"]
    ids = rng.sample(range(100_000, 1_000_000), N_ACCOUNTS)
    initial = [
        [
            str(customer_id),
            str(rng.randint(1, 60)),
            str(rng.randint(1, 50)),
            str(rng.choices((1, 2, 3), weights=(2, 7, 1))[0]),
        ]
        for customer_id in ids
    ]
    pairs = rng.sample([(f, last) for f in _FIRST_NAMES for last in _LAST_NAMES], N_ACCOUNTS)
    updated = []
    for values, (first, last) in zip(initial, pairs, strict=True):
        style = rng.randrange(3)
        if style == 0:
            email = f"{first}.{last}@example.com"
        elif style == 1:
            email = f"{first}{last}@example.org"
        else:
            email = f"{first[0]}.{last}@example.com"
        updated.append([*values, email.lower(), f"{first} {last}"])
    files = {
        "accounts.csv": _encode(header, initial, _SAMPLE_QUIRKS),
        "accounts_update.csv": _encode([*header, "email", "name"], updated, _PLAIN),
    }
    return files, ids


def _orders(account_ids: list[int]) -> dict[str, bytes]:
    rng = random.Random("fsconformance/orders")
    header = ["customer_id", "order_id", "order_status", "store_id"]
    order_ids = rng.sample(range(1000, 10_000), N_ORDERS)
    orders = [
        {
            "customer": rng.choice(account_ids),
            "order": order_id,
            "status": rng.randint(0, 1),
            "store": rng.randint(100, 999),
        }
        for order_id in order_ids
    ]
    initial = [
        [str(o["customer"]), str(o["order"]), str(o["status"]), str(o["store"])] for o in orders
    ]
    # The update: the order totals are known now, and about half the pending orders shipped.
    rng = random.Random("fsconformance/orders_update")
    updated = []
    for o in orders:
        status = 1 if o["status"] == 1 or rng.random() < 0.5 else 0
        cents = rng.randint(199, 49_999)
        total = f"{cents // 100}.{cents % 100:02d}"
        updated.append([str(o["customer"]), str(o["order"]), str(status), str(o["store"]), total])
    return {
        "orders.csv": _encode(header, initial, _SAMPLE_QUIRKS),
        "orders_update.csv": _encode([*header, "order_total"], updated, _PLAIN),
    }


def generate() -> dict[str, bytes]:
    """Every dataset: file name -> the exact bytes of the file."""
    files = _customers()
    accounts, account_ids = _accounts()
    files.update(accounts)
    files.update(_orders(account_ids))
    return files


FILE_NAMES = tuple(sorted(generate()))


def write(directory: Path) -> list[Path]:
    """Write every dataset into ``directory`` (created if needed); return the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in sorted(generate().items()):
        path = directory / name
        path.write_bytes(content)
        written.append(path)
    return written


def check(directory: Path) -> list[str]:
    """Names of the datasets that are missing from ``directory`` or differ from ``generate()``."""
    directory = Path(directory)
    stale = []
    for name, content in sorted(generate().items()):
        path = directory / name
        if not path.is_file() or path.read_bytes() != content:
            stale.append(name)
    return stale
