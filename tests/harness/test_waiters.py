"""Self-tests of ``fsconformance.waiters.eventually``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fsconformance import waiters
from fsconformance.waiters import WaitTimeout, eventually


class Probe:
    """Answers from a script: a value to return, or an exception to raise, per call."""

    def __init__(self, script: list[object]) -> None:
        self.script = script
        self.calls = 0

    def __call__(self) -> object:
        step = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if isinstance(step, BaseException):
            raise step
        return step


class FakeClock:
    """Stands in for the ``time`` module inside ``waiters``: sleeping advances the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(waiters, "time", fake)
    return fake


def test_returns_first_truthy_value_without_retrying() -> None:
    probe = Probe([{"status": "Created"}, "never reached"])
    assert eventually(probe, timeout=0.2, interval=0.001) == {"status": "Created"}
    assert probe.calls == 1


def test_retries_falsy_values_until_truthy() -> None:
    probe = Probe([None, 0, "", [], "ready", "later"])
    assert eventually(probe, timeout=0.3, interval=0.001) == "ready"
    assert probe.calls == 5


def test_retries_assertion_errors() -> None:
    probe = Probe([AssertionError("one"), AssertionError("two"), 42])
    assert eventually(probe, timeout=0.3, interval=0.001) == 42
    assert probe.calls == 3


def test_other_exceptions_propagate_immediately() -> None:
    probe = Probe([KeyError("boom"), "ok"])
    with pytest.raises(KeyError):
        eventually(probe, timeout=0.3, interval=0.001)
    assert probe.calls == 1


def test_timeout_names_what_and_last_assertion() -> None:
    probe = Probe([AssertionError("status was Creating")])
    with pytest.raises(WaitTimeout) as info:
        eventually(probe, timeout=0.05, interval=0.005, what="group fg-1 leaving Creating")
    message = str(info.value)
    assert "group fg-1 leaving Creating" in message
    assert "status was Creating" in message
    assert "0.05" in message
    assert probe.calls >= 2


def test_timeout_names_last_falsy_value() -> None:
    probe = Probe([None, None, 0])
    with pytest.raises(WaitTimeout) as info:
        eventually(probe, timeout=0.05, interval=0.005, what="the record")
    assert "the record" in str(info.value)
    assert "probe returned 0" in str(info.value)


def test_wait_timeout_is_an_assertion_error() -> None:
    assert issubclass(WaitTimeout, AssertionError)
    with pytest.raises(AssertionError):
        eventually(lambda: False, timeout=0.01, interval=0.002)


def test_interval_grows_by_half_up_to_max_interval(clock: FakeClock) -> None:
    probe: Callable[[], object] = Probe([None])
    with pytest.raises(WaitTimeout):
        eventually(probe, timeout=1.0, interval=0.125, max_interval=0.25)
    # 0.125, 0.1875, 0.25 (capped), then 0.25 until the deadline; the last sleep is cut
    # to the time left: 1.0 - (0.125 + 0.1875 + 0.25 + 0.25) = 0.1875.
    assert clock.sleeps == [0.125, 0.1875, 0.25, 0.25, 0.1875]


def test_default_ceiling_is_eight_intervals(clock: FakeClock) -> None:
    with pytest.raises(WaitTimeout):
        eventually(Probe([None]), timeout=10.0, interval=0.1)
    assert max(clock.sleeps) == pytest.approx(0.8)
    assert clock.sleeps.count(pytest.approx(0.8)) >= 2


def test_timeout_is_measured_against_the_clock(clock: FakeClock) -> None:
    probe = Probe([None])
    with pytest.raises(WaitTimeout):
        eventually(probe, timeout=0.5, interval=0.125, max_interval=0.125)
    assert clock.now == 1000.5
    # Probed at t=0, 0.125, 0.25, 0.375 and 0.5: the last call is exactly at the deadline.
    assert probe.calls == 5
