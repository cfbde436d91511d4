"""Pure scheduling decisions (no IO): trigger rules, a run's final state, retry delays.

The trigger-rule semantics are Airflow's TriggerRuleDep with `flag_upstream_failed`: a task
may be decided SKIPPED or UPSTREAM_FAILED as soon as the outcome is certain.
"""

from __future__ import annotations

import enum
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from flow.sdk.trigger_rule import TriggerRule
from flow.states import TI_FINISHED, DagRunState, TaskInstanceState

TI = TaskInstanceState
TR = TriggerRule


class Decision(enum.Enum):
    """What to do with a task whose upstream states changed."""

    WAIT = "wait"
    RUN = "run"
    SKIP = "skip"
    UPSTREAM_FAILED = "upstream_failed"


@dataclass(frozen=True)
class UpstreamCounts:
    """How many direct upstream tasks are in each finished state (removed ones are ignored)."""

    total: int = 0
    success: int = 0
    failed: int = 0
    upstream_failed: int = 0
    skipped: int = 0

    @classmethod
    def of(cls, states: Iterable[TaskInstanceState]) -> UpstreamCounts:
        listed = [s for s in states if s != TI.REMOVED]
        return cls(
            total=len(listed),
            success=sum(s == TI.SUCCESS for s in listed),
            failed=sum(s == TI.FAILED for s in listed),
            upstream_failed=sum(s == TI.UPSTREAM_FAILED for s in listed),
            skipped=sum(s == TI.SKIPPED for s in listed),
        )

    @property
    def done(self) -> int:
        return self.success + self.failed + self.upstream_failed + self.skipped

    @property
    def all_done(self) -> bool:
        return self.done >= self.total

    @property
    def any_failed(self) -> int:
        return self.failed + self.upstream_failed


def evaluate_trigger_rule(rule: str, upstream: Iterable[TaskInstanceState]) -> Decision:
    """Decide a task (in state none) from its direct upstream states, as Airflow does."""
    c = UpstreamCounts.of(upstream)
    if c.total == 0 or rule == TR.ALWAYS:
        return Decision.RUN
    if rule == TR.ALL_SUCCESS:
        if c.any_failed:
            return Decision.UPSTREAM_FAILED
        if c.skipped:
            return Decision.SKIP
        return Decision.RUN if c.success == c.total else Decision.WAIT
    if rule == TR.ALL_FAILED:
        if c.success or c.skipped:
            return Decision.SKIP
        return Decision.RUN if c.any_failed == c.total else Decision.WAIT
    if rule == TR.ALL_DONE:
        return Decision.RUN if c.all_done else Decision.WAIT
    if rule == TR.ALL_DONE_MIN_ONE_SUCCESS:
        if not c.all_done:
            return Decision.WAIT
        if c.success:
            return Decision.RUN
        return Decision.UPSTREAM_FAILED if c.any_failed else Decision.SKIP
    if rule == TR.ALL_SKIPPED:
        if c.success or c.any_failed:
            return Decision.SKIP
        return Decision.RUN if c.skipped == c.total else Decision.WAIT
    if rule == TR.ONE_SUCCESS:
        if c.success:
            return Decision.RUN
        if c.all_done:
            return Decision.SKIP if c.skipped == c.total else Decision.UPSTREAM_FAILED
        return Decision.WAIT
    if rule == TR.ONE_FAILED:
        if c.any_failed:
            return Decision.RUN
        return Decision.SKIP if c.all_done else Decision.WAIT
    if rule == TR.ONE_DONE:
        if c.success or c.failed:
            return Decision.RUN
        return Decision.SKIP if c.all_done else Decision.WAIT
    if rule == TR.NONE_FAILED:
        if c.any_failed:
            return Decision.UPSTREAM_FAILED
        return Decision.RUN if c.all_done else Decision.WAIT
    if rule == TR.NONE_FAILED_MIN_ONE_SUCCESS:
        if c.any_failed:
            return Decision.UPSTREAM_FAILED
        if c.skipped == c.total:
            return Decision.SKIP
        if not c.all_done:
            return Decision.WAIT
        return Decision.RUN if c.success else Decision.SKIP
    if rule == TR.NONE_SKIPPED:
        if c.skipped:
            return Decision.SKIP
        return Decision.RUN if c.all_done else Decision.WAIT
    raise ValueError(f"unknown trigger rule {rule!r}")


# What a previous run's task instance must be for depends_on_past (Airflow's rule).
PAST_OK = frozenset({TI.SUCCESS, TI.SKIPPED})


def task_state(states: Sequence[TaskInstanceState]) -> TaskInstanceState:
    """One state for a task from its instances' (several for a mapped task): the first that
    does not let depends_on_past pass, else the first."""
    return next((s for s in states if s not in PAST_OK), states[0])


def run_final_state(
    states: Iterable[tuple[str, TaskInstanceState]], leaves: Iterable[str]
) -> DagRunState | None:
    """The run's state once every task instance finished (None while some are unfinished);
    `states` are (task_id, state) of every instance, several for a mapped task.

    As Airflow: any instance of a leaf failed or upstream_failed -> failed, else success.
    """
    listed = list(states)
    if any(state not in TI_FINISHED for _, state in listed):
        return None
    leaf_ids = set(leaves)
    if any(task_id in leaf_ids and state in (TI.FAILED, TI.UPSTREAM_FAILED)
           for task_id, state in listed):
        return DagRunState.FAILED
    return DagRunState.SUCCESS


def retry_delay(
    try_number: int, delay_seconds: float | None, *, exponential: bool = False,
    max_delay_seconds: float | None = None, jitter_key: str | None = None,
) -> timedelta:
    """How long to wait before try `try_number + 1` (Airflow's default delay is 300 s).

    Exponential backoff is Airflow's: at least 1 s and ceil(delay * 2**(try_number - 1));
    with `jitter_key` (Airflow hashes dag_id#task_id#logical_date#try_number) a deterministic
    part of that again is added, so the delay lies in [backoff, 2 * backoff). Then capped by
    max_retry_delay."""
    base = 300.0 if delay_seconds is None else max(0.0, delay_seconds)
    seconds = base
    if exponential:
        backoff = max(1, math.ceil(base * (2 ** max(0, try_number - 1))))
        jitter = 0
        if jitter_key is not None:
            digest = hashlib.sha1(jitter_key.encode(), usedforsecurity=False).hexdigest()
            jitter = int(digest, 16) % backoff
        seconds = min(backoff + jitter, timedelta.max.total_seconds() - 1)
    if max_delay_seconds is not None:
        seconds = min(seconds, max_delay_seconds)
    return timedelta(seconds=seconds)
