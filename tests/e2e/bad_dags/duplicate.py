# A flow DAG with two tasks of one id.
from flow.operators.empty import EmptyOperator
from flow.sdk import DAG

with DAG("bad_duplicate", schedule=None):
    EmptyOperator(task_id="same")
    EmptyOperator(task_id="same")
