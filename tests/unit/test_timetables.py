"""Schedule arithmetic of flow.sdk.timetables, with the clock passed in (no wall clock)."""

from __future__ import annotations

import itertools
import textwrap
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pendulum
import pytest

from flow.sdk import DAG
from flow.sdk.loader import DagImportError, load_dags_from_file
from flow.sdk.serialization import serialize_dag
from flow.sdk.timetables import (
    DataInterval,
    ScheduleError,
    TimeRestriction,
    parse_timezone,
    timetable_for,
    timezone_name,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def logical_dates(schedule: str | None, start: datetime, now: datetime, *, catchup: bool = True,
                  end: datetime | None = None, tz: str = "UTC", limit: int = 100) -> list[datetime]:
    """The logical dates the scheduler would create up to `now`, in order."""
    tt = timetable_for(schedule, tz, start)
    restriction = TimeRestriction(start, end, catchup)
    found: list[datetime] = []
    last: DataInterval | None = None
    while len(found) < limit:
        info = tt.next_dagrun_info(last, restriction, now=now)
        if info is None or info.run_after > now:
            break
        found.append(info.logical_date)
        last = info.data_interval
    return found


def test_daily_cron_interval_starts_at_logical_date_and_runs_at_its_end() -> None:
    """@daily covers [midnight, next midnight); the run is due at the end, logical = start."""
    tt = timetable_for("@daily")
    info = tt.next_dagrun_info(None, TimeRestriction(utc(2024, 1, 1), None, True),
                               now=utc(2024, 1, 1, 12))
    assert info is not None
    assert info.logical_date == utc(2024, 1, 1)
    assert info.data_interval == DataInterval(utc(2024, 1, 1), utc(2024, 1, 2))
    assert info.run_after == utc(2024, 1, 2)


def test_catchup_creates_every_missed_interval_in_order() -> None:
    """catchup=True: one run per day since start_date, oldest first, none not yet ended."""
    dates = logical_dates("@daily", utc(2024, 1, 1), utc(2024, 1, 5, 3))
    assert dates == [utc(2024, 1, d) for d in (1, 2, 3, 4)]


def test_no_catchup_creates_only_the_latest_interval() -> None:
    """catchup=False: only the latest complete interval, then the following ones."""
    tt = timetable_for("@daily")
    restriction = TimeRestriction(utc(2024, 1, 1), None, False)
    now = utc(2024, 1, 5, 3)
    info = tt.next_dagrun_info(None, restriction, now=now)
    assert info is not None and info.logical_date == utc(2024, 1, 4)
    following = tt.next_dagrun_info(info.data_interval, restriction, now=now)
    assert following is not None and following.logical_date == utc(2024, 1, 5)
    assert following.run_after == utc(2024, 1, 6)
    # After a long pause, the next one is again the latest, not the missed ones.
    later = tt.next_dagrun_info(info.data_interval, restriction, now=utc(2024, 3, 1, 1))
    assert later is not None and later.logical_date == utc(2024, 2, 29)


def test_start_date_off_the_grid_aligns_to_the_next_tick() -> None:
    """A start_date between ticks: the first interval starts at the next tick."""
    assert logical_dates("0 6 * * *", utc(2024, 1, 1, 9), utc(2024, 1, 5))[:2] == [
        utc(2024, 1, 2, 6), utc(2024, 1, 3, 6)]


def test_end_date_stops_creation() -> None:
    """No interval starts after end_date (an interval starting on it still runs)."""
    dates = logical_dates("@daily", utc(2024, 1, 1), utc(2024, 2, 1), end=utc(2024, 1, 3))
    assert dates == [utc(2024, 1, 1), utc(2024, 1, 2), utc(2024, 1, 3)]


@pytest.mark.parametrize(("preset", "second"), [
    ("@hourly", utc(2024, 1, 1, 1)), ("@daily", utc(2024, 1, 2)),
    ("@weekly", utc(2024, 1, 14)), ("@monthly", utc(2024, 2, 1)),
    ("@yearly", utc(2025, 1, 1)), ("@annually", utc(2025, 1, 1)),
    ("@quarterly", utc(2024, 4, 1)),
])
def test_presets(preset: str, second: datetime) -> None:
    """Each preset is its cron expression (@weekly: Sundays at midnight)."""
    start = utc(2024, 1, 1) if preset != "@weekly" else utc(2024, 1, 7)
    dates = logical_dates(preset, start, utc(2026, 1, 1), limit=2)
    assert dates == [start, second]


def test_timedelta_schedule_is_a_grid_from_start_date() -> None:
    """timedelta(hours=6) from 01:30: intervals of 6 h on that grid, also without catchup."""
    start = utc(2024, 1, 1, 1, 30)
    tt = timetable_for("timedelta:21600.0", "UTC", start)
    assert logical_dates("timedelta:21600.0", start, utc(2024, 1, 2)) == [
        utc(2024, 1, 1, 1, 30), utc(2024, 1, 1, 7, 30), utc(2024, 1, 1, 13, 30)]
    info = tt.next_dagrun_info(None, TimeRestriction(start, None, False), now=utc(2024, 1, 3, 8))
    assert info is not None and info.logical_date == utc(2024, 1, 3, 1, 30)
    assert info.run_after == utc(2024, 1, 3, 7, 30)


def test_once_runs_one_time_at_start_date() -> None:
    """@once: one run at start_date, then never again."""
    assert logical_dates("@once", utc(2024, 1, 1), utc(2030, 1, 1)) == [utc(2024, 1, 1)]


def test_none_never_runs_and_continuous_runs_after_the_last() -> None:
    """None schedules nothing; @continuous starts where the last run's interval ended."""
    restriction = TimeRestriction(utc(2024, 1, 1), None, False)
    assert timetable_for(None).next_dagrun_info(None, restriction, now=utc(2024, 1, 2)) is None
    tt = timetable_for("@continuous")
    first = tt.next_dagrun_info(None, restriction, now=utc(2024, 1, 2))
    assert first is not None and first.data_interval == DataInterval(utc(2024, 1, 1),
                                                                      utc(2024, 1, 2))
    assert first.logical_date == utc(2024, 1, 1) and first.run_after == utc(2024, 1, 2)
    second = tt.next_dagrun_info(first.data_interval, restriction, now=utc(2024, 1, 3))
    assert second is not None and second.data_interval.start == utc(2024, 1, 2)
    assert second.logical_date == utc(2024, 1, 2)


def test_manual_runs_get_the_latest_complete_interval() -> None:
    """A run triggered at 10:30 of a @daily DAG covers yesterday, as in Airflow; an
    unscheduled DAG's manual run covers the instant it was triggered."""
    at = utc(2024, 1, 5, 10, 30)
    assert timetable_for("@daily").infer_manual_data_interval(at) == DataInterval(
        utc(2024, 1, 4), utc(2024, 1, 5))
    assert timetable_for(None).infer_manual_data_interval(at) == DataInterval(at, at)


def test_fixed_local_time_survives_dst_changes() -> None:
    """A 06:00 Berlin schedule stays at 06:00 local time across spring and autumn changes:
    05:00 UTC in winter, 04:00 UTC in summer; intervals are 23 h and 25 h on change days."""
    start = datetime(2024, 3, 30, 6, tzinfo=BERLIN)
    dates = logical_dates("0 6 * * *", start.astimezone(UTC), utc(2024, 4, 3), tz="Europe/Berlin")
    assert dates[:3] == [utc(2024, 3, 30, 5), utc(2024, 3, 31, 4), utc(2024, 4, 1, 4)]
    tt = timetable_for("0 6 * * *", "Europe/Berlin")
    assert tt.next_after(utc(2024, 3, 30, 5)) - utc(2024, 3, 30, 5) == timedelta(hours=23)
    assert tt.next_after(utc(2024, 10, 26, 4)) - utc(2024, 10, 26, 4) == timedelta(hours=25)


def test_local_time_skipped_by_spring_forward_moves_forward() -> None:
    """02:30 does not exist in Berlin on 2024-03-31: that day's run is at 03:30 local."""
    tt = timetable_for("30 2 * * *", "Europe/Berlin")
    after = tt.next_after(utc(2024, 3, 30, 1, 30))
    assert after.astimezone(BERLIN).replace(tzinfo=None) == datetime(2024, 3, 31, 3, 30)


def test_hourly_schedule_neither_skips_nor_repeats_an_hour_at_fall_back() -> None:
    """@hourly in New York on the night clocks go back: 1:00 local happens twice and both
    hours get a run, each one hour apart in absolute time."""
    tt = timetable_for("@hourly", "America/New_York")
    start = utc(2024, 11, 3, 4)  # 00:00 EDT
    times = [start]
    for _ in range(4):
        times.append(tt.next_after(times[-1]))
    assert [b - a for a, b in itertools.pairwise(times)] == [timedelta(hours=1)] * 4
    assert times[-1] == utc(2024, 11, 3, 8)


def test_timezone_of_start_date() -> None:
    """The DAG's timezone comes from its start_date: IANA names (zoneinfo or pendulum), UTC
    for naive ones, and fixed offsets as +HH:MM."""
    assert timezone_name(datetime(2024, 1, 1, tzinfo=BERLIN)) == "Europe/Berlin"
    assert timezone_name(pendulum.datetime(2024, 1, 1, tz="Asia/Tokyo")) == "Asia/Tokyo"
    assert timezone_name(datetime(2024, 1, 1)) == "UTC"
    fixed = datetime(2024, 1, 1, tzinfo=parse_timezone("+05:30"))
    assert timezone_name(fixed) == "+05:30"
    with DAG("tz_dag", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1,
                                                                      tz="Europe/Berlin")) as d:
        pass
    assert serialize_dag(d)["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize("schedule", ["not a cron", "61 * * * *", "@fortnightly"])
def test_bad_cron_is_refused(schedule: str) -> None:
    """A bad cron string or unknown preset raises ScheduleError naming it."""
    with pytest.raises(ScheduleError, match="not a valid cron"):
        timetable_for(schedule)


def test_bad_schedule_in_a_dag_file_is_an_import_error_at_its_line(tmp_path: object) -> None:
    """A DAG file with a bad schedule fails to import; the error names the file and line."""
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "bad_schedule.py"
    path.write_text(textwrap.dedent("""\
        from datetime import datetime, UTC
        from flow.sdk import DAG

        with DAG("bad_schedule", schedule="*/x * * *", start_date=datetime(2024, 1, 1, tzinfo=UTC)):
            pass
        """))
    with pytest.raises(DagImportError) as info:
        load_dags_from_file(path)
    text = str(info.value)
    assert f'"{path}", line 4' in text and "not a valid cron" in text


def test_end_before_start_and_continuous_limits_are_refused() -> None:
    """end_date before start_date, and @continuous with max_active_runs > 1, are errors."""
    with pytest.raises(ValueError, match="before start_date"):
        DAG("backwards", schedule="@daily", start_date=utc(2024, 2, 1), end_date=utc(2024, 1, 1))
    with pytest.raises(ValueError, match="max_active_runs=1"):
        DAG("cont", schedule="@continuous", start_date=utc(2024, 1, 1), max_active_runs=2)


def test_infos_between_lists_a_backfill_range_inclusively() -> None:
    """A backfill of [Jan 1, Jan 10] with @daily is ten intervals, logical dates 1..10."""
    infos = timetable_for("@daily").infos_between(utc(2024, 1, 1), utc(2024, 1, 10))
    assert [i.logical_date.day for i in infos] == list(range(1, 11))
    assert infos[-1].data_interval.end == utc(2024, 1, 11)
