"""Effective priority weights by weight_rule (Airflow's priority_weight_total)."""

from __future__ import annotations

from services.scheduler.core.priority import effective_weights
from services.scheduler.core.types import TaskSpec


def _dag(rule: str, weights: dict[str, int] | None = None) -> dict[str, TaskSpec]:
    """a >> [b, c] >> d, and e alone: b and c share d downstream, which counts once."""
    edges = {"a": ("b", "c"), "b": ("d",), "c": ("d",), "d": (), "e": ()}
    weights = weights or {}
    upstream = {t: tuple(u for u, down in edges.items() if t in down) for t in edges}
    return {t: TaskSpec(task_id=t, upstream=upstream[t], downstream=edges[t],
                        priority_weight=weights.get(t, 1), weight_rule=rule) for t in edges}


def test_downstream_rule_adds_every_downstream_task_once() -> None:
    """The default rule: a task's own weight plus that of all tasks downstream of it."""
    assert effective_weights(_dag("downstream")) == {"a": 4, "b": 2, "c": 2, "d": 1, "e": 1}


def test_upstream_rule_adds_every_upstream_task_once() -> None:
    """upstream: own weight plus all tasks upstream (d sees a, b and c)."""
    assert effective_weights(_dag("upstream")) == {"a": 1, "b": 2, "c": 2, "d": 4, "e": 1}


def test_absolute_rule_is_the_task_own_weight() -> None:
    """absolute: the weight as given."""
    weights = {"a": 5, "b": 7, "c": 1, "d": 3, "e": 9}
    assert effective_weights(_dag("absolute", weights)) == weights


def test_weights_add_up_with_their_values() -> None:
    """Weights are summed, not counted: a = 2 + 3 + 4 + 10 under downstream."""
    weights = {"a": 2, "b": 3, "c": 4, "d": 10}
    assert effective_weights(_dag("downstream", weights))["a"] == 19
    assert effective_weights(_dag("downstream", weights))["b"] == 13
