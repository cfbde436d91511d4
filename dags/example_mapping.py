"""Dynamic task mapping: one task instance per element, as Airflow's `expand`.

- `add` maps over what `numbers` returns (three instances), `y` shared through `partial`;
  `total` receives the instances' results as one list, in map_index order.
- `double` maps over the output of the mapped `add`.
- `greet` maps a classic operator over the cross product of two literal lists.
- `multiply` maps over a list of keyword-argument dicts (`expand_kwargs`).
- `flaky` fails its first try on one instance only: that instance alone is retried.
- `nothing_to_do` maps over an empty list, so it is skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flow.operators.bash import BashOperator
from flow.sdk import DAG, get_current_context, task

with DAG("example_mapping", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC),
         tags=["example", "mapping"]):

    @task
    def numbers() -> list[int]:
        return [1, 2, 3]

    @task
    def add(x: int, y: int) -> int:
        return x + y

    @task
    def total(values: list[int]) -> int:
        print(f"total={sum(values)} values={list(values)}")
        return sum(values)

    @task
    def double(value: int) -> int:
        return value * 2

    @task
    def pairs() -> list[dict[str, int]]:
        return [{"x": 2, "y": 3}, {"x": 4, "y": 5}]

    @task
    def multiply(x: int, y: int) -> int:
        return x * y

    @task(retries=1, retry_delay=timedelta(seconds=0))
    def flaky(n: int) -> int:
        if n == 2 and get_current_context()["ti"].try_number == 1:
            raise RuntimeError("instance with n=2 fails its first try")
        return n

    @task
    def empty() -> list[int]:
        return []

    added = add.partial(y=10).expand(x=numbers())
    total(added)
    double.expand(value=added)
    BashOperator.partial(task_id="greet").expand(
        bash_command=["echo hello $WHO", "echo bye $WHO"],
        env=[{"WHO": "ann"}, {"WHO": "bob"}])
    multiply.expand_kwargs(pairs())
    flaky.expand(n=[1, 2, 3])
    add.override(task_id="nothing_to_do").partial(y=0).expand(x=empty())
