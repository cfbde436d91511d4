"""The operations the core applies inside a unit of work: trigger, results, claims, XCom.

Each raises a FlowError only before it writes anything, so one rejected operation never
leaves half a change in a batch it shares with others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from flow.bus import subjects
from flow.errors import (
    AlreadyExistsError,
    ConflictError,
    FailedPreconditionError,
    FlowError,
    InvalidArgumentError,
    NotFoundError,
)
from flow.sdk.param import ParamValidationError, resolve_params
from flow.states import TI_UNFINISHED, DagRunState, DagRunType, TaskInstanceState
from services.scheduler import store
from services.scheduler.core import assets, run_creation
from services.scheduler.core.scheduling import retry_delay
from services.scheduler.core.types import (
    Change,
    DagSpec,
    RunRecord,
    TaskResult,
    TIKey,
)
from services.scheduler.core.unit import UnitOfWork

log = structlog.get_logger(__name__)
TI = TaskInstanceState


async def trigger(unit: UnitOfWork, dag_id: str, run_id: str, conf: dict[str, Any],
                  logical_date: datetime | None, *,
                  conf_overrides_params: bool = True) -> RunRecord:
    """Create a manual run with one task instance per task, and queue its roots. A conf
    whose resulting params fail their schema is refused (INVALID_PARAMS)."""
    session = unit.session
    dag, serialized = await store.get_dag(session, dag_id), await store.serialized(session, dag_id)
    if dag is None or serialized is None:
        raise await store.dag_not_found(session, dag_id)
    if not dag.is_active:
        raise FailedPreconditionError(
            f"DAG '{dag_id}' is no longer in the DAG folder ({dag.fileloc}); restore the file.",
            reason="DAG_INACTIVE", metadata={"dag_id": dag_id})
    # A paused DAG may still be triggered by hand (as Airflow 2.x allows manual triggers):
    # pausing stops scheduled runs only.
    logical = logical_date or unit.now
    if not run_id and logical_date is None:
        # Triggers batched into one unit of work share its clock: give each its own instant.
        while (dag_id, f"{DagRunType.MANUAL}__{logical.isoformat()}") in unit.index:
            logical += timedelta(microseconds=1)
    run_id = run_id or f"{DagRunType.MANUAL}__{logical.isoformat()}"
    if (dag_id, run_id) in unit.index or await store.find_run(session, dag_id, run_id):
        raise AlreadyExistsError(f"DAG run '{run_id}' of DAG '{dag_id}' already exists; "
                                 "pick another run_id.", reason="DAG_RUN_EXISTS",
                                 metadata={"dag_id": dag_id, "run_id": run_id})
    spec = DagSpec.from_json(serialized.data)
    try:
        resolve_params(spec.params, conf, conf_overrides_params)
    except ParamValidationError as exc:
        raise InvalidArgumentError(
            f"DAG '{dag_id}' refused the trigger: {exc} Fix the conf or the params' "
            "defaults.", field="conf", reason="INVALID_PARAMS",
            metadata={"dag_id": dag_id}) from None
    interval = run_creation.timetable_of(spec).infer_manual_data_interval(logical)
    run = await run_creation.create_run(unit, spec, run_id=run_id, run_type=DagRunType.MANUAL,
                                        logical_date=logical, interval=interval, conf=conf)
    # Manual runs start at once (max_active_runs holds scheduled and backfill runs only).
    await run_creation.start_run(unit, run)
    return run


async def apply_results(unit: UnitOfWork, results: Sequence[TaskResult]) -> None:
    """Apply finished attempts; stale tries (try_number != stored, not running) are ignored.

    The tries' state writes go out together (one statement per target state), before any
    downstream task is evaluated."""
    finished: list[tuple[RunRecord, TaskResult, TaskInstanceState, dict[str, Any]]] = []
    seen: set[tuple[TIKey, int]] = set()
    for result in results:
        with _bound(result):
            item = _prepare_result(unit, result, seen)
        if item is not None:
            finished.append(item)
    await unit.finish_tries([(run, (result.key.task_id, result.key.map_index), target, values)
                             for run, result, target, values in finished])
    await store.put_rendered_fields(unit.session, [
        (result.key, result.try_number, result.rendered_fields)
        for _run, result, _target, _values in finished if result.rendered_fields is not None])
    for run, result, target, values in finished:
        with _bound(result):
            _record_finished(unit, run, result, target, values)
            if target in (TI.UP_FOR_RETRY, TI.UP_FOR_RESCHEDULE):
                continue
            if target == TI.SUCCESS:
                await assets.record_updates(unit, run, run.tis[(result.key.task_id,
                                                                 result.key.map_index)],
                                            run.spec.tasks[result.key.task_id].outlets)
            # Skips first, so that the evaluation below never queues a task being skipped.
            skipped = await _apply_skips(unit, run, result) if target == TI.SUCCESS else []
            await unit.cascade(run, [result.key.task_id, *skipped])


async def _apply_skips(unit: UnitOfWork, run: RunRecord, result: TaskResult) -> list[str]:
    """Mark the tasks the attempt skipped as SKIPPED, if they have not started; their ids."""
    refs = [ti.ref for t in sorted(set(result.skip_task_ids)) for ti in run.task_tis(t)
            if ti.state in (TI.NONE, TI.SCHEDULED)]
    ids = list(dict.fromkeys(t for t, _ in refs))
    if refs:
        await unit.set_state(run, refs, TI.SKIPPED, {"end_date": unit.now})
        log.info("tasks_skipped", by=result.key.task_id, skipped=ids)
    return ids


def _bound(result: TaskResult) -> Any:
    return structlog.contextvars.bound_contextvars(
        dag_id=result.key.dag_id, run_id=result.key.run_id, task_id=result.key.task_id,
        map_index=result.key.map_index, try_number=result.try_number)


def _prepare_result(unit: UnitOfWork, result: TaskResult, seen: set[tuple[TIKey, int]],
                    ) -> tuple[RunRecord, TaskResult, TaskInstanceState, dict[str, Any]] | None:
    """The run, target state and column values of a result that applies, else None."""
    run = unit.index.get((result.key.dag_id, result.key.run_id))
    ti = run.tis.get((result.key.task_id, result.key.map_index)) if run else None
    if (run is None or ti is None or ti.try_number != result.try_number
            or ti.state != TI.RUNNING or (result.key, result.try_number) in seen):
        log.info("task_event_ignored", reason="stale attempt",
                 stored_state=str(ti.state) if ti else None)
        return None
    seen.add((result.key, result.try_number))
    spec = run.spec.tasks[ti.task_id]
    target = result.state
    if target == TI.FAILED and ti.try_number < ti.max_tries and not result.non_retryable:
        target = TI.UP_FOR_RETRY
    start = result.start_date or ti.start_date
    end = result.end_date or unit.now
    duration = (end - start).total_seconds() if start else None
    values: dict[str, Any] = {"end_date": end, "duration": duration}
    if start:
        values["start_date"] = start
    if target == TI.UP_FOR_RESCHEDULE:
        # The same try pokes again then; its row keeps the start of its first poke (the
        # sensor's timeout counts from it: store.finish_tries), and its slots are free.
        ti.next_retry_at = values["next_retry_at"] = result.reschedule_date or unit.now
    if target == TI.UP_FOR_RETRY:
        ti.next_retry_at = values["next_retry_at"] = unit.now + retry_delay(
            ti.try_number, spec.retry_delay, exponential=spec.retry_exponential_backoff,
            max_delay_seconds=spec.max_retry_delay,
            jitter_key=f"{run.dag_id}#{ti.task_id}#{run.logical_date}#{ti.try_number}"
            + (f"#{ti.map_index}" if ti.map_index >= 0 else ""))
    return run, result, target, values


def _record_finished(unit: UnitOfWork, run: RunRecord, result: TaskResult,
                     target: TaskInstanceState, values: dict[str, Any]) -> None:
    ti = run.tis[(result.key.task_id, result.key.map_index)]
    if target == TI.UP_FOR_RESCHEDULE:  # the try goes on: history is written when it ends
        log.info("task_rescheduled", reschedule_date=str(ti.next_retry_at))
        if ti.next_retry_at is not None:
            unit.retries.append((ti.next_retry_at, result.key))
        return
    unit.add_history({
        "dag_id": run.dag_id, "run_id": run.run_id, "task_id": ti.task_id,
        "map_index": ti.map_index,
        "try_number": ti.try_number, "state": target, "start_date": values.get("start_date"),
        "end_date": values["end_date"], "duration": values["duration"], "hostname": "",
        "worker_id": result.worker_id or ti.worker_id, "error": result.error or None})
    log.info("task_finished", state=str(target), error=result.error or None)
    if target == TI.UP_FOR_RETRY and ti.next_retry_at is not None:
        unit.retries.append((ti.next_retry_at, result.key))


async def requeue(unit: UnitOfWork, keys: Sequence[TIKey]) -> None:
    """Queue the next try of task instances whose retry delay passed, and the next poke of
    sensors whose reschedule is due."""
    for key in keys:
        run = unit.index.get((key.dag_id, key.run_id))
        ti = run.tis.get((key.task_id, key.map_index)) if run else None
        if run is None or ti is None or ti.state not in (TI.UP_FOR_RETRY, TI.UP_FOR_RESCHEDULE):
            continue
        if ti.next_retry_at and ti.next_retry_at > unit.now:
            unit.retries.append((ti.next_retry_at, key))
            continue
        await unit.queue(run, [ti.ref])


async def time_out_runs(unit: UnitOfWork, runs: Sequence[tuple[str, str]]) -> None:
    """Fail runs whose dagrun_timeout passed. As Airflow, their unfinished task instances
    become SKIPPED (not failed), and their running attempts are stopped (after the commit)."""
    for dag_id, run_id in runs:
        run = unit.index.get((dag_id, run_id))
        if run is None or run.state != DagRunState.RUNNING or run.start_date is None \
                or run.spec.dagrun_timeout is None:
            continue
        due = run.start_date + timedelta(seconds=run.spec.dagrun_timeout)
        if due > unit.now:  # e.g. a run restarted after a clear: not yet
            unit.run_deadlines.append((due, (dag_id, run_id)))
            continue
        unfinished = [ref for ref, ti in run.tis.items() if ti.state in TI_UNFINISHED]
        unit.stop_running(run)
        await unit.set_state(run, unfinished, TI.SKIPPED, {"end_date": unit.now})
        await unit.set_run_state(run, DagRunState.FAILED, {"end_date": unit.now})
        unit.index.pop((dag_id, run_id), None)
        log.warning("dag_run_timed_out", dag_id=dag_id, run_id=run_id,
                    timeout=run.spec.dagrun_timeout,
                    skipped=sorted({task_id for task_id, _ in unfinished}))
        unit.dispatch_callback(run, DagRunState.FAILED, "timed_out")


@dataclass(frozen=True)
class ClaimRequest:
    """A worker's request to run one attempt."""

    key: TIKey
    try_number: int
    worker_id: str
    hostname: str


async def claim_many(unit: UnitOfWork, requests: Sequence[ClaimRequest],
                     ) -> list[tuple[RunRecord, Any] | FlowError]:
    """queued -> running for exactly each requested try, one statement per worker; for each
    request its (run, row), or the error to answer (the attempt is not claimable). A claim
    its own worker repeats (same try, still running there) is answered as granted again."""
    outcomes: list[tuple[RunRecord, Any] | FlowError | None] = [None] * len(requests)
    wanted: dict[tuple[str, str], list[tuple[int, RunRecord, ClaimRequest]]] = {}
    taken: set[tuple[TIKey, int]] = set()
    for i, req in enumerate(requests):
        run = unit.index.get((req.key.dag_id, req.key.run_id))
        ti = run.tis.get((req.key.task_id, req.key.map_index)) if run else None
        if run is None or ti is None:
            if await store.get_ti(unit.session, req.key) is None:
                outcomes[i] = NotFoundError(
                    f"Task instance {req.key.dag_id}/{req.key.run_id}/{req.key.task_id} "
                    f"(map_index {req.key.map_index}) does not exist.",
                    reason="TASK_INSTANCE_NOT_FOUND")
            else:
                outcomes[i] = _not_claimable(req.key, req.try_number, "its run has finished")
        elif (ti.state == TI.RUNNING and ti.try_number == req.try_number
              and ti.worker_id == req.worker_id):
            # The same worker asks again (its first answer was lost, e.g. the scheduler
            # restarted before replying): it holds the attempt, so the claim stands.
            held = await store.get_ti(unit.session, req.key)
            outcomes[i] = (run, held) if held is not None else _not_claimable(
                req.key, req.try_number, "it no longer exists")
        elif ti.state != TI.QUEUED or ti.try_number != req.try_number:
            outcomes[i] = _not_claimable(req.key, req.try_number,
                                         f"it is {ti.state} at try {ti.try_number}")
        elif (req.key, req.try_number) in taken:  # the same attempt twice in one batch
            outcomes[i] = _not_claimable(req.key, req.try_number, "it is claimed already")
        else:
            taken.add((req.key, req.try_number))
            wanted.setdefault((req.worker_id, req.hostname), []).append((i, run, req))
    for (worker_id, hostname), items in wanted.items():
        rows = await store.claim_tis(unit.session, [(r.key, r.try_number) for _, _, r in items],
                                     unit.now, hostname, worker_id)
        by_key = {(row.dag_id, row.run_id, row.task_id, row.map_index): row for row in rows}
        for i, run, req in items:
            row = by_key.get((req.key.dag_id, req.key.run_id, req.key.task_id,
                              req.key.map_index))
            if row is None:
                outcomes[i] = _not_claimable(req.key, req.try_number, "it is no longer queued")
                continue
            ti = run.tis[(req.key.task_id, req.key.map_index)]
            # The index keeps the claim's time (the zombie check's grace period counts from
            # it); the row keeps a rescheduled sensor's first poke (store.claim_tis).
            ti.state, ti.worker_id, ti.start_date = TI.RUNNING, worker_id, unit.now
            unit.touched[(run.dag_id, run.run_id)] = run
            unit.changes.append(Change(run.dag_id, run.run_id, run.state, unit.now, req.key,
                                       ti.try_number, ti.state))
            outcomes[i] = (run, row)
    return [o if o is not None else _not_claimable(r.key, r.try_number, "unknown")
            for o, r in zip(outcomes, requests, strict=True)]


def _not_claimable(key: TIKey, try_number: int, why: str) -> ConflictError:
    return ConflictError(
        f"Attempt {key.dag_id}/{key.run_id}/{key.task_id}/{key.map_index}/{try_number} cannot "
        f"be claimed: {why}.", reason="ATTEMPT_NOT_CLAIMABLE")


async def fail_zombies(unit: UnitOfWork, is_running: Callable[[str, str], bool],
                       older_than: datetime) -> list[TaskResult]:
    """Fail over, by their retry policy, attempts running since before `older_than` that
    their worker does not list as running: it stopped heartbeating, or it lost the attempt
    (e.g. it restarted under the same id, or its claim answer never reached it)."""
    results = [
        TaskResult(key=TIKey(run.dag_id, run.run_id, ti.task_id, ti.map_index),
                   try_number=ti.try_number,
                   state=TI.FAILED, worker_id=ti.worker_id,
                   error=f"worker {ti.worker_id} is not running this attempt (no heartbeat "
                         "lists it)")
        for run in list(unit.index.values()) for ti in run.tis.values()
        if ti.state == TI.RUNNING
        and not is_running(ti.worker_id, subjects.attempt_key(
            run.dag_id, run.run_id, ti.task_id, ti.map_index, ti.try_number))
        and (ti.start_date is None or ti.start_date < older_than)]
    for result in results:
        log.warning("zombie_detected", dag_id=result.key.dag_id, run_id=result.key.run_id,
                    task_id=result.key.task_id, worker_id=result.worker_id)
    await apply_results(unit, results)
    return results
