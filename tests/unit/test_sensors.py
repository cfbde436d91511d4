"""BaseSensorOperator and the time sensors, called directly (no services): outcomes of a
false poke in each mode, timeouts, soft_fail and the exponential backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from flow.sdk.exceptions import FlowRescheduleException, FlowSensorTimeout, FlowSkipException
from flow.sensors.base import BaseSensorOperator, PokeReturnValue
from flow.sensors.date_time import DateTimeSensor
from flow.sensors.python import PythonSensor
from flow.sensors.time_delta import TimeDeltaSensor


def _context(start: datetime | None = None, **extra: Any) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="d", start_date=start)
    return {"ti": ti, **extra}


def test_reschedule_mode_raises_with_the_next_poke_time() -> None:
    """A false poke in reschedule mode ends the run with a reschedule poke_interval ahead."""
    sensor = PythonSensor(task_id="s", python_callable=lambda: False, mode="reschedule",
                          poke_interval=30)
    before = datetime.now(UTC)
    with pytest.raises(FlowRescheduleException) as raised:
        sensor.execute(_context(start=before))
    assert before + timedelta(seconds=30) <= raised.value.reschedule_date
    assert raised.value.reschedule_date <= datetime.now(UTC) + timedelta(seconds=30)


def test_reschedule_mode_timeout_counts_from_the_first_poke() -> None:
    """The try's start (its first poke) is older than the timeout: the sensor fails."""
    sensor = PythonSensor(task_id="s", python_callable=lambda: False, mode="reschedule",
                          poke_interval=5, timeout=60)
    with pytest.raises(FlowSensorTimeout):
        sensor.execute(_context(start=datetime.now(UTC) - timedelta(seconds=61)))


def test_soft_fail_turns_the_timeout_into_a_skip() -> None:
    """soft_fail: the timed-out sensor raises a skip instead."""
    sensor = PythonSensor(task_id="s", python_callable=lambda: False, mode="reschedule",
                          timeout=1, soft_fail=True)
    with pytest.raises(FlowSkipException):
        sensor.execute(_context(start=datetime.now(UTC) - timedelta(seconds=5)))


def test_poke_return_value_is_the_xcom() -> None:
    """A done PokeReturnValue ends the sensor and its xcom_value is returned."""
    sensor = PythonSensor(task_id="s",
                          python_callable=lambda: PokeReturnValue(True, {"k": 1}))
    assert sensor.execute(_context()) == {"k": 1}


def test_exponential_backoff_grows_and_is_capped_by_max_wait() -> None:
    """Waits lie in [base, 2 * base) with base doubling per poke; max_wait caps them."""
    sensor = BaseSensorOperator(task_id="s", poke_interval=10, exponential_backoff=True,
                                timeout=10_000)
    start = datetime.now(UTC)
    waits = [sensor._next_interval(_context(), n, start, 0) for n in (1, 2, 3, 4)]
    for n, wait in zip((1, 2, 3, 4), waits, strict=True):
        base = 10 * 2 ** (n - 1)
        assert base <= wait < 2 * base
    capped = BaseSensorOperator(task_id="c", poke_interval=10, exponential_backoff=True,
                                max_wait=15, timeout=10_000)
    assert capped._next_interval(_context(), 4, start, 0) == 15


def test_bad_mode_is_refused() -> None:
    """mode must be poke or reschedule."""
    with pytest.raises(ValueError, match="mode"):
        BaseSensorOperator(task_id="s", mode="deferrable")


def test_date_time_and_time_delta_sensors() -> None:
    """DateTimeSensor is done once its time passed; TimeDeltaSensor once data_interval_end
    plus delta passed."""
    past, future = datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=1)
    assert DateTimeSensor(task_id="a", target_time=past).poke(_context())
    assert not DateTimeSensor(task_id="b", target_time=future.isoformat()).poke(_context())
    now = datetime.now(UTC)
    assert TimeDeltaSensor(task_id="c", delta=timedelta(0)).poke(
        _context(data_interval_end=now - timedelta(seconds=1)))
    assert not TimeDeltaSensor(task_id="d", delta=timedelta(hours=1)).poke(
        _context(data_interval_end=now))


def test_silent_fail_treats_a_poke_error_as_not_yet() -> None:
    """silent_fail: a poke raising ValueError is a false poke (reschedule); without it the
    error fails the task."""
    def broken() -> bool:
        raise ValueError("flaky")

    quiet = PythonSensor(task_id="q", python_callable=broken, mode="reschedule",
                         silent_fail=True)
    with pytest.raises(FlowRescheduleException):
        quiet.execute(_context(start=datetime.now(UTC)))
    loud = PythonSensor(task_id="l", python_callable=broken, mode="reschedule")
    with pytest.raises(ValueError, match="flaky"):
        loud.execute(_context(start=datetime.now(UTC)))
