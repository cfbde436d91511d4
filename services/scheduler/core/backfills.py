"""Backfills, carried out by the scheduler (Airflow 3's model): one record, and at once one
QUEUED run per interval of the range; `run_creation.start_queued` starts them under the
backfill's own max_active_runs. Existing runs are skipped or run again by the reprocess
behaviour. Cancelling fails the runs that never started; running ones finish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from flow.db.models import Backfill
from flow.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from flow.states import DagRunState, DagRunType, TaskInstanceState
from services.scheduler import store
from services.scheduler.core.loading import load_run
from services.scheduler.core.run_creation import create_run, run_id_for, timetable_of
from services.scheduler.core.state_machine import CLEARABLE
from services.scheduler.core.types import DagSpec
from services.scheduler.core.unit import UnitOfWork

log = structlog.get_logger(__name__)
TI = TaskInstanceState
REPROCESS_BEHAVIORS = ("none", "failed", "completed")
MAX_BACKFILL_RUNS = 10_000
RUNNING, COMPLETED, CANCELLED = "running", "completed", "cancelled"


@dataclass(frozen=True)
class BackfillRequest:
    """What `flowcli dags backfill` asks for."""

    dag_id: str
    from_date: datetime
    to_date: datetime
    reprocess_behavior: str = "none"
    max_active_runs: int = 0  # 0: the DAG's max_active_runs
    dry_run: bool = False
    conf: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedRun:
    """One interval of a backfill: what happens to it, and why when it is skipped."""

    logical_date: datetime
    action: str  # "create" | "reprocess" | "skip"
    run_id: str
    reason: str = ""


def _plan_one(logical_date: datetime, existing: Any, behavior: str) -> PlannedRun:
    if existing is None:
        return PlannedRun(logical_date, "create", run_id_for(DagRunType.BACKFILL, logical_date))
    if existing.state in (DagRunState.QUEUED, DagRunState.RUNNING):
        return PlannedRun(logical_date, "skip", existing.run_id, "in flight")
    if behavior == "none" or (behavior == "failed" and existing.state != DagRunState.FAILED):
        return PlannedRun(logical_date, "skip", existing.run_id, f"already {existing.state}")
    return PlannedRun(logical_date, "reprocess", existing.run_id)


async def create(unit: UnitOfWork, request: BackfillRequest
                 ) -> tuple[Backfill | None, list[PlannedRun]]:
    """Plan the backfill and, unless a dry run, record it and create or clear its runs."""
    if request.reprocess_behavior not in REPROCESS_BEHAVIORS:
        raise InvalidArgumentError(
            f"reprocess_behavior must be one of {', '.join(REPROCESS_BEHAVIORS)}, got "
            f"{request.reprocess_behavior!r}.", field="reprocess_behavior")
    if request.from_date > request.to_date:
        raise InvalidArgumentError(
            f"The start date {request.from_date.isoformat()} is after the end date "
            f"{request.to_date.isoformat()}.", field="from_date", reason="INVALID_DATE_RANGE")
    if request.from_date > unit.now:
        raise InvalidArgumentError("A backfill cannot start in the future.", field="from_date",
                                   reason="INVALID_DATE_RANGE")
    if request.max_active_runs < 0:
        raise InvalidArgumentError("max_active_runs must not be negative.",
                                   field="max_active_runs")
    session = unit.session
    dag, serialized = (await store.get_dag(session, request.dag_id),
                       await store.serialized(session, request.dag_id))
    if dag is None or serialized is None:
        raise await store.dag_not_found(session, request.dag_id)
    spec = DagSpec.from_json(serialized.data)
    timetable = timetable_of(spec)
    if not timetable.periodic:
        raise FailedPreconditionError(
            f"DAG '{request.dag_id}' has schedule {spec.schedule!r}: only a cron or timedelta "
            "schedule has intervals to backfill.", reason="DAG_NOT_PERIODIC")
    # Intervals that have not started yet are left to the schedule.
    infos = [i for i in timetable.infos_between(request.from_date, request.to_date)
             if i.logical_date <= unit.now]
    if len(infos) > MAX_BACKFILL_RUNS:
        raise InvalidArgumentError(
            f"The range holds {len(infos)} intervals; at most {MAX_BACKFILL_RUNS} per backfill.",
            field="to_date", reason="BACKFILL_TOO_LARGE")
    existing = await store.automated_runs_at(session, request.dag_id,
                                             [i.logical_date for i in infos])
    plan = [_plan_one(i.logical_date, existing.get(i.logical_date), request.reprocess_behavior)
            for i in infos]
    if request.dry_run:
        return None, plan
    if await store.running_backfill(session, request.dag_id) is not None:
        raise FailedPreconditionError(
            f"DAG '{request.dag_id}' has a backfill running; cancel it or wait for it.",
            reason="BACKFILL_RUNNING")
    row = Backfill(dag_id=request.dag_id, from_date=request.from_date, to_date=request.to_date,
                   reprocess_behavior=request.reprocess_behavior,
                   max_active_runs=request.max_active_runs or spec.max_active_runs,
                   dag_run_conf=dict(request.conf), state=RUNNING, created_at=unit.now)
    session.add(row)
    await session.flush()
    for info, planned in zip(infos, plan, strict=True):
        if planned.action == "create":
            await create_run(unit, spec, run_id=planned.run_id, run_type=DagRunType.BACKFILL,
                             logical_date=info.logical_date, interval=info.data_interval,
                             conf=dict(request.conf), backfill_id=row.id)
        elif planned.action == "reprocess":
            await _reprocess(unit, request.dag_id, planned.run_id, row.id)
    log.info("backfill_created", dag_id=request.dag_id, backfill_id=row.id, runs=len(
        [p for p in plan if p.action != "skip"]), skipped=len([p for p in plan
                                                               if p.action == "skip"]))
    unit.freed[request.dag_id] = spec  # start what the limits allow, in this unit
    unit.freed_backfills.add(row.id)
    return row, plan


async def _reprocess(unit: UnitOfWork, dag_id: str, run_id: str, backfill_id: int) -> None:
    """A finished run starts over as a run of the backfill: queued, its task instances
    cleared (max_tries extended by their retries, as a clear does)."""
    run = await load_run(unit.session, dag_id, run_id)
    if run is None:
        return
    await unit.set_run_state(run, DagRunState.QUEUED, {
        "queued_at": unit.now, "start_date": None, "end_date": None,
        "run_type": DagRunType.BACKFILL, "backfill_id": backfill_id})
    for ref, ti in run.tis.items():
        if ti.state not in CLEARABLE:
            continue
        ti.max_tries = ti.try_number + run.spec.tasks[ti.task_id].retries + 1
        ti.next_retry_at = None
        await unit.set_state(run, [ref], TI.NONE, {
            "max_tries": ti.max_tries, "start_date": None, "end_date": None, "duration": None,
            "next_retry_at": None})
    unit.index[(dag_id, run_id)] = run


async def cancel(unit: UnitOfWork, backfill_id: int) -> Backfill:
    """Stop a backfill: its queued runs fail (they never started); running ones finish."""
    row = await store.get_backfill(unit.session, backfill_id)
    if row is None:
        raise NotFoundError(f"Backfill {backfill_id} not found; see 'flowcli backfills list'.",
                            reason="BACKFILL_NOT_FOUND")
    if row.state != RUNNING:
        return row
    for run in [r for r in unit.index.values()
                if r.backfill_id == backfill_id and r.state == DagRunState.QUEUED]:
        await unit.set_run_state(run, DagRunState.FAILED, {"end_date": unit.now})
        unit.index.pop((run.dag_id, run.run_id), None)
    row.state, row.completed_at = CANCELLED, unit.now
    log.info("backfill_cancelled", dag_id=row.dag_id, backfill_id=backfill_id)
    return row


async def complete_finished(unit: UnitOfWork, backfill_ids: set[int]) -> None:
    """Mark running backfills completed once none of their runs is active."""
    active = {r.backfill_id for r in unit.index.values() if r.backfill_id is not None}
    for backfill_id in sorted(backfill_ids - active):
        row = await store.get_backfill(unit.session, backfill_id)
        if row is not None and row.state == RUNNING:
            row.state, row.completed_at = COMPLETED, unit.now
            log.info("backfill_completed", dag_id=row.dag_id, backfill_id=row.id)
