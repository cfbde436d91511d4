"""Jinja templating with Airflow's context, a template file and Params with a JSON schema.

Trigger with `--conf '{"days": 3}'`; a conf with `{"days": 0}` or `{"env": "qa"}` is refused
because it fails the params' schema.
"""

from datetime import UTC, datetime
from typing import Any

from flow.operators.bash import BashOperator
from flow.operators.python import PythonOperator
from flow.sdk import DAG, Param


def summarize(templates_dict: dict[str, Any], params: dict[str, Any], ds: str,
              when: str) -> str:
    print(f"templates_dict={templates_dict} params.days={params['days']} ds={ds} when={when}")
    return str(templates_dict["window"])


with DAG(
    dag_id="example_templating",
    description="Templated Bash and Python tasks, a .sh template file, validated Params",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    params={"days": Param(7, type="integer", minimum=1, maximum=365,
                          description="how many days to report"),
            "env": Param("dev", enum=["dev", "prod"])},
    tags=["example"],
):
    inline = BashOperator(
        task_id="inline",
        bash_command="echo ds={{ ds }} run={{ run_id }} days={{ params.days }} "
                     "start={{ data_interval_start.strftime('%Y') }} "
                     "formatted={{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }} "
                     "note={{ dag_run.conf.get('note', 'none') }} $GREETING",
        env={"GREETING": "hi-{{ params.env }}"}, append_env=True)
    report = BashOperator(task_id="report", bash_command="templates/example_report.sh")
    summary = PythonOperator(
        task_id="summary", python_callable=summarize,
        templates_dict={"window": "{{ macros.ds_add(ds, -params.days) }}..{{ ds }}"},
        op_kwargs={"when": "{{ ts_nodash }}"})
    inline >> report >> summary
