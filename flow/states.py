"""The vocabulary of task-instance and DAG-run states, as in Airflow.

Only names and sets live here; which transitions are allowed is decided in one place,
services/scheduler/core/state_machine.py.
"""

from __future__ import annotations

import enum


class TaskInstanceState(enum.StrEnum):
    """State of one task instance. NONE is Airflow's `None`: created, not yet scheduled."""

    NONE = "none"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    UP_FOR_RETRY = "up_for_retry"
    UP_FOR_RESCHEDULE = "up_for_reschedule"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"
    REMOVED = "removed"


class DagRunState(enum.StrEnum):
    """State of one DAG run."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"


class DagRunType(enum.StrEnum):
    """Why a DAG run exists; also the prefix of generated run ids."""

    MANUAL = "manual"
    SCHEDULED = "scheduled"
    BACKFILL = "backfill"
    ASSET_TRIGGERED = "asset_triggered"  # every asset of its schedule was updated


TI_FINISHED: frozenset[TaskInstanceState] = frozenset(
    {
        TaskInstanceState.SUCCESS,
        TaskInstanceState.FAILED,
        TaskInstanceState.SKIPPED,
        TaskInstanceState.UPSTREAM_FAILED,
        TaskInstanceState.REMOVED,
    }
)
TI_UNFINISHED: frozenset[TaskInstanceState] = frozenset(
    {
        TaskInstanceState.NONE,
        TaskInstanceState.SCHEDULED,
        TaskInstanceState.QUEUED,
        TaskInstanceState.RUNNING,
        TaskInstanceState.UP_FOR_RETRY,
        TaskInstanceState.UP_FOR_RESCHEDULE,
    }
)
TI_FAILED: frozenset[TaskInstanceState] = frozenset(
    {TaskInstanceState.FAILED, TaskInstanceState.UPSTREAM_FAILED}
)
RUN_FINISHED: frozenset[DagRunState] = frozenset({DagRunState.SUCCESS, DagRunState.FAILED})
RUN_UNFINISHED: frozenset[DagRunState] = frozenset({DagRunState.QUEUED, DagRunState.RUNNING})
