"""The one transition table: allowed and forbidden task-instance and DAG-run transitions."""

from __future__ import annotations

import pytest

from flow.errors import FailedPreconditionError
from flow.states import DagRunState, TaskInstanceState
from services.scheduler.core.state_machine import (
    TI_TRANSITIONS,
    allowed_sources,
    can_transition,
    can_transition_run,
    check_transition,
    run_allowed_sources,
)

TI = TaskInstanceState
RUN = DagRunState

ALLOWED = [
    (TI.NONE, TI.QUEUED), (TI.SCHEDULED, TI.QUEUED), (TI.UP_FOR_RETRY, TI.QUEUED),
    (TI.QUEUED, TI.RUNNING), (TI.RUNNING, TI.SUCCESS), (TI.RUNNING, TI.FAILED),
    (TI.RUNNING, TI.UP_FOR_RETRY), (TI.RUNNING, TI.SKIPPED), (TI.NONE, TI.SUCCESS),
    (TI.NONE, TI.UPSTREAM_FAILED), (TI.NONE, TI.SKIPPED), (TI.SUCCESS, TI.NONE),
    (TI.FAILED, TI.NONE),
]
FORBIDDEN = [
    (TI.NONE, TI.RUNNING), (TI.RUNNING, TI.QUEUED), (TI.SUCCESS, TI.RUNNING),
    (TI.SUCCESS, TI.FAILED), (TI.FAILED, TI.SUCCESS), (TI.QUEUED, TI.SUCCESS),
    (TI.UPSTREAM_FAILED, TI.QUEUED), (TI.SKIPPED, TI.QUEUED), (TI.RUNNING, TI.RUNNING),
    (TI.QUEUED, TI.UP_FOR_RETRY), (TI.SUCCESS, TI.UP_FOR_RETRY), (TI.RUNNING, TI.UPSTREAM_FAILED),
]


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_allowed_transitions(source: TaskInstanceState, target: TaskInstanceState) -> None:
    """Each transition of the attempt lifecycle is in the table."""
    assert can_transition(source, target)
    assert source in allowed_sources(target)
    check_transition(source, target)


@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_forbidden_transitions(source: TaskInstanceState, target: TaskInstanceState) -> None:
    """Transitions that would break the lifecycle are refused, with a clear error."""
    assert not can_transition(source, target)
    with pytest.raises(FailedPreconditionError) as info:
        check_transition(source, target)
    assert info.value.reason == "TRANSITION_NOT_ALLOWED"


def test_claim_is_only_from_queued() -> None:
    """RUNNING is entered only from QUEUED: the claim guard."""
    assert allowed_sources(TI.RUNNING) == frozenset({TI.QUEUED})


def test_table_names_only_known_states() -> None:
    """Every key and source in the table is a TaskInstanceState; no self-loops."""
    for target, sources in TI_TRANSITIONS.items():
        assert isinstance(target, TaskInstanceState)
        assert target not in sources


@pytest.mark.parametrize(("source", "target", "ok"), [
    (RUN.QUEUED, RUN.RUNNING, True), (RUN.RUNNING, RUN.SUCCESS, True),
    (RUN.RUNNING, RUN.FAILED, True), (RUN.SUCCESS, RUN.QUEUED, True),
    (RUN.SUCCESS, RUN.FAILED, False), (RUN.FAILED, RUN.SUCCESS, False),
    (RUN.QUEUED, RUN.SUCCESS, False), (RUN.RUNNING, RUN.RUNNING, False),
])
def test_run_transitions(source: DagRunState, target: DagRunState, ok: bool) -> None:
    """DAG runs go queued -> running -> success|failed, and back to queued when cleared."""
    assert can_transition_run(source, target) is ok
    assert (source in run_allowed_sources(target)) is ok


def test_operator_marks_come_from_any_other_state_and_clear_takes_finished_only() -> None:
    """Mark success/failed is allowed from every other state; clear starts over only
    finished task instances (never a running or queued one)."""
    from services.scheduler.core.state_machine import CLEARABLE, mark_sources

    for target in (TaskInstanceState.SUCCESS, TaskInstanceState.FAILED):
        assert mark_sources(target) == frozenset(TaskInstanceState) - {target}
    assert mark_sources(TaskInstanceState.RUNNING) == frozenset()
    assert TaskInstanceState.RUNNING not in CLEARABLE
    assert TaskInstanceState.QUEUED not in CLEARABLE
    assert CLEARABLE.issubset(allowed_sources(TaskInstanceState.NONE))
