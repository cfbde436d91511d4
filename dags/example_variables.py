"""Variables and Connections read inside tasks (through the scheduler) and in templates.

Needs: variables `region`, `etl_config` (JSON), `service_api_key` and a connection `warehouse`,
e.g. `flowcli variables set region eu-west-1` and
`flowcli connections add warehouse --conn-uri 'postgres://etl:s3cr3t@db.example.com:5432/dw'`.
The API key and the password print as *** in the task logs.
"""

from datetime import UTC, datetime

from flow.models import Variable as Airflow2Variable
from flow.operators.bash import BashOperator
from flow.sdk import DAG, Connection, Variable, task

with DAG(
    dag_id="example_variables",
    description="Variables and Connections in tasks and templates; secrets masked in logs",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    tags=["example"],
):

    @task
    def read_variables() -> dict[str, object]:
        region = Variable.get("region")
        config = Airflow2Variable.get("etl_config", deserialize_json=True)
        fallback = Variable.get("not_defined_anywhere", default_var="fallback")
        api_key = Variable.get("service_api_key")
        print(f"region={region} batch={config['batch']} fallback={fallback}")
        print(f"calling the service with api key {api_key}")
        Variable.set("last_region", region)
        return {"region": region, "batch": config["batch"]}

    @task
    def use_connection() -> str:
        conn = Connection.get("warehouse")
        print(f"host={conn.host} port={conn.port} login={conn.login} schema={conn.schema} "
              f"sslmode={conn.extra_dejson.get('sslmode')}")
        print(f"password is {conn.password}")
        print(f"uri is {conn.get_uri()}")
        return str(conn.host)

    templated = BashOperator(
        task_id="templated",
        bash_command="echo region={{ var.value.region }} batch={{ var.json.etl_config.batch }} "
                     "host={{ conn.warehouse.host }}")

    read_variables() >> use_connection() >> templated
