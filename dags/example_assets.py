"""Data-aware scheduling: `example_assets_producer` updates two assets; the consumer DAG,
scheduled on both, gets a run once both were updated (Airflow's assets / datasets)."""

from __future__ import annotations

from datetime import UTC, datetime

from flow.operators.bash import BashOperator
from flow.sdk import DAG, Asset, task

ORDERS = Asset("s3://warehouse/orders.parquet")
CUSTOMERS = Asset("s3://warehouse/customers.parquet")

with DAG("example_assets_producer", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC),
         tags=["example", "assets"]):
    BashOperator(task_id="export_orders", bash_command="echo exporting orders",
                 outlets=[ORDERS])

    @task(outlets=[CUSTOMERS])
    def export_customers() -> int:
        return 42

    export_customers()

with DAG("example_assets_consumer", schedule=[ORDERS, CUSTOMERS],
         start_date=datetime(2024, 1, 1, tzinfo=UTC), tags=["example", "assets"]):

    @task
    def report(**context: object) -> str:
        run = context["dag_run"]
        print(f"report of run {run.run_id} ({run.run_type})")  # type: ignore[attr-defined]
        return "done"

    report()
