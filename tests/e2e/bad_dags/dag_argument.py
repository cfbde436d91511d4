# A flow DAG with an argument DAG does not take.
from flow.sdk import DAG

with DAG("bad_dag_argument", schedule=None, colour="blue"):
    pass
