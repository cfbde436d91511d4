"""Retries, time-outs and callbacks: try numbers, delays, process-group kills, DAG callbacks."""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pendulum

from flow.exceptions import AirflowFailException
from flow.operators.bash import BashOperator
from flow.operators.empty import EmptyOperator
from flow.operators.python import PythonOperator
from flow.sdk import DAG, task

START = pendulum.datetime(2024, 1, 1, tz="UTC")


def say(text: str) -> Callable[[dict[str, Any]], None]:
    """A callback that prints `text` with the try number and the reason it was called."""

    def callback(context: dict[str, Any]) -> None:
        ti = context.get("ti")
        print(f"{text} (try {ti.try_number if ti else '-'}, reason {context.get('reason')})")
    return callback


def always_fails() -> None:
    raise ValueError("this task always fails")


with DAG(dag_id="example_retries", schedule=None, start_date=START, tags=["example"],
         default_args={"retry_delay": timedelta(seconds=0.2)},
         on_failure_callback=say("DAG run failed")):

    @task(retries=2, on_retry_callback=say("retrying"), on_success_callback=say("succeeded"),
          on_execute_callback=say("starting"))
    def flaky(**context: object) -> int:
        try_number = context["ti"].try_number  # type: ignore[attr-defined]
        print(f"attempt {try_number}")
        if try_number < 3:
            raise RuntimeError(f"failing on try {try_number}")
        return try_number

    flaky()
    PythonOperator(task_id="backoff", python_callable=always_fails, retries=2,
                   retry_delay=timedelta(seconds=1), retry_exponential_backoff=True,
                   max_retry_delay=timedelta(seconds=1.5), on_failure_callback=say("gave up"))

    @task(retries=3)
    def fail_fast() -> None:
        raise AirflowFailException("no point retrying")

    fail_fast()
    BashOperator(
        task_id="too_slow", retries=1, execution_timeout=timedelta(seconds=1),
        on_retry_callback=say("timed out, will retry"), on_failure_callback=say("timed out"),
        bash_command="sleep 300 & echo $! > {{ dag_run.conf['pid_dir'] }}/sleep-"
                     "{{ ti.try_number }}.pid; echo started; wait")

with DAG(dag_id="example_dagrun_timeout", schedule=None, start_date=START, tags=["example"],
         dagrun_timeout=timedelta(seconds=2), on_failure_callback=say("run failed")):

    @task
    def sleeps() -> None:
        time.sleep(30)

    sleeps() >> EmptyOperator(task_id="after")

with DAG(dag_id="example_callbacks", schedule=None, start_date=START, tags=["example"],
         on_success_callback=[say("run succeeded"), say("second callback")]):
    EmptyOperator(task_id="nothing", on_success_callback=say("empty operator done")) >> \
        BashOperator(task_id="echo", bash_command="echo hi")
