"""THE one table of allowed task-instance and DAG-run transitions (DESIGN invariant 4).

Every state write in the scheduler is guarded in SQL by `state IN allowed_sources(target)`,
so a write that lost a race changes no row and is noticed by its row count.
"""

from __future__ import annotations

from collections.abc import Mapping

from flow.errors import FailedPreconditionError
from flow.states import DagRunState, TaskInstanceState

TI = TaskInstanceState
RUN = DagRunState

# target state -> the states a task instance may come from.
TI_TRANSITIONS: Mapping[TaskInstanceState, frozenset[TaskInstanceState]] = {
    TI.SCHEDULED: frozenset({TI.NONE}),
    # queued: first try (none/scheduled), retry after its delay (up_for_retry), reschedule.
    TI.QUEUED: frozenset({TI.NONE, TI.SCHEDULED, TI.UP_FOR_RETRY, TI.UP_FOR_RESCHEDULE}),
    TI.RUNNING: frozenset({TI.QUEUED}),
    # success from running (a worker's result) or from none (EmptyOperator, no dispatch).
    TI.SUCCESS: frozenset({TI.RUNNING, TI.NONE, TI.SCHEDULED}),
    TI.FAILED: frozenset({TI.RUNNING, TI.QUEUED, TI.UP_FOR_RETRY}),
    TI.UP_FOR_RETRY: frozenset({TI.RUNNING}),
    TI.UP_FOR_RESCHEDULE: frozenset({TI.RUNNING}),
    # decided by trigger rules, before a task ever ran.
    TI.UPSTREAM_FAILED: frozenset({TI.NONE, TI.SCHEDULED}),
    # skipped: by trigger rules, a branch or a short circuit (none/scheduled), by the task
    # itself (running), or because its run timed out (any unfinished state, as Airflow).
    TI.SKIPPED: frozenset({TI.NONE, TI.SCHEDULED, TI.RUNNING, TI.QUEUED, TI.UP_FOR_RETRY,
                           TI.UP_FOR_RESCHEDULE}),
    TI.REMOVED: frozenset({TI.NONE, TI.SCHEDULED}),
    # clearing a task instance starts it over.
    TI.NONE: frozenset({TI.SUCCESS, TI.FAILED, TI.UPSTREAM_FAILED, TI.SKIPPED, TI.REMOVED,
                        TI.UP_FOR_RETRY, TI.SCHEDULED}),
}

RUN_TRANSITIONS: Mapping[DagRunState, frozenset[DagRunState]] = {
    RUN.QUEUED: frozenset({RUN.SUCCESS, RUN.FAILED}),  # cleared runs start over
    RUN.RUNNING: frozenset({RUN.QUEUED, RUN.SUCCESS, RUN.FAILED}),
    RUN.SUCCESS: frozenset({RUN.RUNNING}),
    # failed from queued: a cancelled backfill fails its runs that never started.
    RUN.FAILED: frozenset({RUN.RUNNING, RUN.QUEUED}),
}


# Operator commands ("mark success/failed", Airflow's `mark`): a person may set a task
# instance to success or failed from any other state. A running attempt's later result is
# then stale and ignored (results apply only to a RUNNING try of the same try_number).
MARK_TRANSITIONS: Mapping[TaskInstanceState, frozenset[TaskInstanceState]] = {
    TI.SUCCESS: frozenset(TI) - {TI.SUCCESS},
    TI.FAILED: frozenset(TI) - {TI.FAILED},
}
# An operator marking a whole run (Airflow's "mark run success/failed"): from any other
# state, a finished run included.
RUN_MARK_TRANSITIONS: Mapping[DagRunState, frozenset[DagRunState]] = {
    RUN.SUCCESS: frozenset(RUN) - {RUN.SUCCESS},
    RUN.FAILED: frozenset(RUN) - {RUN.FAILED},
}
# What "clear" starts over: finished task instances (running and queued ones are left alone).
CLEARABLE: frozenset[TaskInstanceState] = frozenset({
    TI.SUCCESS, TI.FAILED, TI.UPSTREAM_FAILED, TI.SKIPPED, TI.REMOVED, TI.UP_FOR_RETRY})


def mark_sources(target: TaskInstanceState) -> frozenset[TaskInstanceState]:
    """The states from which an operator may mark a task instance `target`."""
    return MARK_TRANSITIONS.get(target, frozenset())


def run_mark_sources(target: DagRunState) -> frozenset[DagRunState]:
    """The run states from which an operator may mark a run `target`."""
    return RUN_MARK_TRANSITIONS.get(target, frozenset())


def allowed_sources(target: TaskInstanceState) -> frozenset[TaskInstanceState]:
    """The task-instance states from which `target` may be entered."""
    return TI_TRANSITIONS.get(target, frozenset())


def run_allowed_sources(target: DagRunState) -> frozenset[DagRunState]:
    """The DAG-run states from which `target` may be entered."""
    return RUN_TRANSITIONS.get(target, frozenset())


def can_transition(source: TaskInstanceState, target: TaskInstanceState) -> bool:
    return source in allowed_sources(target)


def can_transition_run(source: DagRunState, target: DagRunState) -> bool:
    return source in run_allowed_sources(target)


def check_transition(source: TaskInstanceState, target: TaskInstanceState) -> None:
    """Raise FailedPreconditionError(TRANSITION_NOT_ALLOWED) unless the table allows it."""
    if not can_transition(source, target):
        raise FailedPreconditionError(
            f"A task instance cannot go from '{source}' to '{target}'.",
            reason="TRANSITION_NOT_ALLOWED")
