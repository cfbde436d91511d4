"""Domain values the core works with: a DAG's structure, dispatches, results, state changes.

No transport types here; servicers and adapters convert at their edges (convert.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flow.states import DagRunState, TaskInstanceState


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
                   is_paused_upon_creation=data.get("is_paused_upon_creation"))

    @property
    def callback_queue(self) -> str:
        """Where a DAG callback is dispatched: the queue of the DAG's first task."""
        first = next(iter(self.tasks.values()), None)
        return first.queue if first is not None else "default"

    @property
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
    backfill_id: int | None = None
    tis: dict[str, TIRecord] = field(default_factory=dict)

    def states(self) -> dict[str, TaskInstanceState]:
        return {task_id: ti.state for task_id, ti in self.tis.items()}
