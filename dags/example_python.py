"""A PythonOperator with op_kwargs and the context it asks for."""

from datetime import UTC, datetime

from flow.operators.python import PythonOperator
from flow.sdk import DAG


def add(x: int, y: int, run_id: str) -> int:
    print(f"adding {x} and {y} in run {run_id}")
    return x + y


with DAG(
    dag_id="example_python",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    tags=["example"],
):
    PythonOperator(task_id="add", python_callable=add, op_kwargs={"x": 40, "y": 2})
