"""Domain values the core works with: a DAG's structure, dispatches, results, state changes.

No transport types here; servicers and adapters convert at their edges (convert.py).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flow.states import DagRunState, TaskInstanceState
from services.scheduler.core.priority import effective_weights


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
    # How much runs at once, and in which order (services/scheduler/core/admission.py).
    weight_rule: str = "downstream"
    max_active_tis_per_dag: int | None = None
    max_active_tis_per_dagrun: int | None = None
    depends_on_past: bool = False
    wait_for_downstream: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskSpec:
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
    max_active_tasks: int | None = None  # None: FLOW_CORE__MAX_ACTIVE_TASKS_PER_DAG

    @classmethod
    def from_json(cls, text: str) -> DagSpec:
        data = json.loads(text)
        tasks = [TaskSpec.from_json(t) for t in data.get("tasks", [])]
        return cls(data["dag_id"], data.get("fileloc") or "", {t.task_id: t for t in tasks},
                   dagrun_timeout=data.get("dagrun_timeout"),
                   has_on_success_callback=bool(data.get("has_on_success_callback")),
                   has_on_failure_callback=bool(data.get("has_on_failure_callback")),
                   params=dict(data.get("params") or {}),
                   max_active_tasks=data.get("max_active_tasks"))

    @functools.cached_property
    def priority_weights(self) -> dict[str, int]:
        """Each task's effective priority weight, by its weight_rule (computed once)."""
        return effective_weights(self.tasks)

    @property
    def callback_queue(self) -> str:
        """Where a DAG callback is dispatched: the queue of the DAG's first task."""
        first = next(iter(self.tasks.values()), None)
        return first.queue if first is not None else "default"

    @property
    def leaves(self) -> list[str]:
        return [t.task_id for t in self.tasks.values() if not t.downstream]


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
    tis: dict[str, TIRecord] = field(default_factory=dict)

    def states(self) -> dict[str, TaskInstanceState]:
        return {task_id: ti.state for task_id, ti in self.tis.items()}
