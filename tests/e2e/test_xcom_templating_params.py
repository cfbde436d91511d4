"""XCom, Jinja templating and Params through the real services: values, rendered commands,
stored rendered fields, and the bad inputs (non-serializable or oversized XCom, a template
syntax error, a conf that fails its params' schema) each with its own message."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import grpc
import httpx
import pytest

from flow.platform import Platform
from flow.v1 import (
    common_pb2,
    dag_run_service_pb2,
    task_execution_service_pb2,
    task_execution_service_pb2_grpc,
)
from flow.v1 import xcom_service_pb2 as xpb
from tests.e2e.runtime import RuntimeApi, module_platform, rpc_error

pytestmark = pytest.mark.e2e
FAILED = common_pb2.DAG_RUN_STATE_FAILED
MAX_XCOM = 2048

BAD_INPUT_DAG = '''
from datetime import UTC, datetime
from flow.operators.bash import BashOperator
from flow.operators.python import PythonOperator
from flow.sdk import DAG, Param

with DAG("bad_inputs", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC),
         params={"must": Param(type="string", minLength=2)}):
    PythonOperator(task_id="not_json", python_callable=lambda: {1, 2, 3})
    PythonOperator(task_id="too_big", python_callable=lambda: "x" * 5000)
    PythonOperator(task_id="push_not_json",
                   python_callable=lambda ti: ti.xcom_push("k", object()))
    BashOperator(task_id="bad_template", bash_command="echo {{ ds ")
    BashOperator(task_id="undefined_name", bash_command="echo {{ no_such_name }}")
'''

BAD_DEFAULT_DAG = '''
from datetime import UTC, datetime
from flow.sdk import DAG, Param

with DAG("bad_default", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC),
         params={"level": Param("loud", enum=["quiet", "normal"])}):
    pass
'''

# DAG-level templating: its own search path (a template file), macros and filters, and
# rendering to native Python objects.
DAG_TEMPLATING_DAG = '''
import os
from datetime import UTC, datetime
from flow.operators.bash import BashOperator
from flow.operators.python import PythonOperator
from flow.sdk import DAG

with DAG("dag_templating", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC),
         params={"who": "flow"},
         template_searchpath=[os.path.join(os.path.dirname(__file__), "greetings")],
         user_defined_macros={"answer": lambda: 42},
         user_defined_filters={"shout": lambda text: text.upper() + "!"},
         render_template_as_native_obj=True):
    BashOperator(task_id="from_file", bash_command="greet.sh")
    PythonOperator(task_id="native", python_callable=lambda numbers: sum(numbers),
                   op_kwargs={"numbers": "{{ [1, 2, answer()] }}"})
'''
GREET_TEMPLATE = "echo hello {{ params.who | shout }} {{ answer() }}\n"


platform = module_platform(["example_xcom.py", "example_templating.py"],
                           {"bad_inputs.py": BAD_INPUT_DAG,
                            "bad_default.py": BAD_DEFAULT_DAG,
                            "dag_templating.py": DAG_TEMPLATING_DAG,
                            "greetings/greet.sh": GREET_TEMPLATE},
                           {"FLOW_CORE__MAX_XCOM_SIZE": str(MAX_XCOM)})


def test_dag_level_templating(api: RuntimeApi) -> None:
    """A DAG's template_searchpath (a .sh template file), user_defined_macros and
    user_defined_filters, and render_template_as_native_obj (a list, not its text), as in
    Airflow."""
    api.wait_for_dag("dag_templating")
    run = api.trigger("dag_templating")
    assert api.wait_for_run("dag_templating", run.run_id).state == (
        common_pb2.DAG_RUN_STATE_SUCCESS), api.states("dag_templating", run.run_id)
    assert "hello FLOW! 42" in api.read_log("dag_templating", run.run_id, "from_file")
    got = api.call(api.xcom.GetXCom, xpb.GetXComRequest(
        dag_id="dag_templating", run_id=run.run_id, task_id="native"))
    assert json.loads(got.xcom.value) == 45



def test_xcom_push_pull_and_public_reads(api: RuntimeApi, platform: Platform) -> None:
    """Return values and keyed pushes are pulled by one task id or a list (a list back, in
    order); the values are readable over gRPC, REST and `flowcli xcom get` as JSON."""
    run_id, _ = api.run_to_end("example_xcom")
    log = api.read_log("example_xcom", run_id, "consume")
    assert ("both=[7, 'more'] rows=[1, 2, 3] meta={'source': 'api', 'ok': True} "
            "missing=none") in log
    assert "rows=6" in api.read_log("example_xcom", run_id, "echo")
    got = api.call(api.xcom.GetXCom, xpb.GetXComRequest(
        dag_id="example_xcom", run_id=run_id, task_id="consume"))
    assert json.loads(got.xcom.value) == {"total": 13, "both": [7, "more"]}
    listed = api.call(api.xcom.ListXComs, xpb.ListXComsRequest(
        dag_id="example_xcom", run_id=run_id, task_id="produce"))
    assert {x.key: json.loads(x.value) for x in listed.xcoms} == {
        "meta": {"source": "api", "ok": True}, "return_value": 7, "rows": [1, 2, 3]}
    error = rpc_error(lambda: api.call(api.xcom.GetXCom, xpb.GetXComRequest(
        dag_id="example_xcom", run_id=run_id, task_id="produce", key="nope")))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    code, out, _ = api.cli("xcom", "get", "example_xcom", run_id, "produce", "--key", "meta")
    assert code == 0 and json.loads(out) == {"source": "api", "ok": True}
    code, out, _ = api.cli("xcom", "get", "example_xcom", run_id, "produce", "--map-index",
                           "-1")
    assert code == 0 and json.loads(out) == 7
    assert api.cli("xcom", "get", "example_xcom", run_id, "produce", "--key", "x")[0] == 1
    addresses = platform.addresses
    base = f"/api/v1/dags/example_xcom/dagRuns/{run_id}/taskInstances/produce/xcomEntries"
    with httpx.Client(base_url=addresses.http,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        assert http.get(f"{base}/rows").json()["xcom"]["value"] == [1, 2, 3]
        entries = http.get(base).json()["xcoms"]
        assert {e["key"] for e in entries} == {"meta", "return_value", "rows"}


def test_bad_xcoms_fail_the_task_with_a_clear_message(api: RuntimeApi) -> None:
    """A non-serializable return value, an oversized XCom and a non-serializable push each
    fail their task with a message that says why; the other tasks and the services go on."""
    run_id, _ = api.run_to_end("bad_inputs", conf={"must": "ok"}, expect=FAILED)
    states = api.states("bad_inputs", run_id)
    assert states["not_json"] == states["too_big"] == states["push_not_json"] == "failed"
    log = api.read_log("bad_inputs", run_id, "not_json")
    assert "returned a value of type set that is not JSON serializable" in log
    log = api.read_log("bad_inputs", run_id, "too_big")
    assert f"the limit is {MAX_XCOM} bytes (FLOW_CORE__MAX_XCOM_SIZE)" in log
    log = api.read_log("bad_inputs", run_id, "push_not_json")
    assert "XCom 'k' of task 'push_not_json' is not JSON serializable (object)" in log


def test_templates_render_airflow_context_params_and_files(api: RuntimeApi,
                                                           platform: Platform) -> None:
    """BashOperator command and env, a .sh template file read from the DAG folder and
    PythonOperator templates_dict/op_kwargs render ds, run_id, params (conf overriding the
    defaults), data_interval_start, macros and dag_run.conf; the rendered fields are stored."""
    run_id, _ = api.run_to_end("example_templating", conf={"days": 3, "note": "n1"})
    ti = api.task_instances("example_templating", run_id)["inline"]
    run = api.get_run("example_templating", run_id)
    logical = run.logical_date.ToDatetime(tzinfo=UTC)
    ds = logical.strftime("%Y-%m-%d")
    log = api.read_log("example_templating", run_id, "inline")
    assert (f"ds={ds} run={run_id} days=3 start={logical.year} "
            f"formatted={logical.strftime('%d/%m/%Y')} note=n1 hi-dev") in log
    week = (logical + timedelta(days=7)).strftime("%Y-%m-%d")
    log = api.read_log("example_templating", run_id, "report")
    assert f"report for {ds} ({ds.replace('-', '')}) of example_templating" in log
    assert f"days=3 env=dev week later {week}" in log
    back = (logical - timedelta(days=3)).strftime("%Y-%m-%d")
    log = api.read_log("example_templating", run_id, "summary")
    assert f"templates_dict={{'window': '{back}..{ds}'}} params.days=3 ds={ds}" in log
    assert f"when={logical.strftime('%Y%m%dT%H%M%S')}" in log
    scheduler = grpc.insecure_channel(
        f"127.0.0.1:{platform.services['scheduler'].info['grpc_port']}")
    try:
        stub = task_execution_service_pb2_grpc.TaskExecutionServiceStub(scheduler)
        rendered = stub.GetRenderedFields(
            task_execution_service_pb2.GetRenderedFieldsRequest(key=ti.key),
            metadata=(("authorization", f"Bearer {platform.internal_token}"),), timeout=10)
    finally:
        scheduler.close()
    assert rendered.found and rendered.try_number == 1
    fields = json.loads(rendered.rendered_fields_json)
    assert fields["bash_command"].startswith(f"echo ds={ds} run={run_id} days=3")
    assert fields["env"] == {"GREETING": "hi-dev"}


def test_template_errors_fail_the_task_with_the_reason(api: RuntimeApi) -> None:
    """A template syntax error and an undefined name fail the task at render time (as
    Airflow) with a message naming the field and the task."""
    run_id, _ = api.run_to_end("bad_inputs", conf={"must": "ok"}, expect=FAILED)
    states = api.states("bad_inputs", run_id)
    assert states["bad_template"] == states["undefined_name"] == "failed"
    log = api.read_log("bad_inputs", run_id, "bad_template")
    assert "Template syntax error in field 'bash_command' of task 'bad_template' (line 1)" in log
    log = api.read_log("bad_inputs", run_id, "undefined_name")
    assert "Could not render field 'bash_command' of task 'undefined_name'" in log
    assert "'no_such_name' is undefined" in log


def test_a_conf_failing_the_params_schema_is_refused(api: RuntimeApi,
                                                     platform: Platform) -> None:
    """Over gRPC, REST and flowcli, a trigger whose params fail their JSON schema (or lack a
    required param) is refused with the param and the rule; no run is created. A default
    that fails its own schema is an import error."""
    api.wait_for_dag("example_templating")
    before = _count_runs(api, "example_templating")
    error = rpc_error(lambda: api.trigger("example_templating", conf={"days": 0}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Param 'days' with value 0: 0 is less than the minimum of 1" in (error.details() or "")
    error = rpc_error(lambda: api.trigger("example_templating", conf={"env": "qa"}))
    assert "Param 'env'" in (error.details() or "") and "is not one of" in (error.details() or "")
    error = rpc_error(lambda: api.trigger("bad_inputs"))
    assert "Param 'must': no value was passed and it has no default value" in (
        error.details() or "")
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        refused = http.post("/api/v1/dags/example_templating/dagRuns",
                            json={"conf": {"days": "many"}})
    assert refused.status_code == 400
    assert refused.json()["error"]["reason"] == "INVALID_PARAMS"
    assert "'many' is not of type 'integer'" in refused.json()["error"]["message"]
    code, _, err = api.cli("dags", "trigger", "example_templating", "--conf", '{"days": 999}')
    assert code == 2 and "999 is greater than the maximum of 365" in err
    assert _count_runs(api, "example_templating") == before
    errors = {e.filename.rsplit("/", 1)[-1]: e.stacktrace for e in api.import_errors()}
    assert "Param 'level' with value 'loud': 'loud' is not one of" in errors["bad_default.py"]
    run_id, _ = api.run_to_end("example_templating")  # the defaults satisfy the schema
    assert "days=7" in api.read_log("example_templating", run_id, "inline")


def _count_runs(api: RuntimeApi, dag_id: str) -> int:
    return len(api.call(api.runs.ListDagRuns,
                        dag_run_service_pb2.ListDagRunsRequest(dag_id=dag_id)).dag_runs)
