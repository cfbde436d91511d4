"""Fan-out / fan-in: one task, five in parallel, one that sums their results."""

from datetime import UTC, datetime

from flow.operators.empty import EmptyOperator
from flow.sdk import DAG, task

with DAG(
    dag_id="example_fanout",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    tags=["example"],
):
    start = EmptyOperator(task_id="start")

    @task
    def square(n: int) -> int:
        print(f"square of {n}")
        return n * n

    @task
    def combine(values: list) -> int:
        print(f"sum of squares {sum(values)}")
        return sum(values)

    parts = [square.override(task_id=f"square_{n}")(n) for n in range(5)]
    start >> parts
    combine(parts)
