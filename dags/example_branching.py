"""Branching: the branch not followed is skipped, and the skip flows down to a join."""

import pendulum

from flow.operators.empty import EmptyOperator
from flow.operators.python import BranchPythonOperator
from flow.sdk import DAG, task
from flow.utils.trigger_rule import TriggerRule


def pick_branch(**context: object) -> str:
    conf = context["dag_run"].conf  # type: ignore[attr-defined]
    return str(conf.get("branch", "left"))


with DAG(
    dag_id="example_branching",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    tags=["example"],
):
    pick = BranchPythonOperator(task_id="pick", python_callable=pick_branch)
    left = EmptyOperator(task_id="left")
    right = EmptyOperator(task_id="right")
    right_after = EmptyOperator(task_id="right_after")
    join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    pick >> [left, right]
    right >> right_after
    [left, right_after] >> join

    @task.branch
    def choose_many() -> list[str]:
        return ["first", "second"]

    @task
    def first() -> str:
        return "first ran"

    @task
    def second() -> str:
        return "second ran"

    @task
    def third() -> str:
        return "third ran"

    choose_many() >> [first(), second(), third()]
