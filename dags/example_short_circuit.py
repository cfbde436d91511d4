"""Short circuits and Bash's exit code 99: skipped tasks, and trigger rules after them."""

import pendulum

from flow.operators.bash import BashOperator
from flow.operators.empty import EmptyOperator
from flow.operators.python import ShortCircuitOperator
from flow.sdk import DAG, task

with DAG(
    dag_id="example_short_circuit",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    tags=["example"],
):
    # Falsy, ignoring trigger rules (the default): everything downstream is skipped.
    falsy_all = ShortCircuitOperator(task_id="falsy_all", python_callable=lambda: False)
    a1 = EmptyOperator(task_id="a1")
    a2 = EmptyOperator(task_id="a2", trigger_rule="all_done")
    falsy_all >> a1 >> a2

    # Falsy, respecting trigger rules: only the direct downstream task is skipped.
    falsy_direct = ShortCircuitOperator(task_id="falsy_direct", python_callable=lambda: 0,
                                        ignore_downstream_trigger_rules=False)
    b1 = EmptyOperator(task_id="b1")
    b2 = EmptyOperator(task_id="b2", trigger_rule="all_done")
    falsy_direct >> b1 >> b2

    @task.short_circuit
    def truthy() -> bool:
        return True

    truthy() >> EmptyOperator(task_id="c1")

    exit_99 = BashOperator(task_id="exit_99", bash_command="echo about to skip; exit 99")
    exit_3 = BashOperator(task_id="exit_3", bash_command="exit 3", skip_on_exit_code=[3])
    exit_99 >> EmptyOperator(task_id="d1")
    exit_3 >> EmptyOperator(task_id="d2", trigger_rule="all_skipped")
