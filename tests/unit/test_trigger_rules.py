"""Trigger rules as Airflow evaluates them (with skip / upstream_failed propagation), the
run's final state from its leaves, and retry delays."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flow.states import DagRunState, TaskInstanceState
from services.scheduler.core.scheduling import (
    Decision,
    evaluate_trigger_rule,
    retry_delay,
    run_final_state,
)

TI = TaskInstanceState
S, F, UF, SK, R, N = (TI.SUCCESS, TI.FAILED, TI.UPSTREAM_FAILED, TI.SKIPPED, TI.RUNNING,
                      TI.NONE)
RUN, WAIT, SKIP, UPF = Decision.RUN, Decision.WAIT, Decision.SKIP, Decision.UPSTREAM_FAILED

CASES = [
    ("all_success", [S, S], RUN), ("all_success", [S, R], WAIT), ("all_success", [F, R], UPF),
    ("all_success", [UF, S], UPF), ("all_success", [SK, R], SKIP), ("all_success", [SK, F], UPF),
    ("all_failed", [F, UF], RUN), ("all_failed", [F, R], WAIT), ("all_failed", [F, S], SKIP),
    ("all_failed", [SK], SKIP),
    ("all_done", [S, F, SK, UF], RUN), ("all_done", [S, R], WAIT),
    ("all_done_min_one_success", [S, F], RUN), ("all_done_min_one_success", [S, R], WAIT),
    ("all_done_min_one_success", [F, SK], UPF), ("all_done_min_one_success", [SK, SK], SKIP),
    ("all_skipped", [SK, SK], RUN), ("all_skipped", [SK, R], WAIT), ("all_skipped", [SK, S], SKIP),
    ("all_skipped", [F], SKIP),
    ("one_success", [S, R], RUN), ("one_success", [F, R], WAIT), ("one_success", [F, SK], UPF),
    ("one_success", [SK, SK], SKIP),
    ("one_failed", [F, R], RUN), ("one_failed", [UF], RUN), ("one_failed", [S, R], WAIT),
    ("one_failed", [S, SK], SKIP),
    ("one_done", [S, R], RUN), ("one_done", [F, R], RUN), ("one_done", [SK, R], WAIT),
    ("one_done", [SK, UF], SKIP),
    ("none_failed", [S, SK], RUN), ("none_failed", [S, R], WAIT), ("none_failed", [F, R], UPF),
    ("none_failed", [UF], UPF),
    ("none_failed_min_one_success", [S, SK], RUN), ("none_failed_min_one_success", [SK, SK], SKIP),
    ("none_failed_min_one_success", [S, R], WAIT), ("none_failed_min_one_success", [F, S], UPF),
    ("none_skipped", [S, F], RUN), ("none_skipped", [S, R], WAIT), ("none_skipped", [SK, R], SKIP),
    ("always", [R, N], RUN), ("always", [F], RUN),
]


@pytest.mark.parametrize(("rule", "upstream", "expected"), CASES)
def test_trigger_rule(rule: str, upstream: list[TaskInstanceState], expected: Decision) -> None:
    """Each rule runs, waits, skips or fails upstream exactly as Airflow's TriggerRuleDep."""
    assert evaluate_trigger_rule(rule, upstream) is expected


@pytest.mark.parametrize("rule", sorted({c[0] for c in CASES}))
def test_tasks_without_upstream_always_run(rule: str) -> None:
    """A root task passes every trigger rule (Airflow skips the dep without upstreams)."""
    assert evaluate_trigger_rule(rule, []) is RUN


def test_removed_upstreams_are_ignored() -> None:
    """A removed upstream task does not count for or against a rule."""
    assert evaluate_trigger_rule("all_success", [S, TI.REMOVED]) is RUN


def test_unknown_rule_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown trigger rule"):
        evaluate_trigger_rule("sometimes", [S])


def test_skip_propagates_down_a_chain() -> None:
    """a skipped -> b (all_success) skipped -> c (all_success) skipped; d (all_done) runs."""
    states = {"a": SK}
    for task in ("b", "c"):
        decision = evaluate_trigger_rule("all_success", [states[chr(ord(task) - 1)]])
        assert decision is SKIP
        states[task] = SK
    assert evaluate_trigger_rule("all_done", [states["c"]]) is RUN


@pytest.mark.parametrize(("states", "leaves", "expected"), [
    ({"a": S, "b": S}, ["b"], DagRunState.SUCCESS),
    ({"a": S, "b": SK}, ["b"], DagRunState.SUCCESS),
    ({"a": F, "b": UF}, ["b"], DagRunState.FAILED),
    ({"a": F, "b": S}, ["b"], DagRunState.SUCCESS),  # a failure handled by all_done
    ({"a": S, "b": F, "c": S}, ["b", "c"], DagRunState.FAILED),
    ({"a": S, "b": R}, ["b"], None),
    ({"a": TI.UP_FOR_RETRY, "b": N}, ["b"], None),
])
def test_run_final_state_by_leaves(states: dict[str, TaskInstanceState], leaves: list[str],
                                   expected: DagRunState | None) -> None:
    """Unfinished -> None; any failed/upstream_failed leaf -> failed; else success."""
    assert run_final_state(states.items(), leaves) is expected


def test_retry_delay() -> None:
    """Constant by default, doubling with exponential backoff, capped by max_retry_delay."""
    assert retry_delay(1, 10) == timedelta(seconds=10)
    assert retry_delay(3, 10, exponential=True) == timedelta(seconds=40)
    assert retry_delay(5, 10, exponential=True, max_delay_seconds=60) == timedelta(seconds=60)
    assert retry_delay(1, None) == timedelta(seconds=300)


def test_exponential_retry_delay_has_airflows_deterministic_jitter() -> None:
    """With a jitter key the backoff lies in [delay * 2**(n-1), 2 * that), the same for the
    same key, at least 1 s, and still capped by max_retry_delay (Airflow's formula)."""
    first = retry_delay(3, 10, exponential=True, jitter_key="d#t#2024-01-01#3")
    assert timedelta(seconds=40) <= first < timedelta(seconds=80)
    assert first == retry_delay(3, 10, exponential=True, jitter_key="d#t#2024-01-01#3")
    assert retry_delay(1, 0, exponential=True) == timedelta(seconds=1)
    assert retry_delay(6, 10, exponential=True, max_delay_seconds=30,
                       jitter_key="k") == timedelta(seconds=30)
