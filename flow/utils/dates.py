"""Airflow 2's `airflow.utils.dates.days_ago`, still common in DAG files to port."""

from __future__ import annotations

from datetime import datetime

import pendulum


def days_ago(n: int, hour: int = 0, minute: int = 0, second: int = 0,
             microsecond: int = 0) -> datetime:
    """Midnight UTC (or the given time of day) `n` days ago, as Airflow's days_ago."""
    today = pendulum.today("UTC").replace(hour=hour, minute=minute, second=second,
                                          microsecond=microsecond)
    result: datetime = today.subtract(days=n)
    return result
