"""A task that fails on its first try: clear it (`flowcli tasks clear example_operations RUN_ID
--only-failed --yes`) and it runs again with try 2, its downstream after it; or mark it
success (`flowcli tasks mark example_operations RUN_ID flaky --state success --yes`)."""

from datetime import UTC, datetime
from typing import Any

from flow.operators.python import PythonOperator
from flow.sdk import DAG


def flaky(ti: Any) -> str:
    print(f"flaky runs try {ti.try_number}")
    if ti.try_number < 2:
        raise RuntimeError("fails on the first try; clear me to run again")
    return f"ok on try {ti.try_number}"


with DAG(
    dag_id="example_operations",
    description="Clear and mark task instances: a task that fails only on its first try",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    tags=["example"],
):
    first = PythonOperator(task_id="first", python_callable=lambda ti: ti.try_number)
    middle = PythonOperator(task_id="flaky", python_callable=flaky, retries=0)
    after = PythonOperator(task_id="after", python_callable=lambda ti: ti.try_number)
    first >> middle >> after
