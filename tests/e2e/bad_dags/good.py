# A flow DAG that imports fine next to the broken ones.
from flow.operators.empty import EmptyOperator
from flow.sdk import DAG

with DAG("good_neighbour", schedule=None):
    EmptyOperator(task_id="fine")
