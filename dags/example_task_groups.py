"""Task groups: ids prefixed with the group id, group-level dependencies, @task_group, and
a branch that follows a whole group."""

import pendulum

from flow.operators.bash import BashOperator
from flow.operators.empty import EmptyOperator
from flow.sdk import DAG, TaskGroup, task, task_group

with DAG(dag_id="example_task_groups", schedule=None,
         start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), tags=["example"]):
    start = EmptyOperator(task_id="start")

    with TaskGroup("extract", default_args={"retries": 1}) as extract:

        @task
        def a() -> int:
            return 1

        @task
        def b() -> int:
            return 2

        first, second = a(), b()

    @task_group
    def transform(x: int, y: int) -> object:
        @task
        def add(x: int, y: int) -> int:
            return x + y

        @task
        def double(value: int) -> int:
            return value * 2

        return double(add(x, y))

    @task.branch
    def choose() -> str:
        return "reports"

    with TaskGroup("reports") as reports:
        EmptyOperator(task_id="r1") >> BashOperator(task_id="r2", bash_command="echo report")
        with TaskGroup("nested"):
            BashOperator(task_id="deep", bash_command="echo deep in {{ task.task_id }}")

    with TaskGroup("unused") as unused:
        EmptyOperator(task_id="u1") >> EmptyOperator(task_id="u2")

    end = EmptyOperator(task_id="end", trigger_rule="none_failed_min_one_success")
    start >> extract
    transform(first, second) >> choose() >> [reports, unused] >> end
