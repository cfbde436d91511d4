"""Operator commands on whole runs and DAGs: mark a run success or failed (Airflow's "mark
run"), cancel an unfinished run, delete a run, delete a DAG's metadata. They run inside the
core's unit of work like every write; attempts they stop are cancelled after the commit."""

from __future__ import annotations

import structlog

from flow.errors import FailedPreconditionError, InvalidArgumentError
from flow.states import TI_UNFINISHED, DagRunState, TaskInstanceState
from services.scheduler import store
from services.scheduler.core.operations import active_or_stored_run
from services.scheduler.core.state_machine import mark_sources, run_mark_sources
from services.scheduler.core.types import Change, RunRecord
from services.scheduler.core.unit import UnitOfWork

log = structlog.get_logger(__name__)
TI = TaskInstanceState
RUN = DagRunState


def _forget(unit: UnitOfWork, run: RunRecord) -> None:
    """A deleted run leaves the index: stop its running attempts and announce its task
    instances as removed, so that the slots they held (pools, limits) are freed."""
    unit.stop_running(run)
    unit.index.pop((run.dag_id, run.run_id), None)
    unit.changes.extend(
        Change(run.dag_id, run.run_id, run.state, unit.now, unit.key(run, ti.ref),
               ti.try_number, TI.REMOVED)
        for ti in run.tis.values() if ti.state in TI_UNFINISHED)


async def set_run_state(unit: UnitOfWork, dag_id: str, run_id: str, target: DagRunState, *,
                        cancel: bool = False) -> RunRecord:
    """Mark a run success (every task instance succeeds) or failed (running ones fail, the
    other unfinished ones are skipped), as Airflow's mark run; with `cancel`, only an
    unfinished run, which fails."""
    if target not in (RUN.SUCCESS, RUN.FAILED):
        raise InvalidArgumentError("state must be success or failed.", field="state")
    run, active = await active_or_stored_run(unit, dag_id, run_id)
    if cancel and not active:
        raise FailedPreconditionError(
            f"DAG run '{run_id}' of DAG '{dag_id}' has finished ({run.state}); only a queued "
            "or running run can be cancelled.", reason="DAG_RUN_FINISHED",
            metadata={"dag_id": dag_id, "run_id": run_id})
    unfinished = [ti for ti in run.tis.values() if ti.state in TI_UNFINISHED]
    unit.stop_running(run)
    if target == RUN.SUCCESS:
        await unit.set_state(run, [ti.ref for ti in run.tis.values()
                                   if ti.state not in (TI.SUCCESS, TI.REMOVED)], TI.SUCCESS,
                             {"end_date": unit.now}, sources=mark_sources(TI.SUCCESS))
    else:  # both lists first: set_state changes the records' states
        running = [ti.ref for ti in unfinished if ti.state == TI.RUNNING]
        waiting = [ti.ref for ti in unfinished if ti.state != TI.RUNNING]
        await unit.set_state(run, running, TI.FAILED, {"end_date": unit.now},
                             sources=mark_sources(TI.FAILED))
        await unit.set_state(run, waiting, TI.SKIPPED, {"end_date": unit.now})
    if run.state != target:
        await unit.set_run_state(run, target, {"end_date": unit.now},
                                 sources=run_mark_sources(target))
    unit.index.pop((dag_id, run_id), None)
    log.info("dag_run_cancelled" if cancel else "dag_run_marked", dag_id=dag_id,
             run_id=run_id, state=str(target), stopped=len(unfinished))
    return run


async def delete_run(unit: UnitOfWork, dag_id: str, run_id: str) -> None:
    """Delete a run and everything stored with it; its running attempts are stopped."""
    run, _active = await active_or_stored_run(unit, dag_id, run_id)
    _forget(unit, run)
    await store.delete_runs(unit.session, dag_id, [run_id])
    log.info("dag_run_deleted", dag_id=dag_id, run_id=run_id)


async def delete_dag(unit: UnitOfWork, dag_id: str) -> tuple[int, str]:
    """Delete a DAG, its runs and everything stored with them; its running attempts are
    stopped. Returns the runs deleted and the DAG's file (to parse again)."""
    dag = await store.get_dag(unit.session, dag_id)
    if dag is None:
        raise await store.dag_not_found(unit.session, dag_id)
    for run in [r for k, r in unit.index.items() if k[0] == dag_id]:
        _forget(unit, run)
    deleted = await store.delete_runs(unit.session, dag_id, None)
    fileloc = dag.fileloc
    await store.delete_dag(unit.session, dag_id)
    log.info("dag_deleted", dag_id=dag_id, runs=deleted)
    return deleted, fileloc
