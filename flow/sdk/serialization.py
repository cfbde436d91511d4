"""The serialized structure of a DAG: what the scheduler stores (never the DAG's code).

The shape is a plain JSON object, versioned by SERIALIZATION_VERSION:
{"dag_id", "fileloc", "description", "schedule", "timezone", "start_date", "end_date",
 "catchup", "is_paused_upon_creation", "tags",
 "owners", "max_active_runs", "max_active_tasks", "dagrun_timeout", "doc_md", "params",
 "has_on_success_callback", "has_on_failure_callback",
 "tasks": [{"task_id", "operator", "upstream_task_ids", "downstream_task_ids", "trigger_rule",
            "queue", "pool", "pool_slots", "priority_weight", "weight_rule", "retries",
            "retry_delay", "retry_exponential_backoff", "max_retry_delay", "execution_timeout",
            "owner", "doc_md", "depends_on_past", "wait_for_downstream", "max_active_tis_per_dag",
            "max_active_tis_per_dagrun", "has_callbacks", "expand"?}]}
A mapped task has "expand": {"kind": "dict"|"list", "sources": [{"length": n} |
{"task_id", "key"}]}: what the scheduler counts to create its instances (their product).
Durations are seconds (float or null); datetimes are ISO 8601 strings with offset.
Tasks are in topological order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flow.sdk.assets import asset_uris, is_asset_schedule
from flow.sdk.baseoperator import BaseOperator
from flow.sdk.dag import DAG
from flow.sdk.mapped import MappedOperator, serialize_expand
from flow.sdk.param import serialize_params
from flow.sdk.timetables import serialize_schedule

SERIALIZATION_VERSION = 1


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()



def serialize_task(task: BaseOperator) -> dict[str, Any]:
    data = _serialize_task(task)
    if isinstance(task, MappedOperator):
        data["expand"] = serialize_expand(task.expand_input)
    return data


def _serialize_task(task: BaseOperator) -> dict[str, Any]:
    return {
        # The assets a success of the task updates.
        "outlets": asset_uris(task.outlets),
        "task_id": task.task_id,
        "operator": task.operator_name,
        "upstream_task_ids": sorted(task.upstream_task_ids),
        "downstream_task_ids": sorted(task.downstream_task_ids),
        "trigger_rule": str(task.trigger_rule),
        "queue": task.queue,
        "pool": task.pool,
        "pool_slots": task.pool_slots,
        "priority_weight": task.priority_weight,
        "weight_rule": task.weight_rule,
        "retries": task.retries,
        "retry_delay": _seconds(task.retry_delay),
        "retry_exponential_backoff": task.retry_exponential_backoff,
        "max_retry_delay": _seconds(task.max_retry_delay),
        "execution_timeout": _seconds(task.execution_timeout),
        "owner": task.owner,
        "doc_md": task.doc_md,
        "depends_on_past": task.depends_on_past,
        "wait_for_downstream": task.wait_for_downstream,
        "max_active_tis_per_dag": task.max_active_tis_per_dag,
        "max_active_tis_per_dagrun": task.max_active_tis_per_dagrun,
        # An EmptyOperator without callbacks is finished by the scheduler (as Airflow does).
        "has_callbacks": any(getattr(task, name, None) is not None for name in (
            "on_execute_callback", "on_success_callback", "on_failure_callback",
            "on_retry_callback")),
    }


def serialize_dag(dag: DAG) -> dict[str, Any]:
    """The JSON-ready structure of `dag` (raises DagCycleError on a cycle)."""
    return {
        "version": SERIALIZATION_VERSION,
        "dag_id": dag.dag_id,
        "fileloc": dag.fileloc,
        "description": dag.description,
        "schedule": serialize_schedule(dag.schedule),
        # The assets whose updates trigger runs (data-aware scheduling); [] when timed.
        "asset_schedule": asset_uris(dag.schedule) if is_asset_schedule(dag.schedule) else [],
        "timezone": dag.timezone,
        "start_date": _iso(dag.start_date),
        "end_date": _iso(dag.end_date),
        "catchup": dag.catchup,
        "is_paused_upon_creation": dag.is_paused_upon_creation,
        "tags": list(dag.tags),
        "owners": sorted({t.owner for t in dag.tasks}),
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "dagrun_timeout": _seconds(dag.dagrun_timeout),
        "doc_md": dag.doc_md,
        "params": serialize_params(dag.params),
        # Whether the scheduler should have a worker run a DAG callback when a run ends.
        "has_on_success_callback": dag.on_success_callback is not None,
        "has_on_failure_callback": dag.on_failure_callback is not None,
        "tasks": [serialize_task(t) for t in dag.topological_sort()],
    }
