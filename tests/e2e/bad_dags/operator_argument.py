# A flow DAG with an argument BashOperator does not take.
from flow.operators.bash import BashOperator
from flow.sdk import DAG

with DAG("bad_operator_argument", schedule=None):
    BashOperator(task_id="x", bash_command="true", bash_comand="typo")
