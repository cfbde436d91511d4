"""TriggerDagRunOperator: start another DAG's run with conf, and wait for it to finish."""

import pendulum

from flow.operators.trigger_dagrun import TriggerDagRunOperator
from flow.sdk import DAG, task

START = pendulum.datetime(2024, 1, 1, tz="UTC")

with DAG(dag_id="example_trigger_target", schedule=None, start_date=START, tags=["example"]):

    @task
    def report(**context: object) -> str:
        conf = context["dag_run"].conf  # type: ignore[attr-defined]
        print(f"triggered with message {conf.get('message')}")
        if conf.get("fail"):
            raise RuntimeError("asked to fail")
        return str(conf.get("message"))

    report()

with DAG(dag_id="example_trigger", schedule=None, start_date=START, tags=["example"]):
    TriggerDagRunOperator(
        task_id="trigger_and_wait", trigger_dag_id="example_trigger_target",
        trigger_run_id="from_{{ run_id }}", conf={"message": "hello from {{ dag.dag_id }}"},
        wait_for_completion=True, poke_interval=0.2)
    TriggerDagRunOperator(
        task_id="trigger_failing", trigger_dag_id="example_trigger_target",
        conf={"message": "bad", "fail": True}, wait_for_completion=True, poke_interval=0.2,
        trigger_rule="all_done")
