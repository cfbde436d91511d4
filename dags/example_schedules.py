"""Schedules, as Airflow's: a cron schedule read in a local timezone (06:00 Berlin time on
weekdays, on both sides of a daylight-saving change) and a daily one to backfill.

Both start paused (is_paused_upon_creation=True), as Airflow's example DAGs do:
`flowcli dags unpause example_schedule_cron` starts the schedule (catchup=False: only the
latest interval, then one run per interval); `flowcli dags backfill example_schedule_daily
--start-date 2024-01-01 --end-date 2024-01-10` has the scheduler run ten past days.
"""

from datetime import UTC, datetime

import pendulum

from flow.operators.bash import BashOperator
from flow.sdk import DAG

with DAG(dag_id="example_schedule_cron", schedule="0 6 * * 1-5",
         start_date=pendulum.datetime(2024, 1, 1, tz="Europe/Berlin"), catchup=False,
         max_active_runs=1, is_paused_upon_creation=True, tags=["example"]):
    BashOperator(task_id="report", bash_command=(
        "echo 'run {{ run_id }} covers {{ data_interval_start }} to {{ data_interval_end }}'"))

with DAG(dag_id="example_schedule_daily", schedule="@daily",
         start_date=datetime(2024, 1, 1, tzinfo=UTC), catchup=False, max_active_runs=4,
         is_paused_upon_creation=True, tags=["example"]):
    BashOperator(task_id="load", bash_command="echo loading the data of {{ ds }}")
