"""Dynamic task mapping in the SDK: parse-time checks with Airflow's messages, the element
each map_index gets, and what the scheduler is told to count."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flow.operators.bash import BashOperator
from flow.sdk import DAG, task
from flow.sdk.mapped import DictOfListsExpandInput, ListOfDictsExpandInput, MappedOperator
from flow.sdk.serialization import serialize_dag

START = datetime(2024, 1, 1, tzinfo=UTC)


@task
def add(x: int, y: int) -> int:
    return x + y


def _dag() -> DAG:
    return DAG("mapping", schedule=None, start_date=START)


def test_expand_over_the_product_with_the_last_argument_varying_fastest() -> None:
    expand = DictOfListsExpandInput({"a": [1, 2], "b": ["x", "y", "z"]})
    chosen = [expand.resolve({}, i) for i in range(6)]
    assert chosen == [{"a": a, "b": b} for a in (1, 2) for b in ("x", "y", "z")]
    with pytest.raises(IndexError):
        expand.resolve({}, 6)


def test_a_dict_is_mapped_as_its_items() -> None:
    assert DictOfListsExpandInput({"item": {"k": 1, "j": 2}}).resolve({}, 1) == {
        "item": ("j", 2)}
    assert ListOfDictsExpandInput([{"x": 1}, {"x": 2}]).resolve({}, 1) == {"x": 2}


def test_mapped_tasks_are_tasks_of_the_dag_and_serialize_their_sources() -> None:
    with _dag() as dag:
        numbers = BashOperator(task_id="numbers", bash_command="echo")
        add.partial(y=1).expand(x=numbers.output)
        BashOperator.partial(task_id="greet", retries=2).expand(
            bash_command=["a", "b"], env=[{"A": "1"}])
    mapped = dag.get_task("add")
    assert isinstance(mapped, MappedOperator) and mapped.upstream_task_ids == {"numbers"}
    assert dag.get_task("greet").retries == 2
    tasks = {t["task_id"]: t for t in serialize_dag(dag)["tasks"]}
    assert tasks["add"]["expand"] == {
        "kind": "dict", "sources": [{"task_id": "numbers", "key": "return_value"}]}
    assert tasks["greet"]["expand"] == {
        "kind": "dict", "sources": [{"length": 2}, {"length": 1}]}
    assert tasks["greet"]["operator"] == "BashOperator" and "expand" not in tasks["numbers"]


def test_unmap_builds_the_operator_of_one_instance() -> None:
    class Ti:
        map_index = 1

    with _dag() as dag:
        BashOperator.partial(task_id="greet", cwd="/tmp").expand(
            bash_command=["echo a", "echo b"])
    op: Any = dag.get_task("greet").unmap({"ti": Ti()})  # type: ignore[attr-defined]
    assert type(op) is BashOperator and op.bash_command == "echo b" and op.cwd == "/tmp"
    assert op.task_id == "greet" and op.dag is dag and dag.get_task("greet") is not op


@pytest.mark.parametrize(("build", "error", "message"), [
    (lambda: add.expand(), TypeError, "got no arguments to expand against"),
    (lambda: add.expand(z=[1]), TypeError, "unexpected keyword argument 'z'"),
    (lambda: add.partial(y=1).expand(y=[1]), TypeError, "multiple values for argument 'y'"),
    (lambda: add.expand(x=5), ValueError, "unexpected type 'int' for keyword argument 'x'"),
    (lambda: add.partial(q=1), TypeError, "unexpected keyword arguments ['q']"),
    (lambda: add.expand_kwargs(5), TypeError, "expects a list of dicts"),
    (lambda: BashOperator.partial(task_id="b").expand(nope=[1]), TypeError,
     "unexpected keyword argument 'nope'"),
    (lambda: BashOperator.partial(bash_command="x").expand(env=[{}]), TypeError,
     "needs a task_id"),
    (lambda: BashOperator.partial(task_id="b", bogus=1), TypeError, "Invalid arguments"),
])
def test_bad_expand_arguments_are_refused_at_parse_time(build: Any, error: type,
                                                         message: str) -> None:
    with _dag(), pytest.raises(error, match=None) as raised:
        build()
    assert message in str(raised.value)
