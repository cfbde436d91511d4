"""DateTimeSensor: wait until a date and time (Airflow's `airflow.sensors.date_time`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flow.sdk.context import Context
from flow.sensors.base import BaseSensorOperator


class DateTimeSensor(BaseSensorOperator):
    """Done once `target_time` (a datetime, or an ISO 8601 string; templated) has passed. A
    time without an offset is read as UTC."""

    template_fields = ("target_time",)

    def __init__(self, *, target_time: str | datetime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(target_time, datetime):
            self.target_time = target_time.isoformat()
        elif isinstance(target_time, str):
            self.target_time = target_time
        else:
            raise TypeError(f"Expected str or datetime.datetime type for target_time. Got "
                            f"{type(target_time)}")

    def poke(self, context: Context) -> bool:
        target = datetime.fromisoformat(str(self.target_time))
        if target.tzinfo is None:
            target = target.replace(tzinfo=UTC)
        print(f"Checking if the time ({target.isoformat()}) has come", flush=True)
        return datetime.now(UTC) > target


class DateTimeSensorAsync(DateTimeSensor):
    """Airflow's deferrable variant; Flow has no triggerer, so it pokes."""
