"""An Airflow 2 DAG file, unchanged but for the import prefix the test rewrites."""

from datetime import timedelta
from textwrap import dedent

from airflow import DAG
from airflow.exceptions import AirflowSkipException
from airflow.models.baseoperator import chain
from airflow.operators.bash import BashOperator
from airflow.operators.dummy import DummyOperator
from airflow.operators.python import BranchPythonOperator, PythonOperator
from airflow.utils.dates import days_ago
from airflow.utils.task_group import TaskGroup
from airflow.utils.trigger_rule import TriggerRule

default_args = {
    "owner": "airflow",
    "depends_on_past": False,
    "email": ["airflow@example.com"],
    "email_on_failure": False,
    "email_on_retry": False,
    "retries": 1,
    "retry_delay": timedelta(seconds=1),
}


def push_numbers(ti):
    ti.xcom_push(key="numbers", value=[1, 2, 3])


def total(ti):
    numbers = ti.xcom_pull(task_ids="push_numbers", key="numbers")
    print(f"total of {numbers} is {sum(numbers)}")
    return sum(numbers)


def choose(**kwargs):
    return "fast_path" if kwargs["ti"].xcom_pull(task_ids="total") > 5 else "slow_path"


def never(**kwargs):
    raise AirflowSkipException("not today")


with DAG(
    "tutorial_airflow2",
    default_args=default_args,
    description="A simple tutorial DAG",
    schedule_interval=timedelta(days=1),
    start_date=days_ago(2),
    catchup=False,
    tags=["example"],
) as dag:
    dag.doc_md = "This is a documentation placed anywhere"
    start = DummyOperator(task_id="start")
    t1 = BashOperator(task_id="print_date", bash_command="date")
    t2 = BashOperator(task_id="sleep", depends_on_past=False, bash_command="sleep 0.1",
                      retries=3)
    t3 = BashOperator(task_id="templated", bash_command=dedent("""
        {% for i in range(3) %}
            echo "{{ ds }} step {{ i }}"
        {% endfor %}
    """))
    push = PythonOperator(task_id="push_numbers", python_callable=push_numbers)
    add = PythonOperator(task_id="total", python_callable=total)
    branch = BranchPythonOperator(task_id="branch", python_callable=choose)
    with TaskGroup("paths") as paths:
        fast = DummyOperator(task_id="fast_path_inner")
    fast_path = DummyOperator(task_id="fast_path")
    slow_path = PythonOperator(task_id="slow_path", python_callable=never)
    join = DummyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    chain(start, [t1, push], [t2, add])
    t1 >> t3
    add >> branch >> [fast_path, slow_path]
    fast_path >> paths >> join
    slow_path >> join
