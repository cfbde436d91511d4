"""An Airflow 3 DAG file, unchanged but for the import prefix the test rewrites."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import dag, task, task_group


@dag(schedule=None, start_date=pendulum.datetime(2021, 1, 1, tz="UTC"), catchup=False,
     tags=["example"])
def taskflow_airflow3():
    @task()
    def extract() -> dict:
        return {"1001": 301.27, "1002": 433.21, "1003": 502.22}

    @task(multiple_outputs=True)
    def transform(order_data_dict: dict):
        return {"total_order_value": sum(order_data_dict.values())}

    @task_group
    def load_group(total_order_value: float):
        @task
        def load(value: float):
            print(f"Total order value is: {value:.2f}")

        load(total_order_value)

    @task.short_circuit
    def is_big(value: float) -> bool:
        return value > 10_000

    order_summary = transform(extract())
    load_group(order_summary["total_order_value"])
    is_big(order_summary["total_order_value"]) >> BashOperator(
        task_id="celebrate", bash_command="echo big") >> EmptyOperator(task_id="done")


taskflow_airflow3()
