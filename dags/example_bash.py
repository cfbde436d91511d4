"""Bash tasks: templated with the run's logical date, output logged, env, append_env, cwd."""

from datetime import UTC, datetime

from flow.operators.bash import BashOperator
from flow.sdk import DAG

with DAG(
    dag_id="example_bash",
    description="Bash tasks: templating and output passed along",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    tags=["example"],
):
    hello = BashOperator(task_id="hello", bash_command="echo 'hello from bash on {{ ds }}'")
    count = BashOperator(task_id="count", bash_command="for i in 1 2 3; do echo line $i; done")
    hello >> count
    # env replaces the inherited environment unless append_env; cwd sets the directory.
    BashOperator(task_id="env_only", env={"GREETING": "hi"},
                 bash_command='echo "greeting=$GREETING home=${FLOW_HOME:-unset}"')
    BashOperator(task_id="env_appended", cwd="/",
                 bash_command='echo "greeting=$GREETING in $(pwd) home=${FLOW_HOME:+set}"',
                 env={"GREETING": "hello"}, append_env=True)
