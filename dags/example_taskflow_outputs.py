"""TaskFlow: multiple_outputs, @task.bash, and XComArgs passed to classic operators."""

import pendulum

from flow.operators.bash import BashOperator
from flow.operators.python import PythonOperator
from flow.sdk import dag, task


def describe(total: int, label: str) -> str:
    print(f"{label}: {total}")
    return f"{label}={total}"


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), tags=["example"])
def example_taskflow_outputs() -> None:
    @task(multiple_outputs=True)
    def split() -> dict[str, int]:
        return {"low": 3, "high": 7}

    @task
    def add(low: int, high: int) -> int:
        return low + high

    @task.bash
    def shout(total: int) -> str:
        return f"echo total is {total}, run {{{{ run_id }}}}"

    parts = split()
    total = add(parts["low"], parts["high"])
    shout(total)
    PythonOperator(task_id="describe", python_callable=describe, op_args=[total],
                   op_kwargs={"label": "sum"})
    parts >> BashOperator(
        task_id="echo_high", bash_command="echo high is {{ ti.xcom_pull(task_ids='split', "
                                          "key='high') }}")

    @task
    def command(total: int) -> str:
        return f"echo command built from {total}"

    echo_total = BashOperator(task_id="echo_total", bash_command=command(total))

    @task
    def show(line: str) -> None:
        print(f"the bash task said: {line}")

    show(echo_total.output)  # a classic operator's XCom into a decorated task


example_taskflow_outputs()
