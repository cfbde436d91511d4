"""HttpOperator, EmailOperator and failure emails: the URL comes from the run's conf, the
SMTP server from the [smtp] configuration."""

import json

import pendulum

from flow.operators.email import EmailOperator
from flow.operators.python import PythonOperator
from flow.providers.http.operators.http import HttpOperator
from flow.sdk import DAG

with DAG(dag_id="example_http_email", schedule=None,
         start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), tags=["example"]):
    get = HttpOperator(
        task_id="get_greeting", http_conn_id=None, method="GET",
        endpoint="{{ dag_run.conf['base_url'] }}/greeting", data={"name": "flow"},
        response_check=lambda response: response.status_code == 200,
        response_filter=lambda response: json.loads(response.text)["greeting"],
        log_response=True)
    post = HttpOperator(
        task_id="post_data", http_conn_id=None, endpoint="{{ dag_run.conf['base_url'] }}/echo",
        data='{"n": 42}', headers={"Content-Type": "application/json"})
    mail = EmailOperator(
        task_id="send_report", to=["ops@example.com", "lead@example.com"],
        subject="Report for {{ ds }}",
        html_content="<p>The greeting was {{ ti.xcom_pull(task_ids='get_greeting') }}</p>")
    [get, post] >> mail

with DAG(dag_id="example_failure_email", schedule=None,
         start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), tags=["example"],
         default_args={"email": ["oncall@example.com"], "email_on_retry": False}):

    def broken() -> None:
        raise ValueError("the report could not be built")

    PythonOperator(task_id="broken", python_callable=broken, retries=1, retry_delay=0)
