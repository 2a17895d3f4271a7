"""Self-tests of the contract oracle (fsconformance.testing.oracle) on the contract's own
examples, and of the strategies that feed it event times."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import Phase, given, settings

from fsconformance.testing.oracle import HARD, SOFT, Oracle, epoch_of
from fsconformance.testing.strategies import evolutions

T_2020_10_30 = 1604029401.0  # 2020-10-30T03:43:21Z, the contract's example (C-023)


@pytest.mark.parametrize(
    ("value", "kind", "seconds"),
    [
        ("2020-10-30T03:43:21Z", "String", T_2020_10_30),
        ("2020-10-30T03:43:21.123Z", "String", T_2020_10_30 + 0.123),
        ("1604029401.5", "Fractional", T_2020_10_30 + 0.5),
    ],
)
def test_c023_both_forms_read_as_epoch_seconds(value: str, kind: str, seconds: float) -> None:
    assert epoch_of(value, kind) == pytest.approx(seconds, abs=1e-6)


def test_c023_an_offset_is_neither_form() -> None:
    with pytest.raises(ValueError, match="C-023"):
        epoch_of("2020-10-30T03:43:21+00:00", "String")


def test_c035_examples() -> None:
    oracle = Oracle()
    oracle.put("r", {"a": "1"}, 100)
    oracle.put("r", {"a": "2"}, 50)  # historic: offline only
    assert oracle.get("r") == {"a": "1"} and oracle.offline_rows == 2
    oracle.put("r", {"a": "3"}, 100)  # equal: overwritten (the developer guide's reading)
    assert oracle.get("r") == {"a": "3"}


def test_c031_a_put_replaces_the_whole_record() -> None:
    oracle = Oracle()
    oracle.put("id", {"a": "x", "b": "y"}, 1)
    oracle.put("id", {"a": "z"}, 2)
    assert oracle.get("id") == {"a": "z"}


def test_c036_target_stores() -> None:
    oracle = Oracle()
    oracle.put("r", {"a": "1"}, 1, ["OfflineStore"])
    assert oracle.get("r") is None and oracle.offline_rows == 1
    oracle.put("s", {"a": "1"}, 1, ["OnlineStore"])
    assert oracle.get("s") == {"a": "1"} and oracle.offline_rows == 1


def test_c102_examples() -> None:
    oracle = Oracle()
    oracle.put("r", {"a": "1"}, 100)
    assert oracle.delete("r", 50, HARD) is False  # 400, no marker
    assert oracle.get("r") == {"a": "1"} and oracle.markers == 0
    assert oracle.delete("r", 50, SOFT) is True  # accepted, the record stays
    assert oracle.get("r") == {"a": "1"} and oracle.markers == 1
    assert oracle.delete("r", 200, SOFT) is True  # C-101: no longer returned
    assert oracle.get("r") is None and oracle.markers == 2
    assert oracle.latest_offline() == {}  # C-093 2: the latest version is deleted


def test_c103_a_historic_put_succeeds_after_a_hard_delete() -> None:
    oracle = Oracle()
    oracle.put("r", {"a": "1"}, T_2020_10_30)
    assert oracle.delete("r", T_2020_10_30 + 86400, HARD)
    assert oracle.get("r") is None
    oracle.put("r", {"a": "2"}, T_2020_10_30 - 86400)
    assert oracle.get("r") == {"a": "2"}


def test_c093_the_dedup_keeps_the_later_call_on_equal_event_times() -> None:
    oracle = Oracle()
    oracle.put("r", {"a": "1"}, 5)
    oracle.put("r", {"a": "2"}, 5)
    assert oracle.latest_offline()["r"].values == {"a": "2"}
    assert oracle.offline_rows_per_identifier() == {"r": 2}


def _event_time(case: dict[str, Any], which: str) -> str:
    return case[which][case["schema"].event_time]


def test_evolutions_cover_whole_and_fractional_event_times_in_both_types() -> None:
    seen: set[tuple[str, bool]] = set()

    @settings(max_examples=60, phases=[Phase.generate], derandomize=True, database=None)
    @given(evolutions())
    def collect(case: dict[str, Any]) -> None:
        kind = case["schema"].type_of(case["schema"].event_time)
        before = epoch_of(_event_time(case, "before"), kind)
        # The re-ingest is one second later (C-035: strictly newer wins online).
        assert epoch_of(_event_time(case, "after"), kind) == pytest.approx(before + 1, abs=1e-6)
        seen.add((kind, before % 1 != 0))

    collect()
    assert seen == {(k, f) for k in ("String", "Fractional") for f in (False, True)}
