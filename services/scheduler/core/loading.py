"""Rebuild the in-memory index of active runs from the DB (at start, and after a failed batch)."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from flow.db.models import TaskInstance
from flow.states import TaskInstanceState
from services.scheduler import store
from services.scheduler.core.timers import DeadlineTimer
from services.scheduler.core.types import DagSpec, RunRecord, TIKey, TIRecord
from services.scheduler.core.unit import RunIndex

log = structlog.get_logger(__name__)


async def load_index(session: AsyncSession, index: RunIndex, timers: DeadlineTimer[TIKey],
                     run_deadlines: DeadlineTimer[tuple[str, str]] | None = None) -> None:
    """Fill `index` with every queued or running run; add timers for pending retries and
    for the dagrun_timeout of running runs (due at start_date + timeout, both stored)."""
    runs = await store.active_runs(session)
    specs: dict[str, DagSpec | None] = {}
    for row in runs:
        if row.dag_id not in specs:
            serialized = await store.serialized(session, row.dag_id)
            specs[row.dag_id] = DagSpec.from_json(serialized.data) if serialized else None
        spec = specs[row.dag_id]
        if spec is None:
            log.warning("dag_run_without_dag", dag_id=row.dag_id, run_id=row.run_id)
            continue
        index[(row.dag_id, row.run_id)] = RunRecord(
            id=row.id, dag_id=row.dag_id, run_id=row.run_id, state=row.state,
            run_type=str(row.run_type), logical_date=row.logical_date, spec=spec,
            conf=dict(row.conf or {}), queued_at=row.queued_at, start_date=row.start_date,
            end_date=row.end_date, data_interval_start=row.data_interval_start,
            data_interval_end=row.data_interval_end, backfill_id=row.backfill_id)
        if run_deadlines is not None and spec.dagrun_timeout is not None and row.start_date:
            run_deadlines.add(row.start_date + timedelta(seconds=spec.dagrun_timeout),
                              (row.dag_id, row.run_id))
    for ti in await store.tis_of_runs(session, list(index)):
        run = index.get((ti.dag_id, ti.run_id))
        if run is None or ti.task_id not in run.spec.tasks:
            continue
        run.add_ti(_record(ti))
        # A retry's delay, or a sensor's reschedule: both due at next_retry_at.
        if ti.state in (TaskInstanceState.UP_FOR_RETRY, TaskInstanceState.UP_FOR_RESCHEDULE) \
                and ti.next_retry_at is not None:
            timers.add(ti.next_retry_at, TIKey(ti.dag_id, ti.run_id, ti.task_id, ti.map_index))


def _record(row: TaskInstance) -> TIRecord:
    return TIRecord(row.task_id, row.state, row.try_number, row.max_tries, row.worker_id,
                    row.start_date, row.next_retry_at, row.map_index)


async def load_run(session: AsyncSession, dag_id: str, run_id: str) -> RunRecord | None:
    """One run (any state) with its task instances, as the index would hold it."""
    row = await store.find_run(session, dag_id, run_id)
    serialized = await store.serialized(session, dag_id) if row is not None else None
    if row is None or serialized is None:
        return None
    run = RunRecord(
        id=row.id, dag_id=row.dag_id, run_id=row.run_id, state=row.state,
        run_type=str(row.run_type), logical_date=row.logical_date,
        spec=DagSpec.from_json(serialized.data), conf=dict(row.conf or {}),
        queued_at=row.queued_at, start_date=row.start_date, end_date=row.end_date,
        data_interval_start=row.data_interval_start, data_interval_end=row.data_interval_end,
        backfill_id=row.backfill_id)
    for ti in await store.tis_of_runs(session, [(dag_id, run_id)]):
        if ti.task_id in run.spec.tasks:
            run.add_ti(_record(ti))
    return run
