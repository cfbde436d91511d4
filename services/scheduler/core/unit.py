"""One unit of work: guarded transitions inside one transaction, mirrored in the run index.

A finished task re-evaluates only its downstream tasks (work proportional to out-degree).
What must happen after the commit (dispatches, change notices, retry timers) is collected.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from flow.db.models import TaskInstance
from flow.states import DagRunState, TaskInstanceState
from services.scheduler import store
from services.scheduler.core.scheduling import Decision, evaluate_trigger_rule, run_final_state
from services.scheduler.core.types import Change, Dispatch, RunRecord, TIKey

log = structlog.get_logger(__name__)
TI = TaskInstanceState
EMPTY_OPERATOR = "EmptyOperator"
# The key a DAG callback's dispatch and log are filed under (no task of the DAG).
DAG_CALLBACK_TASK_ID = "__dag_callback__"
RunIndex = dict[tuple[str, str], RunRecord]


class IndexOutOfSyncError(Exception):
    """A guarded write changed fewer rows than the index expected: reload and retry."""


class UnitOfWork:
    """Transitions of one batch; `session` is inside the batch's transaction."""

    def __init__(self, session: AsyncSession, index: RunIndex, now: datetime) -> None:
        self.session = session
        self.index = index
        self.now = now
        self.dispatches: list[Dispatch] = []
        self.changes: list[Change] = []
        self.retries: list[tuple[datetime, TIKey]] = []
        # dagrun_timeout deadlines of runs started in this unit (added to the timer after commit)
        self.run_deadlines: list[tuple[datetime, tuple[str, str]]] = []
        # Running attempts to stop after the commit: (worker_id, attempt key).
        self.cancels: list[tuple[str, str]] = []
        self.touched: dict[tuple[str, str], RunRecord] = {}
        # Tasks ready to run, in the order they became ready; admitted after the batch's ops.
        self.ready: list[tuple[RunRecord, str]] = []
        self._history: list[dict[str, Any]] = []

    async def finish_tries(self, finished: Sequence[tuple[RunRecord, str, TaskInstanceState,
                                                          dict[str, Any]]]) -> None:
        """Guarded writes of many finished tries (one statement per target state), then the
        same in the index. Each item: run, task_id, target, and start/end/duration/retry."""
        by_target: dict[TaskInstanceState, list[dict[str, Any]]] = {}
        for run, task_id, target, values in finished:
            ti = run.tis[task_id]
            by_target.setdefault(target, []).append({
                "b_dag_id": run.dag_id, "b_run_id": run.run_id, "b_task_id": task_id,
                "b_map_index": -1, "b_try_number": ti.try_number,
                "b_start_date": values.get("start_date", ti.start_date),
                "b_end_date": values["end_date"], "b_duration": values["duration"],
                "b_next_retry_at": values.get("next_retry_at")})
        for target, rows in by_target.items():
            count = await store.finish_tries(self.session, target, rows)
            if count != len(rows):
                raise IndexOutOfSyncError(f"{count} of {len(rows)} tries moved to {target}")
        for run, task_id, target, _values in finished:
            ti = run.tis[task_id]
            ti.state = target
            self.changes.append(Change(run.dag_id, run.run_id, run.state, self.now,
                                       self.key(run, task_id), ti.try_number, target))
            self.touched[(run.dag_id, run.run_id)] = run

    def add_history(self, row: dict[str, Any]) -> None:
        """Record one finished try; written with the others of the batch in one statement."""
        self._history.append(row)

    async def write_history(self) -> None:
        rows, self._history = self._history, []
        await store.add_history(self.session, rows)

    def key(self, run: RunRecord, task_id: str) -> TIKey:
        return TIKey(run.dag_id, run.run_id, task_id)

    async def set_state(
        self, run: RunRecord, task_ids: Sequence[str], target: TaskInstanceState,
        values: dict[str, Any] | None = None, *, try_number: int | None = None,
        sources: frozenset[TaskInstanceState] | None = None,
    ) -> None:
        """Guarded write of `target` for `task_ids`, then the same in the index."""
        if not task_ids:
            return
        count = await store.transition_tis(self.session, run.dag_id, run.run_id, task_ids,
                                           target, values, try_number=try_number,
                                           sources=sources)
        if count != len(task_ids):
            raise IndexOutOfSyncError(
                f"{run.dag_id}/{run.run_id}: {count} of {len(task_ids)} rows moved to {target}")
        for task_id in task_ids:
            ti = run.tis[task_id]
            ti.state = target
            self.changes.append(Change(run.dag_id, run.run_id, run.state, self.now,
                                       self.key(run, task_id), ti.try_number, target))
        self.touched[(run.dag_id, run.run_id)] = run

    async def queue(self, run: RunRecord, task_ids: Sequence[str]) -> None:
        """Tasks whose trigger rule passed (or whose retry or reschedule is due) become ready;
        EmptyOperator succeeds without dispatch. Which ready tasks are queued now, and which
        wait as SCHEDULED for a slot, is decided once per batch (core/admission.py)."""
        # As Airflow: an EmptyOperator with callbacks runs on a worker, for its callbacks.
        empties = [t for t in task_ids if run.spec.tasks[t].operator == EMPTY_OPERATOR
                   and not run.spec.tasks[t].has_callbacks]
        self.ready.extend((run, t) for t in task_ids if t not in empties)
        if empties:
            await self.set_state(run, empties, TI.SUCCESS, {
                "start_date": self.now, "end_date": self.now, "duration": 0.0})
            await self.cascade(run, empties)

    async def queue_now(self, run: RunRecord, task_ids: Sequence[str]) -> None:
        """Queue admitted tasks and collect their dispatches. A new try takes the next try
        number; a rescheduled sensor keeps its try and the start of its first poke."""
        again = [t for t in task_ids if run.tis[t].state == TI.UP_FOR_RESCHEDULE]
        others = [t for t in task_ids if t not in again]
        if others:
            for task_id in others:
                run.tis[task_id].try_number += 1
                run.tis[task_id].next_retry_at = None
                run.tis[task_id].start_date = None
            await self.set_state(run, others, TI.QUEUED, {
                "try_number": TaskInstance.try_number + 1, "queued_at": self.now,
                "next_retry_at": None, "start_date": None, "end_date": None, "duration": None,
                "hostname": "", "worker_id": ""})
        if again:
            for task_id in again:
                run.tis[task_id].next_retry_at = None
            await self.set_state(run, again, TI.QUEUED, {
                "queued_at": self.now, "next_retry_at": None, "end_date": None,
                "duration": None, "hostname": "", "worker_id": ""})
        for task_id in [*others, *again]:
            spec, ti = run.spec.tasks[task_id], run.tis[task_id]
            if ti.try_number > 1 and task_id not in again:
                await store.delete_xcoms(self.session, self.key(run, task_id))
            self.dispatches.append(Dispatch(
                key=self.key(run, task_id), try_number=ti.try_number, fileloc=run.spec.fileloc,
                queue=spec.queue, max_tries=ti.max_tries, queued_at=self.now,
                logical_date=run.logical_date, conf=run.conf,
                execution_timeout=spec.execution_timeout, rescheduled=task_id in again))

    async def cascade(self, run: RunRecord, finished: Sequence[str]) -> None:
        """Evaluate the downstream tasks of `finished` ones, and theirs when decided in turn."""
        work = deque(finished)
        while work:
            spec = run.spec.tasks.get(work.popleft())
            for task_id in spec.downstream if spec else ():
                await self._evaluate(run, task_id, work)

    async def _evaluate(self, run: RunRecord, task_id: str, work: deque[str]) -> None:
        ti, spec = run.tis.get(task_id), run.spec.tasks.get(task_id)
        if ti is None or spec is None or ti.state not in (TI.NONE, TI.SCHEDULED):
            return
        upstream = [run.tis[u].state for u in spec.upstream if u in run.tis]
        decision = evaluate_trigger_rule(spec.trigger_rule, upstream)
        if decision is Decision.RUN:
            await self.queue(run, [task_id])
        elif decision is not Decision.WAIT:
            target = TI.SKIPPED if decision is Decision.SKIP else TI.UPSTREAM_FAILED
            await self.set_state(run, [task_id], target, {"end_date": self.now})
            work.append(task_id)

    async def evaluate(self, run: RunRecord, task_ids: Sequence[str]) -> None:
        """Evaluate the trigger rules of `task_ids` (in the DAG's topological order), then
        of whatever their decisions unblock: used after a clear."""
        wanted = set(task_ids)
        work: deque[str] = deque()
        for task_id in [t for t in run.spec.tasks if t in wanted]:
            await self._evaluate(run, task_id, work)
        await self.cascade(run, list(work))

    async def start(self, run: RunRecord) -> None:
        """Queue the root tasks of a new run (their trigger rules pass with no upstream)."""
        roots = [t.task_id for t in run.spec.tasks.values()
                 if not t.upstream and t.task_id in run.tis]
        await self.queue(run, roots)

    async def set_run_state(self, run: RunRecord, target: DagRunState,
                            values: dict[str, Any]) -> None:
        if await store.transition_run(self.session, run.id, target, values) != 1:
            raise IndexOutOfSyncError(f"{run.dag_id}/{run.run_id}: run not moved to {target}")
        run.state = target
        for name, value in values.items():
            setattr(run, name, value)
        self.changes.append(Change(run.dag_id, run.run_id, target, self.now))

    async def finish_runs(self) -> None:
        """Finish every touched run whose task instances all finished (decided by its leaves)."""
        for run in self.touched.values():
            if run.state != DagRunState.RUNNING:
                continue
            final = run_final_state(run.states(), [t for t in run.spec.leaves if t in run.tis])
            if final is None:
                continue
            await self.set_run_state(run, final, {"end_date": self.now})
            self.index.pop((run.dag_id, run.run_id), None)
            log.info("dag_run_finished", dag_id=run.dag_id, run_id=run.run_id, state=str(final))
            self.dispatch_callback(
                run, final, "success" if final == DagRunState.SUCCESS else "task_failure")

    def watch_timeout(self, run: RunRecord) -> None:
        """Arm the run's dagrun_timeout: due at its start plus the timeout (both in the DB)."""
        if run.spec.dagrun_timeout is not None and run.start_date is not None:
            self.run_deadlines.append((
                run.start_date + timedelta(seconds=run.spec.dagrun_timeout),
                (run.dag_id, run.run_id)))

    def dispatch_callback(self, run: RunRecord, final: DagRunState, reason: str) -> None:
        """Have a worker run the DAG's on_success/on_failure_callback for a finished run (the
        scheduler never runs user code); published after the commit, as every dispatch."""
        success = final == DagRunState.SUCCESS
        if not (run.spec.has_on_success_callback if success
                else run.spec.has_on_failure_callback):
            return
        self.dispatches.append(Dispatch(
            key=TIKey(run.dag_id, run.run_id, DAG_CALLBACK_TASK_ID), try_number=1,
            fileloc=run.spec.fileloc, queue=run.spec.callback_queue, max_tries=1,
            queued_at=self.now, logical_date=run.logical_date, conf=run.conf,
            callback="on_success_callback" if success else "on_failure_callback",
            callback_reason=reason))
