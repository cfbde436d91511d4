"""The web UI's test DAG: params that generate the trigger form, a task group, a mapped task
and a task that writes its log slowly (for the live log follow)."""

import pendulum

from flow.operators.bash import BashOperator
from flow.sdk import DAG, Param, TaskGroup, task

with DAG(dag_id="ui_params", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
         tags=["ui"], description="The web UI's test DAG",
         params={"lines": Param(3, type="integer", minimum=1, maximum=40,
                                description="How many log lines the slow task writes"),
                 "greeting": Param("hello", type="string", minLength=2),
                 "loud": Param(False, type="boolean"),
                 # checked by the scheduler only: the form shows its refusal
                 "code": Param("abc", type="string", pattern="^[a-z]+$")}):
    start = BashOperator(task_id="start", bash_command="echo start {{ params.greeting }}")

    with TaskGroup("grp") as grp:
        one = BashOperator(task_id="one", bash_command="echo one")
        two = BashOperator(task_id="two", bash_command="echo two")
        one >> two

    @task
    def square(x: int) -> int:
        return x * x

    slow = BashOperator(
        task_id="slow",
        bash_command="for i in $(seq 1 {{ params.lines }}); do echo \"line $i\"; sleep 0.5; done")

    start >> grp >> square.expand(x=[1, 2, 3]) >> slow
