"""Priority weights, as Airflow's weight_rule: which ready task is dispatched first when
slots are scarce. Pure: no IO."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class _Task(Protocol):
    @property
    def upstream(self) -> tuple[str, ...]: ...
    @property
    def downstream(self) -> tuple[str, ...]: ...
    @property
    def priority_weight(self) -> int: ...
    @property
    def weight_rule(self) -> str: ...


def _closure(tasks: Mapping[str, _Task], start: str, *, downstream: bool) -> set[str]:
    """Every task reachable from `start` (excluded) downstream, or upstream."""
    seen: set[str] = set()
    stack = list(_next(tasks[start], downstream))
    while stack:
        task_id = stack.pop()
        if task_id in seen or task_id not in tasks:
            continue
        seen.add(task_id)
        stack.extend(_next(tasks[task_id], downstream))
    return seen


def _next(task: _Task, downstream: bool) -> tuple[str, ...]:
    return task.downstream if downstream else task.upstream


def effective_weights(tasks: Mapping[str, _Task]) -> dict[str, int]:
    """task_id -> Airflow's priority_weight_total: `downstream` (the default) adds the
    weights of every task downstream, transitively and each once; `upstream` those
    upstream; `absolute` is the task's own weight."""
    weights: dict[str, int] = {}
    for task_id, task in tasks.items():
        if task.weight_rule in ("downstream", "upstream"):
            others = _closure(tasks, task_id, downstream=task.weight_rule == "downstream")
            weights[task_id] = task.priority_weight + sum(
                tasks[t].priority_weight for t in others)
        else:
            weights[task_id] = task.priority_weight
    return weights
