"""Variables and Connections through the real services: CRUD over gRPC, REST and flowcli,
reads inside tasks through the scheduler, secrets masked in logs and encrypted in the DB."""

from __future__ import annotations

import json

import grpc
import httpx
import pytest
from sqlalchemy import create_engine, text

from flow.db.migrate import sync_url
from flow.platform import Platform
from flow.v1 import common_pb2
from flow.v1 import connection_service_pb2 as cpb
from flow.v1 import variable_service_pb2 as vpb
from tests.e2e.api import eventually
from tests.e2e.runtime import RuntimeApi, module_platform, rpc_error

pytestmark = pytest.mark.e2e
API_KEY = "ak-7f3c9e21-canary"
PASSWORD = "pw-canary-51ce"

PARSE_TIME_DAG = '''
from datetime import UTC, datetime
from flow.operators.empty import EmptyOperator
from flow.sdk import DAG, Connection, Variable

OWNER = Variable.get("parse_owner", default_var="nobody")  # top level, as Airflow allows
with DAG("parse_time_variable", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    EmptyOperator(task_id=f"owner_{OWNER}")
'''
PARSE_TIME_MISSING_DAG = '''
from datetime import UTC, datetime
from flow.sdk import DAG, Variable

Variable.get("parse_time_missing")
with DAG("parse_time_missing", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    pass
'''

UNKNOWN_VARIABLE_DAG = '''
from datetime import UTC, datetime
from flow.operators.bash import BashOperator
from flow.sdk import DAG, Variable, task

with DAG("unknown_variable", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    @task(retries=0)
    def read():
        return Variable.get("no_such_variable_here")
    read()

with DAG("leaky_error", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    @task(retries=0)
    def leak():
        from flow.sdk import Connection
        conn = Connection.get("leaky")
        raise ValueError(f"could not log in with {conn.password}")
    leak()
    BashOperator(task_id="render_secret", bash_command="echo pw={{ conn.leaky.password }}")
'''


platform = module_platform(["example_variables.py"],
                           {"unknown_variable.py": UNKNOWN_VARIABLE_DAG,
                            "parse_time_variable.py": PARSE_TIME_DAG,
                            "parse_time_missing.py": PARSE_TIME_MISSING_DAG},
                           {"FLOW_SCHEDULER__PARSE_INTERVAL_SECONDS": "1"})



def _db_rows(platform: Platform, table: str) -> list[str]:
    """Every row of a metadata table, as text (the test reads the DB the scheduler owns)."""
    engine = create_engine(sync_url(platform.database_url or
                                    f"sqlite+aiosqlite:///{platform.home / 'flow.db'}"))
    try:
        with engine.connect() as connection:
            return [str(r) for r in connection.execute(text(f"SELECT * FROM {table}"))]
    finally:
        engine.dispose()


def _set(api: RuntimeApi, key: str, value: str, description: str = "") -> None:
    api.call(api.variables.SetVariable, vpb.SetVariableRequest(
        variable=vpb.Variable(key=key, value=value, description=description)))


def test_variable_crud_over_grpc(api: RuntimeApi) -> None:
    """Set, get, list, replace and delete a variable; unknown keys are NOT_FOUND."""
    _set(api, "crud_key", "one", "a test")
    got = api.call(api.variables.GetVariable, vpb.GetVariableRequest(key="crud_key")).variable
    assert (got.key, got.value, got.description) == ("crud_key", "one", "a test")
    _set(api, "crud_key", "two")
    listed = api.call(api.variables.ListVariables, vpb.ListVariablesRequest()).variables
    assert {v.key: v.value for v in listed}["crud_key"] == "two"
    api.call(api.variables.DeleteVariable, vpb.DeleteVariableRequest(key="crud_key"))
    error = rpc_error(lambda: api.call(api.variables.GetVariable,
                                       vpb.GetVariableRequest(key="crud_key")))
    assert error.code() == grpc.StatusCode.NOT_FOUND and "crud_key" in (error.details() or "")
    error = rpc_error(lambda: api.call(api.variables.SetVariable, vpb.SetVariableRequest(
        variable=vpb.Variable(key="", value="x"))))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    # A variable with a sensitive name is stored, but no API answer carries its value.
    _set(api, "crud_api_token", "tok-crud-2718")
    got = api.call(api.variables.GetVariable, vpb.GetVariableRequest(key="crud_api_token"))
    assert got.variable.value == "***"
    listed = api.call(api.variables.ListVariables, vpb.ListVariablesRequest())
    assert "tok-crud-2718" not in str(listed)


def test_connection_crud_never_returns_the_password(api: RuntimeApi) -> None:
    """A connection's password is stored but answered as *** by get and list; a duplicate
    conn_id is ALREADY_EXISTS; bad extra JSON is INVALID_ARGUMENT."""
    conn = cpb.Connection(conn_id="crud_conn", conn_type="http", host="example.org",
                          login="me", password=PASSWORD, port=8443, extra='{"timeout": 5}')
    created = api.call(api.connections.CreateConnection,
                       cpb.CreateConnectionRequest(connection=conn)).connection
    assert created.password == "***"
    got = api.call(api.connections.GetConnection,
                   cpb.GetConnectionRequest(conn_id="crud_conn")).connection
    assert (got.host, got.port, got.login, got.password) == ("example.org", 8443, "me", "***")
    listed = api.call(api.connections.ListConnections, cpb.ListConnectionsRequest())
    assert PASSWORD not in str(listed)
    keyed = cpb.Connection(conn_id="crud_keyed", conn_type="http",
                           extra='{"timeout": 5, "api_key": "key-crud-3141"}')
    answered = api.call(api.connections.CreateConnection,
                        cpb.CreateConnectionRequest(connection=keyed)).connection
    assert json.loads(answered.extra) == {"timeout": 5, "api_key": "***"}
    listed = api.call(api.connections.ListConnections, cpb.ListConnectionsRequest())
    assert "key-crud-3141" not in str(listed)
    error = rpc_error(lambda: api.call(api.connections.CreateConnection,
                                       cpb.CreateConnectionRequest(connection=conn)))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    bad = cpb.Connection(conn_id="bad_extra", conn_type="http", extra="{not json")
    error = rpc_error(lambda: api.call(api.connections.CreateConnection,
                                       cpb.CreateConnectionRequest(connection=bad)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    # Update: the fields of the mask change; "***" written back keeps the stored password.
    updated = api.call(api.connections.UpdateConnection, cpb.UpdateConnectionRequest(
        conn_id="crud_conn", connection=cpb.Connection(host="new.example.org", port=9443),
        update_mask=["host", "port"])).connection
    assert (updated.host, updated.port, updated.login, updated.password) == (
        "new.example.org", 9443, "me", "***")
    got.host = "third.example.org"
    api.call(api.connections.UpdateConnection, cpb.UpdateConnectionRequest(
        conn_id="crud_conn", connection=got))
    assert api.runtime_connection("crud_conn")["password"] == PASSWORD
    for request, code in (
            (cpb.UpdateConnectionRequest(conn_id="nope", connection=got),
             grpc.StatusCode.NOT_FOUND),
            (cpb.UpdateConnectionRequest(conn_id="crud_conn", connection=got,
                                         update_mask=["password_hash"]),
             grpc.StatusCode.INVALID_ARGUMENT),
            (cpb.UpdateConnectionRequest(conn_id="crud_conn", connection=cpb.Connection(
                extra="[1]"), update_mask=["extra"]), grpc.StatusCode.INVALID_ARGUMENT)):
        error = rpc_error(lambda r=request: api.call(api.connections.UpdateConnection, r))
        assert error.code() == code
    api.call(api.connections.DeleteConnection, cpb.DeleteConnectionRequest(conn_id="crud_conn"))
    error = rpc_error(lambda: api.call(api.connections.GetConnection,
                                       cpb.GetConnectionRequest(conn_id="crud_conn")))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_rest_mirrors_variables_and_connections(api: RuntimeApi, platform: Platform) -> None:
    """POST/GET/DELETE /api/v1/variables and /connections, passwords masked, in OpenAPI."""
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        assert http.post("/api/v1/variables", json={"key": "rest_key", "value": "v"}
                         ).status_code == 200
        assert http.get("/api/v1/variables/rest_key").json()["variable"]["value"] == "v"
        assert http.delete("/api/v1/variables/rest_key").status_code == 200
        missing = http.get("/api/v1/variables/rest_key")
        assert missing.status_code == 404
        assert missing.json()["error"]["reason"] == "VARIABLE_NOT_FOUND"
        created = http.post("/api/v1/connections", json={
            "conn_id": "rest_conn", "conn_type": "postgres", "host": "db", "password": PASSWORD})
        assert created.status_code == 200, created.text
        assert PASSWORD not in created.text
        got = http.get("/api/v1/connections/rest_conn").json()["connection"]
        assert got["password"] == "***" and got["host"] == "db"
        assert PASSWORD not in http.get("/api/v1/connections").text
        patched = http.patch("/api/v1/connections/rest_conn", params={"update_mask": "port"},
                             json={"port": 5433, "host": "ignored"})
        assert patched.status_code == 200, patched.text
        assert (patched.json()["connection"]["port"], patched.json()["connection"]["host"]) == (
            5433, "db")
        paths = http.get("/api/v1/openapi.json").json()["paths"]
        assert {"/api/v1/variables", "/api/v1/variables/{key}", "/api/v1/connections",
                "/api/v1/connections/{conn_id}"} <= set(paths)


def test_flowcli_variables_and_connections(api: RuntimeApi, tmp_path: object) -> None:
    """flowcli variables set/get/list/export/import/delete and connections add/get/list/delete,
    Airflow-style; a URI's password is masked on the way back."""
    import pathlib

    folder = pathlib.Path(str(tmp_path))
    assert api.cli("variables", "set", "cli_key", '{"a": 1}', "--json")[0] == 0
    code, out, _ = api.cli("variables", "get", "cli_key", "--json")
    assert code == 0 and json.loads(out) == {"a": 1}
    assert api.cli("variables", "get", "cli_missing", "--default", "dflt")[1].strip() == "dflt"
    code, _, err = api.cli("variables", "get", "cli_missing")
    assert code == 1 and "cli_missing" in err
    assert "cli_key" in api.cli("variables", "list")[1]
    assert api.cli("variables", "set", "cli_secret_token", "tok-cli-1618")[0] == 0
    export = folder / "vars.json"
    code, out, _ = api.cli("variables", "export", str(export))
    assert code == 0 and "cli_secret_token" in out  # named as left out, never as ***
    exported = json.loads(export.read_text())
    assert exported["cli_key"] == {"a": 1} and "cli_secret_token" not in exported
    (folder / "in.json").write_text(json.dumps({"imported": "yes", "nested": {"b": 2}}))
    assert api.cli("variables", "import", str(folder / "in.json"))[0] == 0
    assert api.cli("variables", "get", "nested", "-j")[1].strip().startswith("{")
    code, _, err = api.cli("variables", "get", "imported", "--json")
    assert code == 2 and "Variable imported is not JSON" in err
    assert api.cli("variables", "delete", "imported")[0] == 0
    code, _, _ = api.cli("connections", "add", "cli_conn", "--conn-uri",
                         f"postgresql://etl:{PASSWORD}@db.example.com:5432/dw?sslmode=require")
    assert code == 0
    shown = api.cli_json("connections", "get", "cli_conn", "--output", "json")
    assert shown["conn_type"] == "postgres" and shown["host"] == "db.example.com"
    assert shown["port"] == 5432 and shown["schema"] == "dw" and shown["password"] == "***"
    assert json.loads(shown["extra"]) == {"sslmode": "require"}
    code, _, err = api.cli("connections", "add", "by_fields", "--conn-type", "http",
                           "--conn-host", "h", "--conn-extra", "{oops")
    assert code == 2 and "--conn-extra" in err
    assert api.cli("connections", "add", "by_fields", "--conn-type", "http",
                   "--conn-host", "h", "--conn-port", "81")[0] == 0
    assert "by_fields" in api.cli("connections", "list")[1]
    assert api.cli("connections", "update", "by_fields", "--conn-host", "h2")[0] == 0
    shown = api.cli_json("connections", "get", "by_fields", "--output", "json")
    assert (shown["host"], shown["port"], shown["conn_type"]) == ("h2", 81, "http")
    assert api.cli("connections", "update", "by_fields")[0] == 2
    assert api.cli("connections", "update", "nope", "--conn-host", "x")[0] == 1
    assert api.cli("connections", "delete", "by_fields")[0] == 0


def test_tasks_read_variables_and_connections_with_secrets_masked(api: RuntimeApi,
                                                                  platform: Platform) -> None:
    """A DAG reads variables (plain, JSON, default, sensitive) and a connection inside tasks
    and templates; the API key and password show as *** in the logs; Variable.set from a
    task is stored; the DB holds only ciphertext."""
    _set(api, "region", "eu-west-1")
    _set(api, "etl_config", json.dumps({"batch": 500}))
    _set(api, "service_api_key", API_KEY)
    api.call(api.connections.CreateConnection, cpb.CreateConnectionRequest(
        connection=cpb.Connection(conn_id="warehouse", conn_type="postgres",
                                  host="db.example.com", port=5432, login="etl",
                                  password=PASSWORD, schema="dw",
                                  extra='{"sslmode": "require"}')))
    api.wait_for_dag("example_variables")
    run = api.trigger("example_variables")
    finished = api.wait_for_run("example_variables", run.run_id)
    states = api.states("example_variables", run.run_id)
    assert finished.state == common_pb2.DAG_RUN_STATE_SUCCESS, states
    log = api.read_log("example_variables", run.run_id, "read_variables")
    assert "region=eu-west-1 batch=500 fallback=fallback" in log
    assert "calling the service with api key ***" in log and API_KEY not in log
    log = api.read_log("example_variables", run.run_id, "use_connection")
    assert "host=db.example.com port=5432 login=etl schema=dw sslmode=require" in log
    assert "password is ***" in log and PASSWORD not in log
    assert "uri is postgres://etl:***@db.example.com:5432/dw?sslmode=require" in log
    log = api.read_log("example_variables", run.run_id, "templated")
    assert "region=eu-west-1 batch=500 host=db.example.com" in log
    stored = api.call(api.variables.GetVariable, vpb.GetVariableRequest(key="last_region"))
    assert stored.variable.value == "eu-west-1"
    rows = _db_rows(platform, "variable") + _db_rows(platform, "connection")
    assert rows and not any(API_KEY in r or PASSWORD in r or "sslmode" in r for r in rows)


def test_unknown_variable_fails_the_task_with_a_key_error(api: RuntimeApi) -> None:
    """Variable.get of a missing key without a default raises KeyError, as Airflow: the task
    fails with that message and the services keep running."""
    api.wait_for_dag("unknown_variable")
    run = api.trigger("unknown_variable")
    finished = api.wait_for_run("unknown_variable", run.run_id)
    assert finished.state == common_pb2.DAG_RUN_STATE_FAILED
    assert api.states("unknown_variable", run.run_id) == {"read": "failed"}
    log = api.read_log("unknown_variable", run.run_id, "read")
    assert "KeyError" in log and "Variable no_such_variable_here does not exist" in log
    api.call(api.variables.ListVariables, vpb.ListVariablesRequest())  # still serving


def test_secrets_in_a_task_error_are_masked_everywhere(api: RuntimeApi,
                                                       platform: Platform) -> None:
    """An exception whose message holds a connection password is masked in the task log, and
    never reaches the scheduler's log or the stored try history; a template rendering it is
    stored masked."""
    secret = "pw-in-error-9d1e"
    api.call(api.connections.CreateConnection, cpb.CreateConnectionRequest(
        connection=cpb.Connection(conn_id="leaky", conn_type="http", password=secret)))
    api.wait_for_dag("leaky_error")
    run = api.trigger("leaky_error")
    assert api.wait_for_run("leaky_error", run.run_id).state == common_pb2.DAG_RUN_STATE_FAILED
    log = api.read_log("leaky_error", run.run_id, "leak")
    assert "could not log in with ***" in log and secret not in log
    for service_log in platform.service_log_dir.glob("*.log"):
        assert secret not in service_log.read_text(errors="replace"), service_log.name
    assert "pw=***" in api.read_log("leaky_error", run.run_id, "render_secret")
    rendered = _db_rows(platform, "rendered_task_instance_fields")
    assert any("echo pw=***" in row for row in rendered)
    assert not any(secret in row for row in rendered)
    history = _db_rows(platform, "task_instance_history")
    assert any("could not log in with ***" in row for row in history)
    assert not any(secret in row for row in history)


def test_dag_files_read_variables_at_parse_time(api: RuntimeApi, platform: Platform) -> None:
    """Top-level Variable.get works while a DAG file is parsed (through the scheduler, not
    the DB); a changed variable shows after the file is parsed again; a missing one without a
    default is an import error naming it."""
    from flow.v1 import dag_service_pb2

    api.wait_for_dag("parse_time_variable")
    dag = api.dags.GetDag(dag_service_pb2.GetDagRequest(dag_id="parse_time_variable"),
                          metadata=api.metadata, timeout=10).dag
    assert [t.task_id for t in dag.tasks] == ["owner_nobody"]
    _set(api, "parse_owner", "alice")
    path = platform.dags_folder / "parse_time_variable.py"
    path.write_text(path.read_text() + "\n# touched\n")

    def reparsed() -> bool:
        dag = api.dags.GetDag(dag_service_pb2.GetDagRequest(dag_id="parse_time_variable"),
                              metadata=api.metadata, timeout=10).dag
        return [t.task_id for t in dag.tasks] == ["owner_alice"]

    eventually(reparsed, timeout=60)
    errors = {e.filename.rsplit("/", 1)[-1]: e.stacktrace for e in api.import_errors()}
    assert "Variable parse_time_missing does not exist" in errors["parse_time_missing.py"]


def test_secret_canary_never_leaves_the_scheduler_in_clear(api: RuntimeApi,
                                                          platform: Platform) -> None:
    """A unique connection password and sensitive variable value, used by a DAG that prints
    them: no GET answer of the REST API (every route whose path can be filled), no service or
    task log and no DB row holds either in clear."""
    from flow.db.models import Base
    from services.api.routes import OPERATIONS

    password, api_key = "canary-pw-51c0f2e7", "canary-key-8e3b19d4"
    _set(api, "region", "eu-west-1")
    _set(api, "etl_config", json.dumps({"batch": 1}))
    _set(api, "service_api_key", api_key)
    conn = cpb.Connection(conn_id="warehouse", conn_type="postgres", host="db.example.com",
                          login="etl", password=password, extra='{"sslmode": "require"}')
    try:
        api.call(api.connections.CreateConnection, cpb.CreateConnectionRequest(connection=conn))
    except grpc.RpcError:
        api.call(api.connections.UpdateConnection, cpb.UpdateConnectionRequest(
            conn_id="warehouse", connection=conn))
    run_id, _ = api.run_to_end("example_variables")
    secrets = (password, api_key)
    values = {"dag_id": "example_variables", "run_id": run_id, "key": "service_api_key",
              "conn_id": "warehouse", "try_number": "1", "name": "default_pool",
              "username": "admin"}
    task_ids = list(api.task_instances("example_variables", run_id))
    addresses = platform.addresses
    answered = 0
    with httpx.Client(base_url=addresses.http,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        for op in OPERATIONS:
            if op.method != "GET" or op.stream is not None:
                continue
            for task_id in (task_ids if "task_id" in op.path_params else [""]):
                filled = {**values, "task_id": task_id}
                if not set(op.path_params) <= set(filled):
                    continue
                answer = http.get("/api/v1" + op.path.format(**filled))
                answered += 1
                assert not any(s in answer.text for s in secrets), (op.path, answer.text[:300])
    assert answered > 20
    for path in [*platform.service_log_dir.rglob("*.log"), *(platform.home / "logs").rglob("*")]:
        if path.is_file():
            text_ = path.read_text(errors="replace")
            assert not any(s in text_ for s in secrets), path
    for table in Base.metadata.tables:
        rows = _db_rows(platform, table)
        assert not any(s in row for row in rows for s in secrets), table
