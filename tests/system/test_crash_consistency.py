"""Crash consistency of ``serve --data-dir`` (DESIGN.md principle 12, docs/durability.md).

Rounds of concurrent writers of every kind the journal keeps, each round ended by SIGKILL at a
random moment, all on one data directory: after every restart each acknowledged write is
there and exact, none is half applied and nothing deleted comes back (``crash_workload``).

About a minute on two cores, so it is marked ``slow`` and left out of the default run; CI runs
it on its own with ``pytest tests/system/test_crash_consistency.py -m slow``. The seed and the number
of rounds come from ``FSCONFORMANCE_CRASH_SEED`` and ``FSCONFORMANCE_CRASH_ROUNDS``; the
summary line names the seed, which replays the same writers' choices and kill moments.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.system import crash_workload

SEED = int(os.environ.get("FSCONFORMANCE_CRASH_SEED", "20261207"))
ROUNDS = int(os.environ.get("FSCONFORMANCE_CRASH_ROUNDS", "15"))


@pytest.mark.slow
def test_every_acknowledged_write_survives_every_kill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = crash_workload.run(tmp_path / "data", SEED, ROUNDS)
    with capsys.disabled():
        print(f"\n{report.summary()}")
    assert report.failures == []  # no write refused, no server gone before its kill
    assert report.lost == []
    assert report.replayed_differently == 0  # every replayed write answered as it first did
    assert report.notices == []  # no damaged journal: every kill landed between records
    assert report.rounds == ROUNDS
    assert report.acknowledged >= 3 * ROUNDS  # each round wrote before its kill
    assert report.in_flight >= ROUNDS  # and killed writers mid-request
