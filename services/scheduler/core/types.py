"""Domain values the core works with: a DAG's structure, dispatches, results, state changes.

No transport types here; servicers and adapters convert at their edges (convert.py).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flow.states import TI_FINISHED, DagRunState, TaskInstanceState
from services.scheduler.core.priority import effective_weights

# One task instance of a run: (task_id, map_index); map_index -1 unless the task is mapped.
Ref = tuple[str, int]


@dataclass(frozen=True)
class MapSource:
    """One thing a mapped task maps over: a literal of `length` elements, or the XCom `key`
    of task `task_id` (counted when the mapped task is about to run)."""

    length: int | None = None
    task_id: str = ""
    key: str = "return_value"


@dataclass(frozen=True)
class TaskSpec:
    """What the scheduler needs of one task, from its serialized DAG."""

    task_id: str
    operator: str = "BaseOperator"
    upstream: tuple[str, ...] = ()
    downstream: tuple[str, ...] = ()
    trigger_rule: str = "all_success"
    queue: str = "default"
    pool: str = "default_pool"
    pool_slots: int = 1
    priority_weight: int = 1
    retries: int = 0
    retry_delay: float | None = None
    retry_exponential_backoff: bool = False
    max_retry_delay: float | None = None
    execution_timeout: float | None = None
    has_callbacks: bool = False
    # Set for a mapped task: its instances are the product of these sources' lengths.
    map_sources: tuple[MapSource, ...] | None = None
    outlets: tuple[str, ...] = ()  # URIs of the assets its success updates
    # How much runs at once, and in which order (services/scheduler/core/admission.py).
    weight_rule: str = "downstream"
    max_active_tis_per_dag: int | None = None
    max_active_tis_per_dagrun: int | None = None
    depends_on_past: bool = False
    wait_for_downstream: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskSpec:
        expand = data.get("expand")
        return cls(
            task_id=data["task_id"],
            operator=data.get("operator") or "BaseOperator",
            upstream=tuple(data.get("upstream_task_ids") or ()),
            downstream=tuple(data.get("downstream_task_ids") or ()),
            trigger_rule=data.get("trigger_rule") or "all_success",
            queue=data.get("queue") or "default",
            pool=data.get("pool") or "default_pool",
            pool_slots=int(data.get("pool_slots") or 1),
            priority_weight=int(data.get("priority_weight") or 1),
            retries=int(data.get("retries") or 0),
            retry_delay=data.get("retry_delay"),
            retry_exponential_backoff=bool(data.get("retry_exponential_backoff")),
            max_retry_delay=data.get("max_retry_delay"),
            execution_timeout=data.get("execution_timeout"),
            has_callbacks=bool(data.get("has_callbacks")),
            outlets=tuple(data.get("outlets") or ()),
            map_sources=None if expand is None else tuple(
                MapSource(length=s.get("length"), task_id=s.get("task_id") or "",
                          key=s.get("key") or "return_value")
                for s in expand.get("sources") or ()),
            weight_rule=data.get("weight_rule") or "downstream",
            max_active_tis_per_dag=data.get("max_active_tis_per_dag"),
            max_active_tis_per_dagrun=data.get("max_active_tis_per_dagrun"),
            depends_on_past=bool(data.get("depends_on_past")),
            wait_for_downstream=bool(data.get("wait_for_downstream")),
        )


@dataclass(frozen=True)
class DagSpec:
    """A DAG's structure: its tasks in topological order, keyed by id."""

    dag_id: str
    fileloc: str
    tasks: dict[str, TaskSpec]
    dagrun_timeout: float | None = None
    has_on_success_callback: bool = False
    has_on_failure_callback: bool = False
    # name -> {"default"?, "schema", "description"} (flow.sdk.param.serialize_params)
    params: dict[str, Any] = field(default_factory=dict)
    # When runs are created (flow.sdk.timetables): the stored schedule and its bounds.
    schedule: str | None = None
    timezone: str = "UTC"
    start_date: datetime | None = None
    end_date: datetime | None = None
    catchup: bool = False
    max_active_runs: int = 16
    is_paused_upon_creation: bool | None = None
    max_active_tasks: int | None = None  # None: FLOW_CORE__MAX_ACTIVE_TASKS_PER_DAG
    asset_schedule: tuple[str, ...] = ()  # URIs: runs when all were updated (data-aware)
    # For a DAG submitted as data (fileloc "dagspec:<dag_id>"): the spec version it was built
    # from, so that a claim answers that version's task.
    spec_version: int = 0

    @classmethod
    def from_json(cls, text: str) -> DagSpec:
        data = json.loads(text)
        tasks = [TaskSpec.from_json(t) for t in data.get("tasks", [])]
        return cls(data["dag_id"], data.get("fileloc") or "", {t.task_id: t for t in tasks},
                   dagrun_timeout=data.get("dagrun_timeout"),
                   has_on_success_callback=bool(data.get("has_on_success_callback")),
                   has_on_failure_callback=bool(data.get("has_on_failure_callback")),
                   params=dict(data.get("params") or {}),
                   schedule=data.get("schedule"), timezone=data.get("timezone") or "UTC",
                   start_date=_date(data.get("start_date")),
                   end_date=_date(data.get("end_date")), catchup=bool(data.get("catchup")),
                   max_active_runs=int(data.get("max_active_runs") or 16),
                   is_paused_upon_creation=data.get("is_paused_upon_creation"),
                   max_active_tasks=data.get("max_active_tasks"),
                   asset_schedule=tuple(data.get("asset_schedule") or ()),
                   spec_version=int(data.get("dag_spec_version") or 0))

    @functools.cached_property
    def priority_weights(self) -> dict[str, int]:
        """Each task's effective priority weight, by its weight_rule (computed once)."""
        return effective_weights(self.tasks)

    @property
    def callback_queue(self) -> str:
        """Where a DAG callback is dispatched: the queue of the DAG's first task."""
        first = next(iter(self.tasks.values()), None)
        return first.queue if first is not None else "default"

    @functools.cached_property
    def leaves(self) -> list[str]:
        return [t.task_id for t in self.tasks.values() if not t.downstream]


def _date(value: str | None) -> datetime | None:
    """A stored ISO date; one without an offset (a naive start_date) is UTC, as Airflow."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TIKey:
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1


@dataclass(frozen=True)
class Dispatch:
    """One attempt to publish on its queue, after the commit that queued it."""

    key: TIKey
    try_number: int
    fileloc: str
    queue: str
    max_tries: int
    queued_at: datetime
    logical_date: datetime
    conf: dict[str, Any]
    execution_timeout: float | None = None
    # When set: run the DAG's callback of this name (e.g. "on_failure_callback"), not a task.
    callback: str = ""
    callback_reason: str = ""
    rescheduled: bool = False  # the same try again, after a sensor's reschedule


@dataclass(frozen=True)
class TaskResult:
    """How an attempt ended, as a worker reported it (or as liveness decided)."""

    key: TIKey
    try_number: int
    state: TaskInstanceState
    start_date: datetime | None = None
    end_date: datetime | None = None
    worker_id: str = ""
    error: str = ""
    non_retryable: bool = False
    # Tasks of the run the attempt skipped (branching, short circuits); applied with it.
    skip_task_ids: tuple[str, ...] = ()
    rendered_fields: dict[str, Any] | None = None  # template field -> rendered value
    reschedule_date: datetime | None = None  # with UP_FOR_RESCHEDULE: when to poke again


@dataclass(frozen=True)
class Change:
    """A committed state change, for WatchStateChanges."""

    dag_id: str
    run_id: str
    run_state: DagRunState
    timestamp: datetime
    key: TIKey | None = None
    try_number: int = 0
    ti_state: TaskInstanceState | None = None


@dataclass
class TIRecord:
    """The index's view of one task instance."""

    task_id: str
    state: TaskInstanceState
    try_number: int
    max_tries: int
    worker_id: str = ""
    start_date: datetime | None = None
    next_retry_at: datetime | None = None
    map_index: int = -1

    @property
    def ref(self) -> Ref:
        return (self.task_id, self.map_index)


@dataclass
class RunRecord:
    """The index's view of one active run (attribute names match the DagRun model)."""

    id: int
    dag_id: str
    run_id: str
    state: DagRunState
    run_type: str
    logical_date: datetime
    spec: DagSpec
    conf: dict[str, Any] = field(default_factory=dict)
    queued_at: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    backfill_id: int | None = None
    tis: dict[Ref, TIRecord] = field(default_factory=dict)
    # Mapped tasks already expanded: how many instances each has (map_index 0..n-1).
    map_counts: dict[str, int] = field(default_factory=dict)
    _unfinished: Ref | None = field(default=None, repr=False, compare=False)

    def add_ti(self, ti: TIRecord) -> None:
        self.tis[ti.ref] = ti
        if ti.map_index >= 0:
            self.map_counts[ti.task_id] = max(self.map_counts.get(ti.task_id, 0),
                                              ti.map_index + 1)

    def task_tis(self, task_id: str) -> list[TIRecord]:
        """The task's instances: its one (map_index -1), or every expanded one, in order."""
        count = self.map_counts.get(task_id)
        if count is None:
            ti = self.tis.get((task_id, -1))
            return [] if ti is None else [ti]
        return [self.tis[(task_id, i)] for i in range(count) if (task_id, i) in self.tis]

    def states(self) -> list[tuple[str, TaskInstanceState]]:
        """(task_id, state) of every task instance."""
        return [(task_id, ti.state) for (task_id, _), ti in self.tis.items()]

    def has_unfinished(self) -> bool:
        """Whether some task instance has not finished. Asked after every batch that touched
        the run: it first looks at the instance it found unfinished last time, and otherwise
        searches from the newest (the last to finish, usually), so a big run costs O(1) per
        question rather than a walk over every instance."""
        hint = self.tis.get(self._unfinished) if self._unfinished is not None else None
        if hint is not None and hint.state not in TI_FINISHED:
            return True
        for ref in reversed(self.tis):
            if self.tis[ref].state not in TI_FINISHED:
                self._unfinished = ref
                return True
        return False
