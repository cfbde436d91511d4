# A flow DAG whose dependencies form a cycle.
from flow.operators.empty import EmptyOperator
from flow.sdk import DAG

with DAG("bad_cycle", schedule=None):
    a = EmptyOperator(task_id="a")
    b = EmptyOperator(task_id="b")
    a >> b >> a
