"""One unit of work: guarded transitions inside one transaction, mirrored in the run index.

A finished task re-evaluates only its downstream tasks (work proportional to out-degree).
What must happen after the commit (dispatches, change notices, retry timers) is collected.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from flow.bus import subjects
from flow.sdk.mapped import MAX_MAP_LENGTH
from flow.states import DagRunState, TaskInstanceState
from services.scheduler import store
from services.scheduler.core.scheduling import Decision, evaluate_trigger_rule, run_final_state
from services.scheduler.core.types import (
    Change,
    DagSpec,
    Dispatch,
    Ref,
    RunRecord,
    TaskSpec,
    TIKey,
    TIRecord,
)

log = structlog.get_logger(__name__)
TI = TaskInstanceState
EMPTY_OPERATOR = "EmptyOperator"
# The key a DAG callback's dispatch and log are filed under (no task of the DAG).
DAG_CALLBACK_TASK_ID = "__dag_callback__"
RunIndex = dict[tuple[str, str], RunRecord]


def ti_row(run: RunRecord, spec: TaskSpec, map_index: int = -1) -> dict[str, Any]:
    """The row of a new task instance (state none, no try yet)."""
    return {
        "dag_id": run.dag_id, "run_id": run.run_id, "task_id": spec.task_id,
        "map_index": map_index, "try_number": 0, "max_tries": spec.retries + 1,
        "state": TI.NONE, "operator": spec.operator, "queue": spec.queue, "pool": spec.pool,
        "pool_slots": spec.pool_slots, "priority_weight": spec.priority_weight,
        "hostname": "", "worker_id": ""}


class IndexOutOfSyncError(Exception):
    """A guarded write changed fewer rows than the index expected: reload and retry."""


class UnitOfWork:
    """Transitions of one batch; `session` is inside the batch's transaction."""

    def __init__(self, session: AsyncSession, index: RunIndex, now: datetime, *,
                 max_map_length: int = MAX_MAP_LENGTH) -> None:
        self.session = session
        self.index = index
        self.now = now
        self.max_map_length = max_map_length  # [core] max_map_length
        self.dispatches: list[Dispatch] = []
        self.changes: list[Change] = []
        self.retries: list[tuple[datetime, TIKey]] = []
        # dagrun_timeout deadlines of runs started in this unit (added to the timer after commit)
        self.run_deadlines: list[tuple[datetime, tuple[str, str]]] = []
        # Running attempts to stop after the commit: (worker_id, attempt key).
        self.cancels: list[tuple[str, str]] = []
        self.touched: dict[tuple[str, str], RunRecord] = {}
        # DAGs whose queued runs may start now and more be made: a run of theirs ended
        # (freeing a slot) or went back to queued (a clear of a finished run).
        self.freed: dict[str, DagSpec] = {}
        self.freed_backfills: set[int] = set()  # backfills whose runs ended: complete?
        # Cron ticks to arm after the commit: (when, dag_id); due times are in the DB too.
        self.dag_ticks: list[tuple[datetime, str]] = []
        # DAGs scheduled on an asset this unit updated: may their asset-triggered run start?
        self.asset_updated: set[str] = set()
        # Instances ready to run, in the order they became ready; admitted after the ops.
        self.ready: list[tuple[RunRecord, Ref]] = []
        self.admission_seen = 0  # how many of `changes` the admission step has observed
        self._history: list[dict[str, Any]] = []

    async def finish_tries(self, finished: Sequence[tuple[RunRecord, Ref, TaskInstanceState,
                                                          dict[str, Any]]]) -> None:
        """Guarded writes of many finished tries (one statement per target state), then the
        same in the index. Each item: run, instance, target, and start/end/duration/retry."""
        by_target: dict[TaskInstanceState, list[dict[str, Any]]] = {}
        for run, ref, target, values in finished:
            ti = run.tis[ref]
            by_target.setdefault(target, []).append({
                "b_dag_id": run.dag_id, "b_run_id": run.run_id, "b_task_id": ti.task_id,
                "b_map_index": ti.map_index, "b_try_number": ti.try_number,
                "b_start_date": values.get("start_date", ti.start_date),
                "b_end_date": values["end_date"], "b_duration": values["duration"],
                "b_next_retry_at": values.get("next_retry_at")})
        for target, rows in by_target.items():
            count = await store.finish_tries(self.session, target, rows)
            if count != len(rows):
                raise IndexOutOfSyncError(f"{count} of {len(rows)} tries moved to {target}")
        for run, ref, target, _values in finished:
            ti = run.tis[ref]
            ti.state = target
            self.changes.append(Change(run.dag_id, run.run_id, run.state, self.now,
                                       self.key(run, ref), ti.try_number, target))
            self.touched[(run.dag_id, run.run_id)] = run

    def add_history(self, row: dict[str, Any]) -> None:
        """Record one finished try; written with the others of the batch in one statement."""
        self._history.append(row)

    async def write_history(self) -> None:
        rows, self._history = self._history, []
        await store.add_history(self.session, rows)

    def key(self, run: RunRecord, ref: Ref) -> TIKey:
        return TIKey(run.dag_id, run.run_id, ref[0], ref[1])

    def stop_running(self, run: RunRecord, tis: Iterable[TIRecord] | None = None) -> None:
        """Ask the workers to stop these (default: all the run's) task instances that are
        running, once the unit committed; their late results are then stale."""
        self.cancels.extend(
            (ti.worker_id, subjects.attempt_key(run.dag_id, run.run_id, ti.task_id,
                                                ti.map_index, ti.try_number))
            for ti in (run.tis.values() if tis is None else tis)
            if ti.state == TaskInstanceState.RUNNING and ti.worker_id)

    async def set_state(
        self, run: RunRecord, refs: Sequence[Ref], target: TaskInstanceState,
        values: dict[str, Any] | None = None, *, try_number: int | None = None,
        sources: frozenset[TaskInstanceState] | None = None,
    ) -> None:
        """Guarded write of `target` for the instances `refs`, then the same in the index."""
        if not refs:
            return
        count = await store.transition_tis(self.session, run.dag_id, run.run_id, refs,
                                           target, values, try_number=try_number,
                                           sources=sources)
        if count != len(refs):
            raise IndexOutOfSyncError(
                f"{run.dag_id}/{run.run_id}: {count} of {len(refs)} rows moved to {target}")
        for ref in refs:
            ti = run.tis[ref]
            ti.state = target
            self.changes.append(Change(run.dag_id, run.run_id, run.state, self.now,
                                       self.key(run, ref), ti.try_number, target))
        self.touched[(run.dag_id, run.run_id)] = run

    async def queue(self, run: RunRecord, refs: Sequence[Ref]) -> None:
        """Instances whose trigger rule passed (or whose retry or reschedule is due) become
        ready; EmptyOperator succeeds without dispatch. Which ready instances are queued now,
        and which wait as SCHEDULED for a slot, is decided once per batch
        (core/admission.py)."""
        # As Airflow: an EmptyOperator with callbacks or outlets runs on a worker (for its
        # callbacks; its success updates its assets like any task's).
        empties = [r for r in refs if run.spec.tasks[r[0]].operator == EMPTY_OPERATOR
                   and not run.spec.tasks[r[0]].has_callbacks
                   and not run.spec.tasks[r[0]].outlets]
        self.ready.extend((run, r) for r in refs if r not in empties)
        if empties:
            await self.set_state(run, empties, TI.SUCCESS, {
                "start_date": self.now, "end_date": self.now, "duration": 0.0})
            await self.cascade(run, list(dict.fromkeys(t for t, _ in empties)))

    async def queue_now(self, run: RunRecord, refs: Sequence[Ref]) -> None:
        """Queue admitted instances and collect their dispatches. A new try takes the next
        try number; a rescheduled sensor keeps its try and the start of its first poke."""
        again = [r for r in refs if run.tis[r].state == TI.UP_FOR_RESCHEDULE]
        others = [r for r in refs if r not in again]
        if others:
            for ref in others:
                run.tis[ref].try_number += 1
                run.tis[ref].next_retry_at = None
                run.tis[ref].start_date = None
            await self.set_state(run, others, TI.QUEUED, {
                "try_number": store.NEXT_TRY, "queued_at": self.now,
                "next_retry_at": None, "start_date": None, "end_date": None, "duration": None,
                "hostname": "", "worker_id": ""})
        if again:
            for ref in again:
                run.tis[ref].next_retry_at = None
            await self.set_state(run, again, TI.QUEUED, {
                "queued_at": self.now, "next_retry_at": None, "end_date": None,
                "duration": None, "hostname": "", "worker_id": ""})
        for ref in [*others, *again]:
            spec, ti = run.spec.tasks[ref[0]], run.tis[ref]
            if ti.try_number > 1 and ref not in again:
                await store.delete_xcoms(self.session, self.key(run, ref))
            self.dispatches.append(Dispatch(
                key=self.key(run, ref), try_number=ti.try_number, fileloc=run.spec.fileloc,
                queue=spec.queue, max_tries=ti.max_tries, queued_at=self.now,
                logical_date=run.logical_date, conf=run.conf,
                execution_timeout=spec.execution_timeout, rescheduled=ref in again))

    async def cascade(self, run: RunRecord, finished: Sequence[str]) -> None:
        """Evaluate the downstream tasks of `finished` ones, and theirs when decided in turn."""
        work = deque(finished)
        while work:
            spec = run.spec.tasks.get(work.popleft())
            for task_id in spec.downstream if spec else ():
                await self._evaluate(run, task_id, work)

    async def _evaluate(self, run: RunRecord, task_id: str, work: deque[str]) -> None:
        spec = run.spec.tasks.get(task_id)
        waiting = [ti.ref for ti in run.task_tis(task_id) if ti.state != TI.REMOVED]
        if spec is None or not waiting or any(
                run.tis[r].state not in (TI.NONE, TI.SCHEDULED) for r in waiting):
            return
        # Every instance of a mapped upstream task counts, as in Airflow.
        upstream = [ti.state for u in spec.upstream for ti in run.task_tis(u)]
        decision = evaluate_trigger_rule(spec.trigger_rule, upstream)
        if decision is Decision.RUN:
            if spec.map_sources is None:
                await self.queue(run, waiting)
            elif await self.expand(run, task_id):
                work.append(task_id)
        elif decision is not Decision.WAIT:
            target = TI.SKIPPED if decision is Decision.SKIP else TI.UPSTREAM_FAILED
            await self.set_state(run, waiting, target, {"end_date": self.now})
            work.append(task_id)

    async def expand(self, run: RunRecord, task_id: str) -> bool:
        """Create and queue the instances of a mapped task (map_index 0..n-1), as many as the
        product of its sources' lengths, as Airflow's. True when that decided the task
        without running it: zero elements skip it; an input it cannot map over fails it
        (upstream_failed) with the reason logged."""
        spec = run.spec.tasks[task_id]
        length, problem = await self._map_length(run, spec)
        current = [ti for ti in run.task_tis(task_id) if ti.state in (TI.NONE, TI.SCHEDULED)]
        if problem or length == 0:
            target = TI.UPSTREAM_FAILED if problem else TI.SKIPPED
            if problem:
                log.warning("task_mapping_failed", dag_id=run.dag_id, run_id=run.run_id,
                            task_id=task_id, reason=problem)
            await self.set_state(run, [ti.ref for ti in current], target, {"end_date": self.now})
            return True
        count = run.map_counts.get(task_id)
        if count is None:  # first expansion: instances 0..n-1 replace the placeholder (-1)
            if await store.drop_unexpanded_ti(self.session, run.dag_id, run.run_id,
                                              task_id) != 1:
                raise IndexOutOfSyncError(f"{run.dag_id}/{run.run_id}: {task_id} not expanded")
            del run.tis[(task_id, -1)]
            count = 0
        if length > count:
            await store.insert_tis(self.session, [
                ti_row(run, spec, i) for i in range(count, length)])
            for i in range(count, length):
                run.add_ti(TIRecord(task_id, TI.NONE, 0, spec.retries + 1, map_index=i))
        # Instances beyond the new length (after a clear) are removed, as Airflow's.
        await self.set_state(run, [(task_id, i) for i in range(length, count)
                                   if run.tis[(task_id, i)].state in (TI.NONE, TI.SCHEDULED)],
                             TI.REMOVED, {"end_date": self.now})
        await self.set_state(run, [(task_id, i) for i in range(length)
                                   if run.tis[(task_id, i)].state == TI.REMOVED], TI.NONE)
        log.info("task_expanded", dag_id=run.dag_id, run_id=run.run_id, task_id=task_id,
                 instances=length)
        await self.queue(run, [(task_id, i) for i in range(length)
                               if run.tis[(task_id, i)].state in (TI.NONE, TI.SCHEDULED)])
        return False

    async def _map_length(self, run: RunRecord, spec: TaskSpec) -> tuple[int, str]:
        """How many instances the mapped task has now, or why it cannot be mapped."""
        total = 1
        for source in spec.map_sources or ():
            length = source.length
            if length is None:
                length, problem = await self._xcom_length(run, source.task_id, source.key)
                if problem:
                    return 0, problem
            total *= length
        if total > self.max_map_length:
            return 0, (f"it maps over {total} elements; at most {self.max_map_length} are "
                       "allowed (FLOW_CORE__MAX_MAP_LENGTH)")
        return total, ""

    async def _xcom_length(self, run: RunRecord, task_id: str, key: str) -> tuple[int, str]:
        if task_id in run.map_counts:  # a mapped upstream: one element per instance's value
            return len(await store.mapped_xcoms(self.session, run.dag_id, run.run_id,
                                                task_id, key)), ""
        row = await store.get_xcom(self.session, TIKey(run.dag_id, run.run_id, task_id), key)
        if row is None:
            return 0, f"task '{task_id}' did not push XCom '{key}' for task mapping"
        try:
            value = json.loads(row.value)
        except ValueError:
            return 0, f"XCom '{key}' of task '{task_id}' is not JSON"
        if not isinstance(value, list | dict):
            return 0, (f"XCom '{key}' of task '{task_id}' has unmappable type "
                       f"{type(value).__name__!r}; map over a list or a dict")
        return len(value), ""

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
        roots = [t for t in run.spec.tasks.values()
                 if not t.upstream and (t.task_id, -1) in run.tis]
        await self.queue(run, [(t.task_id, -1) for t in roots if t.map_sources is None])
        decided = [t.task_id for t in roots
                   if t.map_sources is not None and await self.expand(run, t.task_id)]
        await self.cascade(run, decided)

    async def set_run_state(self, run: RunRecord, target: DagRunState,
                            values: dict[str, Any], *,
                            sources: frozenset[DagRunState] | None = None) -> None:
        if await store.transition_run(self.session, run.id, target, values,
                                      sources=sources) != 1:
            raise IndexOutOfSyncError(f"{run.dag_id}/{run.run_id}: run not moved to {target}")
        run.state = target
        for name, value in values.items():
            setattr(run, name, value)
        self.changes.append(Change(run.dag_id, run.run_id, target, self.now))
        if target in (DagRunState.SUCCESS, DagRunState.FAILED):
            self.freed[run.dag_id] = run.spec
            if run.backfill_id is not None:
                self.freed_backfills.add(run.backfill_id)

    async def finish_runs(self) -> None:
        """Finish every touched run whose task instances all finished (decided by its leaves)."""
        for run in self.touched.values():
            if run.state != DagRunState.RUNNING or run.has_unfinished():
                continue
            final = run_final_state(run.states(), run.spec.leaves)
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
