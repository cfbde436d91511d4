# A flow DAG with a misspelt trigger rule.
from flow.operators.empty import EmptyOperator
from flow.sdk import DAG

with DAG("bad_trigger_rule", schedule=None):
    EmptyOperator(task_id="x", trigger_rule="all_sucess")
