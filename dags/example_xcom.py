"""XCom: return values, ti.xcom_push with a key, and ti.xcom_pull of one task or a list."""

from datetime import UTC, datetime
from typing import Any

from flow.operators.bash import BashOperator
from flow.operators.python import PythonOperator
from flow.sdk import DAG


def produce(ti: Any) -> int:
    ti.xcom_push(key="rows", value=[1, 2, 3])
    ti.xcom_push("meta", {"source": "api", "ok": True})
    return 7


def produce_more() -> str:
    return "more"


def consume(ti: Any) -> dict[str, Any]:
    both = ti.xcom_pull(task_ids=["produce", "produce_more"])
    rows = ti.xcom_pull(task_ids="produce", key="rows")
    meta = ti.xcom_pull("produce", key="meta")
    missing = ti.xcom_pull(task_ids="produce", key="nothing", default="none")
    print(f"both={both} rows={rows} meta={meta} missing={missing}")
    return {"total": sum(rows) + both[0], "both": both}


with DAG(
    dag_id="example_xcom",
    description="XCom push and pull, by key and by a list of task ids",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    tags=["example"],
):
    p1 = PythonOperator(task_id="produce", python_callable=produce)
    p2 = PythonOperator(task_id="produce_more", python_callable=produce_more)
    c = PythonOperator(task_id="consume", python_callable=consume)
    echo = BashOperator(
        task_id="echo",
        bash_command="echo rows={{ ti.xcom_pull(task_ids='produce', key='rows') | sum }}")
    [p1, p2] >> c >> echo
