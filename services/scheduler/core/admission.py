"""How much runs at once: the one place that turns ready tasks into queued attempts.

A queued or running attempt holds its task's pool_slots of its pool, one of the DAG run's
max_active_tasks, one of its task's max_active_tis_per_dag and one of the installation's
parallelism. Once per batch, after its operations, the ready tasks and those already waiting
are taken by priority (effective priority_weight, then the run's logical date) and queued
while every limit has room; the others wait as SCHEDULED (a retry or a reschedule keeps its
state) and are taken again in the batch that frees a slot: no polling. Occupancy is counted
in memory from the run index, rebuilt from the DB with it, and kept current from each
batch's state changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from flow.states import TaskInstanceState
from services.scheduler import store
from services.scheduler.core.scheduling import PAST_OK, task_state
from services.scheduler.core.types import Change, Ref, RunRecord, TIKey
from services.scheduler.core.unit import RunIndex, UnitOfWork

log = structlog.get_logger(__name__)
TI = TaskInstanceState
DEFAULT_POOL = "default_pool"
ACTIVE = frozenset({TI.QUEUED, TI.RUNNING})
# States a ready task may wait in for a slot (a retry or a reschedule keeps its own).
WAITING = frozenset({TI.NONE, TI.SCHEDULED, TI.UP_FOR_RETRY, TI.UP_FOR_RESCHEDULE})


@dataclass(frozen=True)
class PoolUsage:
    """A pool's size and what holds or waits for its slots."""

    name: str
    slots: int
    description: str
    running: int  # slots held by running attempts
    queued: int  # slots held by queued attempts
    scheduled: int  # task instances waiting for a slot of this pool

    @property
    def open(self) -> int:
        return max(0, self.slots - self.running - self.queued)


@dataclass
class _Held:
    pool: str
    slots: int
    state: TaskInstanceState


class Admission:
    """Pools, limits and the waiting tasks; used only under the core's write lock."""

    def __init__(self, *, parallelism: int = 32, max_active_tasks_per_dag: int = 16) -> None:
        self.parallelism = parallelism  # 0: no limit
        self.max_active_tasks_per_dag = max_active_tasks_per_dag
        self.pools: dict[str, tuple[int, str]] = {}  # name -> (slots, description)
        self._held: dict[TIKey, _Held] = {}
        self._pool_used: Counter[str] = Counter()
        self._run_used: Counter[tuple[str, str]] = Counter()
        self._task_used: Counter[tuple[str, str]] = Counter()
        self._task_run_used: Counter[tuple[str, str, str]] = Counter()
        # key -> (state, try_number, pool) it waits in; an entry whose TI moved on is dropped.
        self.waiting: dict[TIKey, tuple[TaskInstanceState, int, str]] = {}
        self._warned: set[tuple[TIKey, str]] = set()
        self.dirty = True

    # --- occupancy ------------------------------------------------------------------------

    def rebuild(self, index: RunIndex, pools: dict[str, tuple[int, str]]) -> None:
        """Count occupancy and the waiting tasks afresh from the run index (start, reload)."""
        self.pools = dict(pools)
        self._held.clear()
        self._pool_used.clear()
        self._run_used.clear()
        self._task_used.clear()
        self._task_run_used.clear()
        self.waiting.clear()
        for run in index.values():
            for ti in run.tis.values():
                key = TIKey(run.dag_id, run.run_id, ti.task_id, ti.map_index)
                if ti.state in ACTIVE:
                    self._hold(run, key, ti.state)
                elif ti.state == TI.SCHEDULED and ti.task_id in run.spec.tasks:
                    self.waiting[key] = (ti.state, ti.try_number,
                                         run.spec.tasks[ti.task_id].pool)
        self.dirty = True

    def _hold(self, run: RunRecord, key: TIKey, state: TaskInstanceState) -> None:
        held = self._held.get(key)
        if held is not None:
            held.state = state
            return
        spec = run.spec.tasks.get(key.task_id)
        pool, slots = (spec.pool, spec.pool_slots) if spec else (DEFAULT_POOL, 1)
        self._held[key] = _Held(pool, slots, state)
        self._pool_used[pool] += slots
        self._run_used[(key.dag_id, key.run_id)] += 1
        self._task_used[(key.dag_id, key.task_id)] += 1
        self._task_run_used[(key.dag_id, key.run_id, key.task_id)] += 1

    def _release(self, key: TIKey) -> bool:
        held = self._held.pop(key, None)
        if held is None:
            return False
        _take(self._pool_used, held.pool, held.slots)
        _take(self._run_used, (key.dag_id, key.run_id), 1)
        _take(self._task_used, (key.dag_id, key.task_id), 1)
        _take(self._task_run_used, (key.dag_id, key.run_id, key.task_id), 1)
        return True

    def observe(self, index: RunIndex, changes: Iterable[Change]) -> None:
        """Follow a batch's task-instance changes: active ones hold slots, others free them."""
        for change in changes:
            if change.key is None or change.ti_state is None:
                continue
            if change.ti_state in ACTIVE:
                run = index.get((change.dag_id, change.run_id))
                if run is not None:
                    self._hold(run, change.key, change.ti_state)
            elif self._release(change.key):
                self.dirty = True

    @property
    def active(self) -> int:
        return len(self._held)

    def usage(self, name: str) -> PoolUsage | None:
        if name not in self.pools:
            return None
        slots, description = self.pools[name]
        running = sum(h.slots for h in self._held.values()
                      if h.pool == name and h.state == TI.RUNNING)
        queued = self._pool_used.get(name, 0) - running
        return PoolUsage(name, slots, description, running, queued, self._scheduled_in(name))

    def _scheduled_in(self, name: str) -> int:
        return sum(1 for _state, _try, pool in self.waiting.values() if pool == name)

    # --- admission ------------------------------------------------------------------------

    async def admit(self, unit: UnitOfWork) -> None:
        """Queue what the limits allow of the ready and waiting tasks, by priority; write the
        others SCHEDULED. Runs inside the batch's transaction, again after the batch started
        new runs: each time it observes only the changes made since its last pass."""
        changes = unit.changes[unit.admission_seen:]
        self.observe(unit.index, changes)
        new_ready = False  # tasks in state none: written scheduled if they cannot run now
        for run, ref in unit.ready:
            ti = run.tis.get(ref)
            if ti is not None and ti.state in WAITING:
                self.waiting[TIKey(run.dag_id, run.run_id, *ref)] = (
                    ti.state, ti.try_number, run.spec.tasks[ti.task_id].pool)
                self.dirty = True
                new_ready = new_ready or ti.state == TI.NONE
        unit.ready.clear()
        unit.admission_seen = len(unit.changes)
        if not self.waiting or not (self.dirty or changes):
            return
        if self.parallelism and self.active >= self.parallelism and not new_ready:
            return  # no slot anywhere (a batch of claims only, say): nothing to decide
        self.dirty = False
        entries = []
        for key, (state, try_number, _pool) in list(self.waiting.items()):
            found = unit.index.get((key.dag_id, key.run_id))
            ti = found.tis.get((key.task_id, key.map_index)) if found else None
            if found is None or ti is None or ti.state != state or ti.try_number != try_number:
                del self.waiting[key]  # it moved on: cleared, marked, skipped, its run ended
                continue
            entries.append((-found.spec.priority_weights.get(key.task_id, 1),
                            found.logical_date, key.run_id, key.task_id, key, found))
        entries.sort(key=lambda e: e[:4])
        admitted: dict[tuple[str, str], tuple[RunRecord, list[Ref]]] = {}
        scheduled: dict[tuple[str, str], tuple[RunRecord, list[Ref]]] = {}
        for *_sort, key, run in entries:
            ref = (key.task_id, key.map_index)
            state = run.tis[ref].state
            full = bool(self.parallelism) and self.active >= self.parallelism
            if full and state != TI.NONE:
                continue
            if not full and await self._may_run(unit, run, key):
                self._hold(run, key, TI.QUEUED)
                del self.waiting[key]
                admitted.setdefault((run.dag_id, run.run_id), (run, []))[1].append(ref)
            elif state == TI.NONE:
                scheduled.setdefault((run.dag_id, run.run_id), (run, []))[1].append(ref)
        for run, refs in admitted.values():
            await unit.queue_now(run, refs)
        for run, refs in scheduled.values():
            await unit.set_state(run, refs, TI.SCHEDULED)
            for ref in refs:
                key = TIKey(run.dag_id, run.run_id, *ref)
                self.waiting[key] = (TI.SCHEDULED, run.tis[ref].try_number,
                                     run.spec.tasks[ref[0]].pool)
        # Its own changes: the admitted are held already, the scheduled hold nothing.
        unit.admission_seen = len(unit.changes)

    async def _may_run(self, unit: UnitOfWork, run: RunRecord, key: TIKey) -> bool:
        spec = run.spec.tasks[key.task_id]
        pool = self.pools.get(spec.pool)
        if pool is None:
            self._warn(key, "task_pool_unknown", pool=spec.pool,
                       hint=f"create it: flowcli pools set {spec.pool} SLOTS DESCRIPTION")
            return False
        if spec.pool_slots > pool[0]:
            self._warn(key, "task_pool_slots_exceed_pool", pool=spec.pool,
                       pool_slots=spec.pool_slots, slots=pool[0])
            return False
        if self._pool_used[spec.pool] + spec.pool_slots > pool[0]:
            return False
        limit = run.spec.max_active_tasks or self.max_active_tasks_per_dag
        if self._run_used[(key.dag_id, key.run_id)] >= limit:
            return False
        if (spec.max_active_tis_per_dag is not None
                and self._task_used[(key.dag_id, key.task_id)] >= spec.max_active_tis_per_dag):
            return False
        if (spec.max_active_tis_per_dagrun is not None
                and self._task_run_used[(key.dag_id, key.run_id, key.task_id)]
                >= spec.max_active_tis_per_dagrun):
            return False
        if spec.depends_on_past or spec.wait_for_downstream:
            return await self._past_ok(unit, run, key.task_id)
        return True

    def _warn(self, key: TIKey, event: str, **values: object) -> None:
        if (key, event) not in self._warned:
            if len(self._warned) > 10_000:  # a bound, not a cache: warn again after it
                self._warned.clear()
            self._warned.add((key, event))
            log.warning(event, dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id,
                        **values)

    async def _past_ok(self, unit: UnitOfWork, run: RunRecord, task_id: str) -> bool:
        """depends_on_past: the task's instance in the previous run (by logical date) succeeded
        or was skipped; with wait_for_downstream, so did that instance's direct downstream
        ones. A first run, or a previous run without the task, passes (Airflow's rules)."""
        spec = run.spec.tasks[task_id]
        wanted = [task_id, *(spec.downstream if spec.wait_for_downstream else ())]
        states = await previous_states(unit.session, unit.index, run, wanted)
        return states is None or all(states.get(t, TI.SUCCESS) in PAST_OK for t in wanted)

    def forget(self, keys: Sequence[TIKey]) -> None:
        for key in keys:
            self.waiting.pop(key, None)


def _take(counter: Counter[Any], name: Any, amount: int) -> None:
    counter[name] -= amount
    if counter[name] <= 0:
        del counter[name]


async def previous_states(session: AsyncSession, index: RunIndex, run: RunRecord,
                          task_ids: Sequence[str]) -> dict[str, TaskInstanceState] | None:
    """The states of `task_ids` in the run of the same DAG just before `run` by logical date
    (None when there is none): from the index when that run is active, else from the DB."""
    previous = await store.previous_run_id(session, run.dag_id, run.logical_date)
    if previous is None:
        return None
    active = index.get((run.dag_id, previous))
    if active is not None:
        return {t: task_state([ti.state for ti in active.task_tis(t)])
                for t in task_ids if active.task_tis(t)}
    return await store.ti_states(session, run.dag_id, previous, task_ids)

