"""Schedule arithmetic: when runs are due and which data interval each covers (Airflow 2/3).

A pure module with no clock of its own: every function that depends on the time takes `now`.
The DAG validates its schedule with `timetable_for` when it is created (a bad schedule is an
import error at the DAG's line), and the scheduler computes run dates from the serialized
schedule with the same code.

Semantics, as Airflow's data-interval timetables:
- a cron or preset schedule (`"0 6 * * *"`, `"@daily"`) covers [tick, next tick); the run for
  an interval is created once the interval ended, and its logical date is the interval's
  start. Cron fields are read in the DAG's timezone (from its start_date), so `0 6 * * *` is
  06:00 local time on both sides of a daylight-saving change. A schedule that fires at
  changing hours (`0 * * * *`) steps in absolute time across a change, as Airflow does.
- a timedelta schedule covers [start, start + delta), on a grid that starts at start_date.
- `@once` runs once, at start_date; `@continuous` runs again as soon as a run ends; `None`
  never runs on its own.
- catchup=True creates every interval since start_date in order; catchup=False only the
  latest complete one (and later ones as they end). No interval starts after end_date.

Example:
    tt = timetable_for("@daily", "UTC")
    info = tt.next_dagrun_info(None, TimeRestriction(start, None, catchup=False), now=now)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from flow.sdk.assets import asset_uris, is_asset_schedule

# A DAG scheduled on assets is stored as "assets: <uri>, <uri>" (runs come from asset
# events, not from time).
ASSETS_PREFIX = "assets: "

# Airflow's presets. @once and @continuous are timetables of their own.
CRON_PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
TIMEDELTA_PREFIX = "timedelta:"  # how a timedelta schedule is serialized: "timedelta:<seconds>"
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


class ScheduleError(ValueError):
    """A schedule, timezone or date range that cannot be used; the message says why."""


@dataclass(frozen=True)
class DataInterval:
    """The period of data a run covers: [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class DagRunInfo:
    """A run to create: its logical date, its data interval and when it may be created."""

    logical_date: datetime
    data_interval: DataInterval
    run_after: datetime


@dataclass(frozen=True)
class TimeRestriction:
    """The DAG's bounds: no interval starts before `earliest` or after `latest`."""

    earliest: datetime | None
    latest: datetime | None
    catchup: bool


# --- timezones ------------------------------------------------------------------------------


def timezone_name(value: datetime | None) -> str:
    """The name of a datetime's timezone ("Europe/Berlin", "UTC", "+02:00"); naive is UTC."""
    tz = value.tzinfo if value is not None else None
    if tz is None:
        return "UTC"
    key = getattr(tz, "key", None) or getattr(tz, "name", None)
    if isinstance(key, str) and key and not _OFFSET.match(key):
        try:
            ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return key
    offset = tz.utcoffset(value)
    if offset is None or offset == timedelta(0):
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_timezone(name: str) -> tzinfo:
    """The tzinfo of an IANA name or a fixed "+HH:MM" offset."""
    if not name or name.upper() == "UTC":
        return UTC
    match = _OFFSET.match(name)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown timezone {name!r}") from None


def aware(value: datetime, tz: tzinfo = UTC) -> datetime:
    """`value` with a timezone: naive values are read in `tz` (Airflow reads them in UTC)."""
    return value if value.tzinfo is not None else _localize(value, tz)


def _localize(naive: datetime, tz: tzinfo) -> datetime:
    """A local wall-clock time in `tz`, as UTC. A time that a spring-forward change skipped
    moves forward by the gap (02:30 -> 03:30); an ambiguous one is its first occurrence."""
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _wall(value: datetime, tz: tzinfo) -> datetime:
    return value.astimezone(tz).replace(tzinfo=None)


# --- timetables -----------------------------------------------------------------------------


class Timetable:
    """When runs of a DAG are due. Subclasses implement the arithmetic."""

    # False for None: the scheduler never creates runs on its own.
    can_be_scheduled = True
    # True for cron and timedelta schedules: runs cover consecutive intervals (backfill works).
    periodic = False
    # @continuous: a new run as soon as the last one ended.
    continuous = False

    def next_dagrun_info(self, last: DataInterval | None, restriction: TimeRestriction, *,
                         now: datetime) -> DagRunInfo | None:
        """The next run after the last automated one (`last`), or None when there is none."""
        raise NotImplementedError

    def infos_between(self, earliest: datetime, latest: datetime) -> list[DagRunInfo]:
        """Every interval whose logical date lies in [earliest, latest] (for backfills)."""
        return []

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        """The data interval of a run triggered by hand at `run_after` (Airflow's rule: the
        latest complete interval for cron and timedelta schedules, else [run_after,
        run_after])."""
        return DataInterval(run_after, run_after)


class NullTimetable(Timetable):
    """`schedule=None`: runs only when triggered."""

    can_be_scheduled = False

    def next_dagrun_info(self, last: DataInterval | None, restriction: TimeRestriction, *,
                         now: datetime) -> DagRunInfo | None:
        return None


class OnceTimetable(Timetable):
    """`@once`: one run, at start_date."""

    def next_dagrun_info(self, last: DataInterval | None, restriction: TimeRestriction, *,
                         now: datetime) -> DagRunInfo | None:
        if last is not None or restriction.earliest is None:
            return None
        start = restriction.earliest
        if restriction.latest is not None and start > restriction.latest:
            return None
        return DagRunInfo(start, DataInterval(start, start), start)


class ContinuousTimetable(Timetable):
    """`@continuous`: a run as soon as the previous one ended (max_active_runs is 1)."""

    continuous = True

    def next_dagrun_info(self, last: DataInterval | None, restriction: TimeRestriction, *,
                         now: datetime) -> DagRunInfo | None:
        if restriction.earliest is None:
            return None
        start = last.end if last is not None else restriction.earliest
        # never an empty interval: the logical date (its start) is unique per run
        end = max(start + timedelta(microseconds=1), now)
        if restriction.latest is not None and end > restriction.latest:
            return None
        return DagRunInfo(start, DataInterval(start, end), end)


class _IntervalTimetable(Timetable):
    """A schedule of consecutive intervals: cron or timedelta."""

    periodic = True

    def next_after(self, current: datetime) -> datetime:
        raise NotImplementedError

    def prev_before(self, current: datetime) -> datetime:
        raise NotImplementedError

    def align_next(self, current: datetime) -> datetime:
        """`current` when it is an interval boundary, else the next boundary."""
        raise NotImplementedError

    def align_prev(self, current: datetime) -> datetime:
        """`current` when it is an interval boundary, else the previous boundary."""
        raise NotImplementedError

    def _latest_start(self, now: datetime) -> datetime:
        """The start of the latest interval that ended at or before `now` (catchup=False)."""
        last_boundary = self.align_prev(now)
        return self.prev_before(last_boundary)

    def next_dagrun_info(self, last: DataInterval | None, restriction: TimeRestriction, *,
                         now: datetime) -> DagRunInfo | None:
        earliest = restriction.earliest
        if not restriction.catchup:
            latest_start = self._latest_start(now)
            earliest = latest_start if earliest is None else max(latest_start, earliest)
        if last is None:
            if earliest is None:
                return None
            start = self.align_next(earliest)
        else:
            start = self.align_prev(last.end)
            if not restriction.catchup and earliest is not None:
                start = max(start, self.align_next(earliest))
        if restriction.latest is not None and start > restriction.latest:
            return None
        end = self.next_after(start)
        return DagRunInfo(start, DataInterval(start, end), end)

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        end = self.align_prev(run_after)
        return DataInterval(self.prev_before(end), end)

    def infos_between(self, earliest: datetime, latest: datetime) -> list[DagRunInfo]:
        infos: list[DagRunInfo] = []
        start = self.align_next(earliest)
        while start <= latest:
            end = self.next_after(start)
            infos.append(DagRunInfo(start, DataInterval(start, end), end))
            start = end
        return infos


class CronTimetable(_IntervalTimetable):
    """A cron expression (or preset) read in `tz`; see the module docstring for DST."""

    def __init__(self, expression: str, tz: tzinfo = UTC) -> None:
        self.expression = CRON_PRESETS.get(expression, expression)
        if not croniter.is_valid(self.expression):
            raise ScheduleError(
                f"{expression!r} is not a valid cron expression or preset (presets: "
                f"{', '.join(['@once', '@continuous', *CRON_PRESETS])})")
        self.tz = tz
        # As Airflow: a schedule that fires at the same local hour and minute every time
        # ("0 6 * * *") keeps local time across DST; one that fires every hour steps in
        # absolute time, so that no hour is run twice or skipped at a change.
        first = croniter(self.expression, datetime(2001, 1, 1)).get_next(datetime)  # noqa: DTZ001
        second = croniter(self.expression, first).get_next(datetime)
        self._fixed = (first.hour, first.minute) == (second.hour, second.minute)

    def _step(self, current: datetime, forward: bool) -> datetime:
        naive = _wall(current, self.tz)
        it = croniter(self.expression, naive)
        found: datetime = it.get_next(datetime) if forward else it.get_prev(datetime)
        if self._fixed:
            return _localize(found, self.tz)
        return (current.astimezone(UTC) + (found - naive)).astimezone(UTC)

    def next_after(self, current: datetime) -> datetime:
        return self._step(current, True)

    def prev_before(self, current: datetime) -> datetime:
        return self._step(current, False)

    def _is_boundary(self, current: datetime) -> bool:
        return self.next_after(self.prev_before(current)) == current.astimezone(UTC)

    def align_next(self, current: datetime) -> datetime:
        return current.astimezone(UTC) if self._is_boundary(current) else self.next_after(current)

    def align_prev(self, current: datetime) -> datetime:
        return current.astimezone(UTC) if self._is_boundary(current) else self.prev_before(current)


class DeltaTimetable(_IntervalTimetable):
    """A fixed period (absolute time), on a grid anchored at `anchor` (the DAG's start_date)."""

    def __init__(self, delta: timedelta, anchor: datetime | None = None) -> None:
        if delta <= timedelta(0):
            raise ScheduleError(f"a timedelta schedule must be positive, got {delta}")
        self.delta = delta
        self.anchor = (anchor or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC)

    def next_after(self, current: datetime) -> datetime:
        return current.astimezone(UTC) + self.delta

    def prev_before(self, current: datetime) -> datetime:
        return current.astimezone(UTC) - self.delta

    def align_prev(self, current: datetime) -> datetime:
        steps = (current.astimezone(UTC) - self.anchor) // self.delta
        return self.anchor + steps * self.delta

    def align_next(self, current: datetime) -> datetime:
        below = self.align_prev(current)
        return below if below == current.astimezone(UTC) else below + self.delta


# --- from a DAG's arguments or its serialized form -----------------------------------------


def serialize_schedule(schedule: object) -> str | None:
    """The stored form of a schedule: the cron string or preset, "timedelta:<seconds>", or
    None. Anything else (e.g. assets) is kept as its repr and not time-scheduled here."""
    if schedule is None:
        return None
    if isinstance(schedule, timedelta):
        return f"{TIMEDELTA_PREFIX}{schedule.total_seconds()}"
    if isinstance(schedule, str):
        return schedule
    if is_asset_schedule(schedule):
        return ASSETS_PREFIX + ", ".join(asset_uris(schedule))
    return repr(schedule)


def timetable_for(schedule: str | None, tz: tzinfo | str = UTC,
                  start_date: datetime | None = None) -> Timetable:
    """The timetable of a stored schedule string (see serialize_schedule)."""
    zone = parse_timezone(tz) if isinstance(tz, str) else tz
    if schedule is None or schedule in ("None", ""):
        return NullTimetable()
    if schedule == "@once":
        return OnceTimetable()
    if schedule == "@continuous":
        return ContinuousTimetable()
    if schedule.startswith(TIMEDELTA_PREFIX):
        try:
            seconds = float(schedule[len(TIMEDELTA_PREFIX):])
        except ValueError:
            raise ScheduleError(f"{schedule!r} is not a valid timedelta schedule") from None
        return DeltaTimetable(timedelta(seconds=seconds), start_date)
    if schedule.startswith((ASSETS_PREFIX, "[", "(")):  # assets: not a time schedule
        return NullTimetable()
    return CronTimetable(schedule, zone)


def validate_dag_schedule(schedule: object, start_date: datetime | None,
                          end_date: datetime | None, max_active_runs: int) -> None:
    """Raise ScheduleError when a DAG's schedule arguments cannot work together."""
    if schedule is not None and not isinstance(schedule, str | timedelta | list | tuple | set):
        raise ScheduleError(f"schedule must be a cron string, a preset, a timedelta, a list of "
                            f"Assets or None, got {type(schedule).__name__}")
    if isinstance(schedule, list | tuple | set) and not is_asset_schedule(schedule):
        raise ScheduleError("a list schedule must hold Assets (data-aware scheduling), at "
                            "least one")
    stored = serialize_schedule(schedule)
    tz = parse_timezone(timezone_name(start_date))
    timetable_for(stored, tz, aware(start_date) if start_date else None)
    if start_date is not None and end_date is not None and aware(end_date, tz) < aware(
            start_date, tz):
        raise ScheduleError(f"end_date {end_date.isoformat()} is before start_date "
                            f"{start_date.isoformat()}")
    if schedule == "@continuous" and max_active_runs != 1:
        raise ScheduleError("a @continuous DAG must have max_active_runs=1")


def parse_date(value: str, tz: tzinfo = UTC) -> datetime:
    """An ISO 8601 date or datetime; one without an offset is read in `tz`."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ScheduleError(f"{value!r} is not an ISO 8601 date (e.g. 2024-01-31 or "
                            "2024-01-31T06:00:00+00:00)") from None
    return aware(parsed, tz).astimezone(UTC)


def describe(info: Any) -> str:
    """A DagRunInfo as one line, for logs."""
    return (f"{info.logical_date.isoformat()} [{info.data_interval.start.isoformat()}, "
            f"{info.data_interval.end.isoformat()})")
