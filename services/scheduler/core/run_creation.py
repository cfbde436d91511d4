"""Scheduled runs: create the due intervals of a DAG, and start queued runs as slots free.

`schedule_dag` is the one entry point. It runs on the DAG's tick (its due time is
`dag.next_dagrun_create_after`, in the DB, so a restart re-arms it), after a parse changed the
DAG, on unpause, and when one of its runs finished. It creates runs QUEUED, in logical-date
order, at most 2 x max_active_runs of them active at once (running plus held queued), and
moves queued runs to running while fewer than max_active_runs run. A unique index on
(dag_id, logical_date) of scheduled and backfill runs makes a second run of an interval
impossible; an interval that already has one (e.g. from a backfill) is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog

from flow.db.models import Dag, DagRun
from flow.sdk.timetables import (
    DagRunInfo,
    DataInterval,
    ScheduleError,
    TimeRestriction,
    Timetable,
    describe,
    timetable_for,
)
from flow.states import DagRunState, DagRunType, TaskInstanceState
from services.scheduler import store
from services.scheduler.core import assets
from services.scheduler.core.types import Change, DagSpec, RunRecord, TIRecord
from services.scheduler.core.unit import UnitOfWork, ti_row

log = structlog.get_logger(__name__)
TI = TaskInstanceState


def timetable_of(spec: DagSpec) -> Timetable:
    """The DAG's timetable; a schedule stored before it was validated counts as None."""
    try:
        return timetable_for(spec.schedule, spec.timezone, spec.start_date)
    except ScheduleError as exc:
        log.warning("dag_schedule_invalid", dag_id=spec.dag_id, error=str(exc))
        return timetable_for(None)


def run_id_for(run_type: DagRunType, logical_date: datetime) -> str:
    """`scheduled__<iso>` / `backfill__<iso>`, as Airflow names automated runs."""
    return f"{run_type}__{logical_date.isoformat()}"


async def create_run(unit: UnitOfWork, spec: DagSpec, *, run_id: str, run_type: DagRunType,
                     logical_date: datetime, interval: DataInterval | None,
                     conf: dict[str, Any], backfill_id: int | None = None) -> RunRecord:
    """Insert a QUEUED run with one task instance per task, and put it in the index."""
    session, dag_id = unit.session, spec.dag_id
    start, end = (interval.start, interval.end) if interval else (logical_date, logical_date)
    row = DagRun(dag_id=dag_id, run_id=run_id, state=DagRunState.QUEUED, run_type=run_type,
                 logical_date=logical_date, data_interval_start=start, data_interval_end=end,
                 queued_at=unit.now, conf=conf, backfill_id=backfill_id)
    session.add(row)
    await session.flush()
    run = RunRecord(id=row.id, dag_id=dag_id, run_id=run_id, state=DagRunState.QUEUED,
                    run_type=str(run_type), logical_date=logical_date, spec=spec, conf=conf,
                    queued_at=unit.now, data_interval_start=start, data_interval_end=end,
                    backfill_id=backfill_id,
                    tis={(t.task_id, -1): TIRecord(t.task_id, TI.NONE, 0, t.retries + 1)
                         for t in spec.tasks.values()})
    # A mapped task starts as one instance (map_index -1), expanded when it is ready.
    await store.insert_tis(session, [ti_row(run, t) for t in spec.tasks.values()])
    unit.index[(dag_id, run_id)] = run
    unit.changes.append(Change(dag_id, run_id, DagRunState.QUEUED, unit.now))
    log.info("dag_run_created", dag_id=dag_id, run_id=run_id, run_type=str(run_type),
             tasks=len(spec.tasks))
    return run


async def start_run(unit: UnitOfWork, run: RunRecord) -> None:
    """queued -> running: arm its dagrun_timeout (it counts from this start) and queue its
    root tasks; for a run that ran before and was cleared, the cleared tasks that are ready."""
    await unit.set_run_state(run, DagRunState.RUNNING, {"start_date": unit.now})
    unit.watch_timeout(run)
    if all(ti.state == TI.NONE for ti in run.tis.values()):
        await unit.start(run)
    else:
        await unit.evaluate(run, [t for t in run.spec.tasks if any(
            ti.state == TI.NONE for ti in run.task_tis(t))])
    unit.touched[(run.dag_id, run.run_id)] = run


def _active(unit: UnitOfWork, dag_id: str) -> list[RunRecord]:
    return sorted((r for r in unit.index.values() if r.dag_id == dag_id),
                  key=lambda r: (r.logical_date, r.id))


async def start_queued(unit: UnitOfWork, dag_id: str, max_active_runs: int, *,
                       paused: bool, backfill_limits: dict[int, int]) -> int:
    """Start queued runs, oldest logical date first, while fewer than max_active_runs run.
    Backfill runs count against their backfill's limit instead; a paused DAG starts none of
    its other queued runs (as Airflow). Returns how many started."""
    runs = _active(unit, dag_id)
    running: dict[int | None, int] = {}
    for run in runs:
        if run.state == DagRunState.RUNNING:
            running[run.backfill_id] = running.get(run.backfill_id, 0) + 1
    started = 0
    for run in runs:
        if run.state != DagRunState.QUEUED:
            continue
        if run.backfill_id is None:
            if paused or running.get(None, 0) >= max_active_runs:
                continue
        else:
            limit = backfill_limits.get(run.backfill_id)
            if limit is None:
                backfill = await store.get_backfill(unit.session, run.backfill_id)
                limit = backfill.max_active_runs if backfill is not None else max_active_runs
                backfill_limits[run.backfill_id] = limit
            if running.get(run.backfill_id, 0) >= limit:
                continue
        await start_run(unit, run)
        running[run.backfill_id] = running.get(run.backfill_id, 0) + 1
        started += 1
    return started


def _restriction(spec: DagSpec) -> TimeRestriction:
    return TimeRestriction(spec.start_date, spec.end_date, spec.catchup)


async def next_info(unit: UnitOfWork, spec: DagSpec, timetable: Timetable
                    ) -> tuple[DataInterval | None, DagRunInfo | None]:
    """The last scheduled run's interval, and the run that follows it as of now."""
    last_row = await store.last_scheduled_run(unit.session, spec.dag_id)
    last = None
    if last_row is not None:
        last = DataInterval(last_row.data_interval_start or last_row.logical_date,
                            last_row.data_interval_end or last_row.logical_date)
    return last, timetable.next_dagrun_info(last, _restriction(spec), now=unit.now)


async def schedule_dag(unit: UnitOfWork, dag_id: str, spec: DagSpec | None = None) -> None:
    """Create the DAG's due runs, start queued ones, store its next run and arm its tick."""
    if spec is not None and not spec.schedule and not any(
            r.dag_id == dag_id and r.state == DagRunState.QUEUED for r in unit.index.values()):
        return  # unscheduled DAG, nothing waiting: no DB work on a manual run's end
    dag = await store.get_dag(unit.session, dag_id)
    serialized = await store.serialized(unit.session, dag_id)
    if dag is None or serialized is None:
        return
    spec = DagSpec.from_json(serialized.data)
    timetable = timetable_of(spec)
    backfill_limits: dict[int, int] = {}
    if dag.is_active and not dag.is_paused and await assets.take_ready(unit, spec):
        await create_run(unit, spec, run_type=DagRunType.ASSET_TRIGGERED,
                         run_id=run_id_for(DagRunType.ASSET_TRIGGERED, unit.now),
                         logical_date=unit.now, interval=None, conf={})
    await start_queued(unit, dag_id, spec.max_active_runs, paused=dag.is_paused,
                       backfill_limits=backfill_limits)
    if not dag.is_active or not timetable.can_be_scheduled:
        _store_next(dag, None)
        return
    last, info = await next_info(unit, spec, timetable)
    limit = spec.max_active_runs if timetable.continuous else 2 * spec.max_active_runs
    while not dag.is_paused and info is not None and info.run_after <= unit.now:
        active = [r for r in _active(unit, dag_id) if r.backfill_id is None]
        if len(active) >= limit:
            break  # resumed when one of its runs ends (UnitOfWork.freed)
        await _create_scheduled(unit, spec, info)
        await start_queued(unit, dag_id, spec.max_active_runs, paused=False,
                           backfill_limits=backfill_limits)
        last = info.data_interval
        info = timetable.next_dagrun_info(last, _restriction(spec), now=unit.now)
        if timetable.continuous:
            break  # the next one starts when this one ends
    _store_next(dag, info)
    if info is not None and not dag.is_paused and info.run_after > unit.now:
        unit.dag_ticks.append((info.run_after, dag_id))


async def _create_scheduled(unit: UnitOfWork, spec: DagSpec, info: DagRunInfo) -> None:
    existing = await store.automated_runs_at(unit.session, spec.dag_id, [info.logical_date])
    if existing:
        log.info("dag_run_interval_exists", dag_id=spec.dag_id, interval=describe(info))
        return
    await create_run(unit, spec, run_id=run_id_for(DagRunType.SCHEDULED, info.logical_date),
                     run_type=DagRunType.SCHEDULED, logical_date=info.logical_date,
                     interval=info.data_interval, conf={})


def _store_next(dag: Dag, info: DagRunInfo | None) -> None:
    """Airflow's dag.next_dagrun* columns; next_dagrun_create_after is the persisted tick."""
    dag.next_dagrun = info.logical_date if info else None
    dag.next_dagrun_data_interval_start = info.data_interval.start if info else None
    dag.next_dagrun_data_interval_end = info.data_interval.end if info else None
    dag.next_dagrun_create_after = info.run_after if info else None


async def set_paused(unit: UnitOfWork, dag_id: str, paused: bool) -> Dag:
    """Pause (no new scheduled runs, queued ones wait) or unpause (resume from now: a
    catchup=False DAG jumps to its latest interval, so there is no burst)."""
    dag = await store.get_dag(unit.session, dag_id)
    if dag is None:
        raise await store.dag_not_found(unit.session, dag_id)
    if dag.is_paused != paused:
        dag.is_paused = paused
        log.info("dag_paused" if paused else "dag_unpaused", dag_id=dag_id)
    if not paused:
        await schedule_dag(unit, dag_id)
    return dag


async def schedule_freed(unit: UnitOfWork) -> None:
    """After runs ended in this unit: start queued runs of their DAGs and create more."""
    from services.scheduler.core import backfills

    while unit.freed or unit.freed_backfills or unit.asset_updated:
        freed, unit.freed = unit.freed, {}
        for dag_id, spec in freed.items():
            await schedule_dag(unit, dag_id, spec)
        updated, unit.asset_updated = unit.asset_updated, set()
        for dag_id in sorted(updated - set(freed)):
            await schedule_dag(unit, dag_id)
        await unit.finish_runs()
        ended, unit.freed_backfills = unit.freed_backfills, set()
        await backfills.complete_finished(unit, ended)


async def schedule_all(unit: UnitOfWork, dag_ids: Sequence[str] | None = None) -> None:
    """Schedule every active DAG (at start) or the named ones (their ticks came due)."""
    if dag_ids is None:
        dag_ids = [dag.dag_id for dag in await store.scheduled_dags(unit.session)]
    for dag_id in dict.fromkeys(dag_ids):
        await schedule_dag(unit, dag_id)
