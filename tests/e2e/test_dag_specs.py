"""DAGs submitted as data through the real services: command, http and python-callable
tasks with dependencies and a trigger rule, validation errors naming the field, versions,
REST mirrors, ad-hoc tasks with their log, and the survival of spec DAGs across parses."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format

from flow.platform import Platform
from flow.v1 import (
    common_pb2,
    dag_pb2,
    dag_service_pb2,
    dag_spec_service_pb2,
    dag_spec_service_pb2_grpc,
)
from flow.v1 import task_instance_service_pb2 as tpb
from flow.v1 import xcom_service_pb2 as xpb
from tests.e2e.runtime import RuntimeApi, rpc_error, started_platform

pytestmark = pytest.mark.e2e
SUCCESS = common_pb2.DAG_RUN_STATE_SUCCESS
pb = dag_spec_service_pb2


class _Handler(BaseHTTPRequestHandler):
    """GET /ok -> 200 "pong"; anything else -> 404."""

    def do_GET(self) -> None:
        body, status = (b"pong", 200) if self.path == "/ok" else (b"missing", 404)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory,
             request: pytest.FixtureRequest) -> Iterator[Platform]:
    # Parse the folder every second, so a test can watch a parse round pass spec DAGs by.
    with started_platform(tmp_path_factory, request, ["example_bash.py"],
                          extra_env={"FLOW_SCHEDULER__PARSE_INTERVAL_SECONDS": "1"}) as started:
        yield started



@pytest.fixture(scope="module")
def specs(api: RuntimeApi) -> Any:
    return dag_spec_service_pb2_grpc.DagSpecServiceStub(api.channel)


def _spec(http_server: str) -> Any:
    """extract (command) -> [ping (http), encode (python json:dumps)] -> report (all_done)."""
    return json_format.ParseDict({
        "dag_id": "spec_pipeline", "description": "from data", "schedule": "@daily",
        "tags": ["polyglot"], "params": {"who": "world"},
        "tasks": [
            {"task_id": "extract", "command": {"command": "echo hello {{ params.who }} $GREETING",
                                               "env": {"GREETING": "from-env"}}},
            {"task_id": "ping", "upstream_task_ids": ["extract"],
             "http": {"method": "GET", "url": f"{http_server}/ok", "expected_status": [200]}},
            {"task_id": "encode", "upstream_task_ids": ["extract"],
             "python": {"callable": "json:dumps", "kwargs": {"obj": {"n": 1}, "sort_keys": True}}},
            {"task_id": "broken", "upstream_task_ids": ["extract"], "retries": 1,
             "retry_delay_seconds": 0.1,
             "http": {"method": "GET", "url": f"{http_server}/missing"}},
            {"task_id": "report", "upstream_task_ids": ["ping", "encode", "broken"],
             "trigger_rule": "all_done", "command": {"command": "echo done"}},
        ]}, dag_pb2.DagSpec())


def test_a_spec_dag_runs_like_a_python_dag(api: RuntimeApi, specs: Any,
                                           http_server: str) -> None:
    """A submitted spec is listed and shown as a DAG (fileloc dagspec:<id>); its run executes
    the command, http and python tasks on the worker with XComs and logs, retries the
    failing task, and runs the all_done task after it."""
    answer = specs.SubmitDagSpec(pb.SubmitDagSpecRequest(spec=_spec(http_server)),
                                 metadata=api.metadata, timeout=30)
    assert answer.created and answer.version.version == 1
    assert answer.dag.fileloc == "dagspec:spec_pipeline"
    assert {t.task_id: t.operator for t in answer.dag.tasks} == {
        "extract": "BashOperator", "ping": "HttpOperator", "encode": "PythonOperator",
        "broken": "HttpOperator", "report": "BashOperator"}
    # The leaf (report, all_done) succeeded: the run succeeds, as Airflow decides by leaves.
    run_id, states = api.run_to_end("spec_pipeline")
    assert states == {"extract": "success", "ping": "success", "encode": "success",
                      "broken": "failed", "report": "success"}
    log = api.read_log("spec_pipeline", run_id, "extract")
    assert "hello world from-env" in log
    encoded = api.call(api.xcom.GetXCom, xpb.GetXComRequest(
        dag_id="spec_pipeline", run_id=run_id, task_id="encode"))
    assert json.loads(encoded.xcom.value) == '{"n": 1}'
    tries = api.call(api.tis.ListTaskInstanceTries, tpb.ListTaskInstanceTriesRequest(
        key=common_pb2.TaskInstanceKey(dag_id="spec_pipeline", run_id=run_id,
                                       task_id="broken", map_index=-1)))
    assert len(tries.tries) == 2
    assert "404" in api.read_log("spec_pipeline", run_id, "broken", try_number=2)


def test_validation_errors_name_the_field(api: RuntimeApi, specs: Any) -> None:
    """Cycles, unknown upstream tasks, duplicate ids, missing kinds, bad trigger rules and
    callables are INVALID_ARGUMENT with the field at fault in the message."""
    def submit(tasks: list[dict[str, Any]]) -> grpc.RpcError:
        spec = json_format.ParseDict({"dag_id": "bad_spec", "tasks": tasks}, dag_pb2.DagSpec())
        return rpc_error(lambda: specs.SubmitDagSpec(pb.SubmitDagSpecRequest(spec=spec),
                                                     metadata=api.metadata, timeout=30))

    echo = {"command": {"command": "true"}}
    cases = [
        ([{"task_id": "a", "upstream_task_ids": ["b"], **echo},
          {"task_id": "b", "upstream_task_ids": ["a"], **echo}], "spec.tasks[", "cycle"),
        ([{"task_id": "a", "upstream_task_ids": ["nope"], **echo}],
         "spec.tasks[0].upstream_task_ids", "unknown upstream task 'nope'"),
        ([{"task_id": "a", **echo}, {"task_id": "a", **echo}], "spec.tasks[1].task_id",
         "used twice"),
        ([{"task_id": "a"}], "spec.tasks[0].kind", "no kind"),
        ([{"task_id": "a", "trigger_rule": "sometimes", **echo}], "spec.tasks[0].trigger_rule",
         "sometimes"),
        ([{"task_id": "a", "python": {"callable": "not a ref"}}],
         "spec.tasks[0].python.callable", "package.module:function"),
        ([], "spec.tasks", "at least one task"),
    ]
    for tasks, field, words in cases:
        error = submit(tasks)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (tasks, error.details())
        assert field in error.details() and words in error.details(), error.details()
    missing = rpc_error(lambda: specs.SubmitDagSpec(pb.SubmitDagSpecRequest(),
                                                    metadata=api.metadata, timeout=30))
    assert missing.code() == grpc.StatusCode.INVALID_ARGUMENT and "spec" in missing.details()
    taken = json_format.ParseDict({"dag_id": "example_bash", "tasks": [
        {"task_id": "a", **echo}]}, dag_pb2.DagSpec())
    api.wait_for_dag("example_bash")
    clash = rpc_error(lambda: specs.SubmitDagSpec(pb.SubmitDagSpecRequest(spec=taken),
                                                  metadata=api.metadata, timeout=30))
    assert clash.code() == grpc.StatusCode.ALREADY_EXISTS


def test_versions_are_stored_and_resubmitting_is_idempotent(api: RuntimeApi,
                                                            specs: Any) -> None:
    """An unchanged resubmission keeps the version; a change adds the next one; each version
    reads back as submitted, over gRPC and REST."""
    spec = json_format.ParseDict({"dag_id": "spec_versions", "tasks": [
        {"task_id": "a", "command": {"command": "echo one"}}]}, dag_pb2.DagSpec())
    first = specs.SubmitDagSpec(pb.SubmitDagSpecRequest(spec=spec), metadata=api.metadata,
                                timeout=30)
    again = specs.SubmitDagSpec(pb.SubmitDagSpecRequest(spec=spec), metadata=api.metadata,
                                timeout=30)
    assert (first.version.version, first.created) == (1, True)
    assert (again.version.version, again.created) == (1, False)
    spec.tasks[0].command.command = "echo two"
    second = specs.SubmitDagSpec(pb.SubmitDagSpecRequest(spec=spec), metadata=api.metadata,
                                 timeout=30)
    assert (second.version.version, second.created) == (2, True)
    listed = specs.ListDagSpecVersions(pb.ListDagSpecVersionsRequest(dag_id="spec_versions"),
                                       metadata=api.metadata, timeout=30)
    assert [v.version for v in listed.versions] == [2, 1]
    old = specs.GetDagSpec(pb.GetDagSpecRequest(dag_id="spec_versions", version=1),
                           metadata=api.metadata, timeout=30)
    assert old.spec.tasks[0].command.command == "echo one"
    _run_id, states = api.run_to_end("spec_versions")
    assert states == {"a": "success"}
    missing = rpc_error(lambda: specs.GetDagSpec(pb.GetDagSpecRequest(
        dag_id="spec_versions", version=9), metadata=api.metadata, timeout=30))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    headers = {"Authorization": f"Bearer {api.platform.addresses.token}"}
    with httpx.Client(base_url=api.platform.addresses.http, headers=headers, timeout=30) as http:
        latest = http.get("/api/v1/dagSpecs/spec_versions")
        assert latest.status_code == 200
        assert latest.json()["version"]["version"] == 2
        assert http.get("/api/v1/dagSpecs/spec_versions", params={"version": 1}).json()[
            "spec"]["tasks"][0]["command"]["command"] == "echo one"
        posted = http.post("/api/v1/dagSpecs", json={"dag_id": "spec_rest", "tasks": [
            {"task_id": "t", "command": {"command": "echo rest"}}]})
        assert posted.status_code == 200 and posted.json()["created"] is True
        bad = http.post("/api/v1/dagSpecs", json={"dag_id": "spec_rest", "tasks": [
            {"task_id": "t", "upstream_task_ids": ["x"], "command": {"command": "true"}}]})
        assert bad.status_code == 400
        assert bad.json()["error"]["details"]["field"] == "spec.tasks[0].upstream_task_ids"


def test_adhoc_task_gives_a_handle_to_watch_and_its_log(api: RuntimeApi, specs: Any) -> None:
    """SubmitTask runs one command on a queue at once; its handle reaches the task
    instance's state and its followed log; the DAG is tagged adhoc."""
    task = dag_pb2.TaskSpec(queue="default", command=dag_pb2.CommandTask(
        command="echo adhoc-output-42"))
    handle = specs.SubmitTask(pb.SubmitTaskRequest(task=task), metadata=api.metadata,
                              timeout=30)
    assert handle.dag_id.startswith("adhoc_") and handle.task_id == "task"
    run = api.wait_for_run(handle.dag_id, handle.run_id)
    assert run.state == SUCCESS
    ti = api.call(api.tis.GetTaskInstance, tpb.GetTaskInstanceRequest(
        key=common_pb2.TaskInstanceKey(dag_id=handle.dag_id, run_id=handle.run_id,
                                       task_id=handle.task_id, map_index=-1)))
    assert ti.task_instance.state == common_pb2.TASK_INSTANCE_STATE_SUCCESS
    followed = b"".join(chunk.content for chunk in api.tis.FollowTaskLog(
        tpb.FollowTaskLogRequest(key=common_pb2.TaskInstanceKey(
            dag_id=handle.dag_id, run_id=handle.run_id, task_id=handle.task_id,
            map_index=-1, try_number=1)), metadata=api.metadata, timeout=30))
    assert b"adhoc-output-42" in followed
    dag = api.dags.GetDag(dag_service_pb2.GetDagRequest(
        dag_id=handle.dag_id), metadata=api.metadata, timeout=10).dag
    assert "adhoc" in dag.tags
    again = specs.SubmitTask(pb.SubmitTaskRequest(task=task), metadata=api.metadata,
                             timeout=30)
    assert again.dag_id == handle.dag_id and again.run_id != handle.run_id
    bad = rpc_error(lambda: specs.SubmitTask(pb.SubmitTaskRequest(task=dag_pb2.TaskSpec(
        http=dag_pb2.HttpTask(url="ftp://x"))), metadata=api.metadata, timeout=30))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT and "task.http.url" in bad.details()
    headers = {"Authorization": f"Bearer {api.platform.addresses.token}"}
    with httpx.Client(base_url=api.platform.addresses.http, headers=headers, timeout=30) as http:
        posted = http.post("/api/v1/tasks", json={"task": {"command": {
            "command": "echo via-rest"}}})
        assert posted.status_code == 200, posted.text
        rest = posted.json()
        assert rest["dag_id"].startswith("adhoc_") and rest["task_id"] == "task"
        assert api.wait_for_run(rest["dag_id"], rest["run_id"]).state == SUCCESS
        assert "via-rest" in api.read_log(rest["dag_id"], rest["run_id"], "task")
        refused = http.post("/api/v1/tasks", json={"task": {"task_id": "t"}})
        assert refused.status_code == 400
        assert refused.json()["error"]["details"]["field"] == "task.kind"


def test_flowcli_submits_specs_and_adhoc_tasks(api: RuntimeApi, tmp_path: Any) -> None:
    """`dags submit FILE.yaml` stores a version, `dags spec` shows it (and --versions), and
    `tasks submit --follow` streams the ad-hoc task's log and exits 0 on success."""
    spec_file = tmp_path / "cli_spec.yaml"
    spec_file.write_text("dag_id: cli_spec\ntasks:\n  - task_id: hello\n"
                         "    command:\n      command: echo from-yaml\n")
    code, out, err = api.cli("dags", "submit", str(spec_file))
    assert code == 0 and "version 1" in out, err
    code, out, _ = api.cli("dags", "submit", str(spec_file))
    assert code == 0 and "unchanged" in out
    shown = api.cli_json("dags", "spec", "cli_spec", "--output", "json")
    assert shown["spec"]["tasks"][0]["command"]["command"] == "echo from-yaml"
    assert [v["version"] for v in api.cli_json("dags", "spec", "cli_spec", "--versions",
                                                "-o", "json")] == [1]
    code, _out, err = api.cli("dags", "spec", "cli_spec", "--version", "5")
    assert code == 1 and "no version 5" in err
    broken = tmp_path / "broken.json"
    broken.write_text('{"dag_id": "x", "tasks": [{"task_id": "a"}]}')
    code, _out, err = api.cli("dags", "submit", str(broken))
    assert code == 2 and "spec.tasks[0].kind" in err
    code, out, err = api.cli("tasks", "submit", "--queue", "default", "--command",
                             "echo cli-adhoc-7", "--follow")
    assert code == 0, err
    assert "cli-adhoc-7" in out and "task task: success" in err
    code, out, err = api.cli("tasks", "submit", "--command", "exit 3", "--follow")
    assert code == 1 and "task task: failed" in err


NEW_FILE_DAG = """
from datetime import UTC, datetime
from flow.sdk import DAG
from flow.operators.empty import EmptyOperator

with DAG("file_after_spec", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    EmptyOperator(task_id="noop")
"""


def test_parse_rounds_leave_spec_dags_active(api: RuntimeApi, specs: Any,
                                             platform: Platform) -> None:
    """A DAG folder parse (here: a new file appears) does not mark DAGs submitted as data
    inactive, though no file of theirs is in the folder."""
    spec = json_format.ParseDict({"dag_id": "spec_survives", "tasks": [
        {"task_id": "a", "command": {"command": "true"}}]}, dag_pb2.DagSpec())
    specs.SubmitDagSpec(pb.SubmitDagSpecRequest(spec=spec), metadata=api.metadata, timeout=30)
    (platform.dags_folder / "file_after_spec.py").write_text(NEW_FILE_DAG)
    api.wait_for_dag("file_after_spec")  # a parse round stored the new file
    dag = api.dags.GetDag(dag_service_pb2.GetDagRequest(dag_id="spec_survives"),
                          metadata=api.metadata, timeout=10).dag
    assert dag.is_active and dag.fileloc == "dagspec:spec_survives"
    _run_id, states = api.run_to_end("spec_survives")
    assert states == {"a": "success"}
