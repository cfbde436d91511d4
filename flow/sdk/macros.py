"""`macros` in templates, as Airflow's: ds_add, ds_format, datetime, timedelta, json, ...

Example: `{{ macros.ds_add(ds, 7) }}`, `{{ macros.ds_format(ds, "%Y-%m-%d", "%d/%m/%Y") }}`.
"""

from __future__ import annotations

import datetime as _datetime_module
import json
import random
import time
import uuid
from datetime import datetime, timedelta

__all__ = ["datetime", "datetime_diff_for_humans", "ds_add", "ds_format", "json", "random",
           "time", "timedelta", "uuid"]

dateutil = None  # Airflow exposes dateutil here; not bundled with Flow.
date = _datetime_module.date


def ds_add(ds: str, days: int) -> str:
    """Add or subtract days from a YYYY-MM-DD date: ds_add("2015-01-01", 5) -> "2015-01-06"."""
    if not days:
        return str(ds)
    day = datetime.strptime(str(ds), "%Y-%m-%d")  # noqa: DTZ007 - a calendar date
    return (day + timedelta(days=days)).strftime("%Y-%m-%d")


def ds_format(ds: str, input_format: str, output_format: str) -> str:
    """Re-format a date string: ds_format("2015-01-01", "%Y-%m-%d", "%m-%d-%y") -> "01-01-15"."""
    parsed = datetime.strptime(str(ds), input_format)  # noqa: DTZ007 - text in, text out
    return parsed.strftime(output_format)


def datetime_diff_for_humans(dt: datetime, since: datetime | None = None) -> str:
    """A rough human-readable difference, e.g. "3 days ago"."""
    import pendulum

    return str(pendulum.instance(dt).diff_for_humans(
        pendulum.instance(since) if since else None))
