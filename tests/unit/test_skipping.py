"""Which tasks a branch or a short circuit skips (computed in the task process)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from flow.operators.empty import EmptyOperator
from flow.operators.python import BranchPythonOperator, ShortCircuitOperator
from flow.sdk import DAG, TaskGroup, task


@dataclass
class _TI:
    """The part of the runtime task instance that skipping uses."""

    skip_task_ids: list[str] = field(default_factory=list)

    def xcom_push(self, key: str, value: Any) -> None:
        return None


def _run(operator: Any) -> list[str]:
    ti = _TI()
    operator.execute({"ti": ti, "task": operator, "dag": operator.dag})
    return ti.skip_task_ids


def test_branch_skips_direct_downstream_not_followed_but_keeps_a_join() -> None:
    """Following 'a' skips 'b'; 'join' is directly downstream too but also below 'a', so it
    is left to its trigger rule (Airflow's special case for empty branches)."""
    with DAG("br"):
        br = BranchPythonOperator(task_id="br", python_callable=lambda: "a")
        a, b, join = (EmptyOperator(task_id=n) for n in ("a", "b", "join"))
        br >> [a, b, join]
        a >> join
    assert _run(br) == ["b"]


def test_branch_to_a_group_follows_its_roots_and_none_skips_all() -> None:
    """A group id follows the group's roots; None skips every direct downstream task."""
    with DAG("grp"):
        to_group = BranchPythonOperator(task_id="to_group", python_callable=lambda: "g")
        skip_all = BranchPythonOperator(task_id="skip_all", python_callable=lambda: None)
        with TaskGroup("g") as g:
            EmptyOperator(task_id="r") >> EmptyOperator(task_id="s")
        other = EmptyOperator(task_id="other")
        to_group >> [g, other]
        skip_all >> [other]
    assert _run(to_group) == ["other"]
    assert _run(skip_all) == ["other"]


def test_branch_to_an_unknown_task_fails() -> None:
    """A branch naming a task that is not in the DAG fails, naming it."""
    with DAG("unknown"):
        br = BranchPythonOperator(task_id="br", python_callable=lambda: "nope")
        br >> EmptyOperator(task_id="a")
    with pytest.raises(ValueError, match="Invalid tasks found: \\['nope'\\]"):
        _run(br)


def test_short_circuit_skips_all_or_only_direct_downstream() -> None:
    """Falsy with ignore_downstream_trigger_rules=True skips every downstream task, with
    False only the direct ones; truthy skips nothing."""
    with DAG("sc"):
        all_ = ShortCircuitOperator(task_id="all", python_callable=lambda: [])
        direct = ShortCircuitOperator(task_id="direct", python_callable=lambda: "",
                                      ignore_downstream_trigger_rules=False)
        truthy = ShortCircuitOperator(task_id="truthy", python_callable=lambda: 1)
        a, b, c = (EmptyOperator(task_id=n) for n in "abc")
        all_ >> a >> b
        direct >> a
        truthy >> c
    assert _run(all_) == ["a", "b"]
    assert _run(direct) == ["a"]
    assert _run(truthy) == []


def test_task_decorators_infer_multiple_outputs_and_pick_operators() -> None:
    """A dict return annotation turns on multiple_outputs (as Airflow infers it); @task.branch
    and @task.short_circuit build the branching operators."""
    with DAG("deco") as d:
        @task
        def parts() -> dict[str, int]:
            return {"a": 1}

        @task.branch
        def pick() -> str:
            return "parts"

        @task.short_circuit
        def gate() -> bool:
            return True

        parts(), pick(), gate()
    assert d.task_dict["parts"].multiple_outputs is True
    assert isinstance(d.task_dict["pick"], BranchPythonOperator)
    assert isinstance(d.task_dict["gate"], ShortCircuitOperator)
