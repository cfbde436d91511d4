"""TimeDeltaSensor: wait until a time after the run's data interval end (Airflow's
`airflow.sensors.time_delta`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flow.sdk.context import Context
from flow.sensors.base import BaseSensorOperator


class TimeDeltaSensor(BaseSensorOperator):
    """Done once `data_interval_end + delta` has passed (the logical date for manual runs)."""

    def __init__(self, *, delta: timedelta, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delta = delta

    def poke(self, context: Context) -> bool:
        end = context.get("data_interval_end") or context.get("logical_date")
        target = (end if isinstance(end, datetime) else datetime.now(UTC)) + self.delta
        print(f"Checking if the time ({target.isoformat()}) has come", flush=True)
        return datetime.now(UTC) > target


class TimeDeltaSensorAsync(TimeDeltaSensor):
    """Airflow's deferrable variant; Flow has no triggerer, so it pokes (use mode=
    'reschedule' to free the slot while waiting)."""
