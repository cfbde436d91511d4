"""Operator commands on task instances: clear (run again with the next try number) and mark
success/failed, as Airflow's `tasks clear` and "mark". Both run inside the core's unit of
work, through the state machine's tables, and dispatch only after the commit."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import structlog

from flow.errors import InvalidArgumentError, NotFoundError, did_you_mean
from flow.states import DagRunState, TaskInstanceState
from services.scheduler.core.loading import load_run
from services.scheduler.core.state_machine import CLEARABLE, mark_sources
from services.scheduler.core.types import DagSpec, RunRecord
from services.scheduler.core.unit import UnitOfWork

log = structlog.get_logger(__name__)
TI = TaskInstanceState
FAILED_STATES = frozenset({TI.FAILED, TI.UPSTREAM_FAILED})


@dataclass(frozen=True)
class ClearRequest:
    """Which task instances of a run to clear."""

    dag_id: str
    run_id: str
    task_regex: str = ""
    include_downstream: bool = False
    include_upstream: bool = False
    only_failed: bool = False
    dry_run: bool = False


@dataclass(frozen=True)
class MarkRequest:
    """Which task instances of a run to mark, and the state."""

    dag_id: str
    run_id: str
    task_id: str
    state: TaskInstanceState
    include_upstream: bool = False
    include_downstream: bool = False
    dry_run: bool = False


def _relatives(spec: DagSpec, start: Iterable[str], *, downstream: bool) -> set[str]:
    """`start` and every task reachable from it downstream (or upstream)."""
    seen: set[str] = set()
    stack = list(start)
    while stack:
        task_id = stack.pop()
        if task_id in seen or task_id not in spec.tasks:
            continue
        seen.add(task_id)
        task = spec.tasks[task_id]
        stack.extend(task.downstream if downstream else task.upstream)
    return seen


def _select(spec: DagSpec, roots: set[str], upstream: bool, downstream: bool) -> set[str]:
    selected = set(roots)
    if downstream:
        selected |= _relatives(spec, roots, downstream=True)
    if upstream:
        selected |= _relatives(spec, roots, downstream=False)
    return selected


async def active_or_stored_run(unit: UnitOfWork, dag_id: str, run_id: str,
                              ) -> tuple[RunRecord, bool]:
    """The run from the index (active) or the DB (finished); True when it is active."""
    active = unit.index.get((dag_id, run_id))
    if active is not None:
        return active, True
    run = await load_run(unit.session, dag_id, run_id)
    if run is None:
        raise NotFoundError(f"DAG run '{run_id}' of DAG '{dag_id}' not found; see the runs "
                            f"with 'flowcli runs list {dag_id}'.", reason="DAG_RUN_NOT_FOUND",
                            metadata={"dag_id": dag_id, "run_id": run_id})
    return run, False


async def clear(unit: UnitOfWork, request: ClearRequest) -> list[str]:
    """Set the selected finished task instances back to none (their max_tries extended by
    their retries, as Airflow) and queue those whose upstream is done. A finished run goes
    back to queued, as Airflow's does, and runs again once its DAG's max_active_runs allows
    (run_creation.start_run then queues what is ready). Returns the cleared task ids, in
    topological order."""
    try:
        pattern = re.compile(request.task_regex)
    except re.error as exc:
        raise InvalidArgumentError(f"task_regex is not a valid regular expression: {exc}.",
                                   field="task_regex") from None
    run, active = await active_or_stored_run(unit, request.dag_id, request.run_id)
    roots = {t for t in run.spec.tasks if pattern.search(t)}
    if not roots:
        raise InvalidArgumentError(
            f"No task of DAG '{request.dag_id}' matches {request.task_regex!r}"
            f"{did_you_mean(request.task_regex, run.spec.tasks)}.",
            field="task_regex", reason="NO_TASK_MATCHES")
    selected = _select(run.spec, roots, request.include_upstream, request.include_downstream)
    states = CLEARABLE & FAILED_STATES if request.only_failed else CLEARABLE
    refs = [ti.ref for t in run.spec.tasks if t in selected
            for ti in run.task_tis(t) if ti.state in states]
    cleared = list(dict.fromkeys(t for t, _ in refs))
    if request.dry_run or not cleared:
        return cleared
    if not active:
        await unit.set_run_state(run, DagRunState.QUEUED, {"queued_at": unit.now,
                                                           "end_date": None})
        unit.index[(run.dag_id, run.run_id)] = run
        unit.freed[run.dag_id] = run.spec  # the batch's scheduling step starts it, or not
    for ref in refs:
        ti = run.tis[ref]
        ti.max_tries = ti.try_number + run.spec.tasks[ti.task_id].retries + 1
        ti.next_retry_at = None
        await unit.set_state(run, [ref], TI.NONE, {
            "max_tries": ti.max_tries, "start_date": None, "end_date": None, "duration": None,
            "next_retry_at": None})
    log.info("task_instances_cleared", dag_id=run.dag_id, run_id=run.run_id,
             task_ids=cleared)
    if active:
        await unit.evaluate(run, cleared)
    return cleared


async def mark(unit: UnitOfWork, request: MarkRequest) -> list[str]:
    """Mark the task (and its upstream/downstream with the options) success or failed. In an
    active run, what the new states unblock is evaluated and the run may finish; a finished
    run keeps its state, as with Airflow's mark on a task instance."""
    if request.state not in (TI.SUCCESS, TI.FAILED):
        raise InvalidArgumentError("state must be success or failed.", field="state")
    run, active = await active_or_stored_run(unit, request.dag_id, request.run_id)
    if request.task_id not in run.spec.tasks:
        raise NotFoundError(f"DAG '{request.dag_id}' has no task '{request.task_id}'"
                            f"{did_you_mean(request.task_id, run.spec.tasks)}.",
                            reason="TASK_NOT_FOUND")
    selected = _select(run.spec, {request.task_id}, request.include_upstream,
                       request.include_downstream)
    tis = [ti for t in run.spec.tasks if t in selected for ti in run.task_tis(t)
           if ti.state not in (request.state, TI.REMOVED)]
    changed = list(dict.fromkeys(ti.task_id for ti in tis))
    if request.dry_run or not changed:
        return changed
    # A marked running attempt is stopped (after the commit); its late result is stale.
    unit.stop_running(run, tis)
    await unit.set_state(run, [ti.ref for ti in tis], request.state, {"end_date": unit.now},
                         sources=mark_sources(request.state))
    log.info("task_instances_marked", dag_id=run.dag_id, run_id=run.run_id,
             task_ids=changed, state=str(request.state))
    if active:
        await unit.cascade(run, changed)
    return changed
