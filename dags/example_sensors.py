"""Sensors and how much runs at once: a reschedule-mode sensor frees its slot while it waits,
@task.sensor hands its PokeReturnValue on, and priorities and limits shape the order.

A pool of your own: `flowcli pools set example_pool 2 "two at a time"`, then pass
`pool="example_pool"` to a task.
"""

from datetime import UTC, datetime, timedelta

from flow.sdk import DAG, PokeReturnValue, task
from flow.sensors.time_delta import TimeDeltaSensor

with DAG(
    dag_id="example_sensors",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    max_active_tasks=4,  # per run, as Airflow 3
    tags=["example"],
):
    # Waits until a second after the run's data interval ends; between pokes it holds no
    # worker slot and no pool slot (mode="reschedule"), and keeps its try number.
    settle = TimeDeltaSensor(task_id="settle", delta=timedelta(seconds=1), mode="reschedule",
                             poke_interval=0.5, timeout=600)

    @task.sensor(poke_interval=0.2, timeout=60, mode="poke")
    def source_ready() -> PokeReturnValue:
        return PokeReturnValue(is_done=True, xcom_value={"rows": 3})

    # Absolute weights: when slots are scarce the higher weight goes first.
    @task(priority_weight=10, weight_rule="absolute", max_active_tis_per_dag=1)
    def load(source: dict) -> int:
        print(f"loading {source['rows']} rows")
        return int(source["rows"])

    @task(priority_weight=1, weight_rule="absolute")
    def report(rows: int) -> None:
        print(f"{rows} rows loaded")

    loaded = load(source_ready())
    settle >> loaded
    report(loaded)
