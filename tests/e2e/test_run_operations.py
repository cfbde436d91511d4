"""Operations on whole runs and DAGs through the real services: cancel a running run, mark a
run success or failed, delete a run, delete a DAG (it comes back from its file without
history), and a task instance's tries; over gRPC, REST and flowcli."""

from __future__ import annotations

import grpc
import httpx
import pytest

from flow.platform import Platform
from flow.v1 import common_pb2, dag_service_pb2, pool_service_pb2_grpc
from flow.v1 import dag_run_service_pb2 as rpb
from flow.v1 import pool_service_pb2 as pool_pb
from flow.v1 import task_instance_service_pb2 as tpb
from tests.e2e.api import eventually
from tests.e2e.runtime import RuntimeApi, module_platform, rpc_error

pytestmark = pytest.mark.e2e
FAILED = common_pb2.DAG_RUN_STATE_FAILED
SUCCESS = common_pb2.DAG_RUN_STATE_SUCCESS

SLOW_DAG = '''
from datetime import UTC, datetime
from flow.operators.bash import BashOperator
from flow.sdk import DAG

with DAG("slow_run", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    BashOperator(task_id="slow", bash_command="sleep 120") >> BashOperator(
        task_id="after", bash_command="echo after")
    BashOperator(task_id="quick", bash_command="echo quick")

with DAG("pooled_slow", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    BashOperator(task_id="hold", bash_command="sleep 120", pool="single")
'''


platform = module_platform(["example_operations.py", "example_retries.py"],
                           {"slow_run.py": SLOW_DAG})



def _running(api: RuntimeApi) -> str:
    api.wait_for_dag("slow_run")
    run = api.trigger("slow_run")
    eventually(lambda: api.states("slow_run", run.run_id)["slow"] == "running")
    return str(run.run_id)


def test_cancel_stops_a_running_run(api: RuntimeApi) -> None:
    """Cancel: the running attempt is stopped and fails, the task not started is skipped,
    the run fails; a finished run cannot be cancelled (FAILED_PRECONDITION)."""
    run_id = _running(api)
    cancelled = api.call(api.runs.CancelDagRun, rpb.CancelDagRunRequest(
        dag_id="slow_run", run_id=run_id)).dag_run
    assert cancelled.state == FAILED
    assert api.wait_for_run("slow_run", run_id).state == FAILED
    states = api.states("slow_run", run_id)
    assert (states["slow"], states["after"]) == ("failed", "skipped")
    eventually(lambda: "Attempt cancelled" in api.read_log("slow_run", run_id, "slow"))
    error = rpc_error(lambda: api.call(api.runs.CancelDagRun, rpb.CancelDagRunRequest(
        dag_id="slow_run", run_id=run_id)))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    error = rpc_error(lambda: api.call(api.runs.CancelDagRun, rpb.CancelDagRunRequest(
        dag_id="slow_run", run_id="nope")))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_mark_a_run_success_or_failed(api: RuntimeApi, platform: Platform) -> None:
    """Mark success: every task instance succeeds, a failed run included; mark failed over
    REST stops a running run; flowcli runs mark asks unless --yes."""
    run_id, _ = api.run_to_end("example_operations", expect=FAILED)
    marked = api.call(api.runs.SetDagRunState, rpb.SetDagRunStateRequest(
        dag_id="example_operations", run_id=run_id, state=SUCCESS)).dag_run
    assert marked.state == SUCCESS
    assert set(api.states("example_operations", run_id).values()) == {"success"}
    error = rpc_error(lambda: api.call(api.runs.SetDagRunState, rpb.SetDagRunStateRequest(
        dag_id="example_operations", run_id=run_id, state=common_pb2.DAG_RUN_STATE_RUNNING)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    running = _running(api)
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        answer = http.patch(f"/api/v1/dags/slow_run/dagRuns/{running}",
                            json={"state": "failed"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["dag_run"]["state"] == "DAG_RUN_STATE_FAILED"
    assert api.states("slow_run", running)["slow"] == "failed"
    assert api.cli("runs", "mark", "example_operations", run_id, "--state", "failed")[0] == 1
    code, out, err = api.cli("runs", "mark", "example_operations", run_id, "--state", "failed",
                             "--yes")
    assert code == 0 and "now failed" in out, err
    assert api.get_run("example_operations", run_id).state == FAILED


def test_delete_a_run_and_watch_one(api: RuntimeApi, platform: Platform) -> None:
    """runs watch follows a run to its end (exit 1 when it failed); delete removes a run with
    its task instances, a running one is stopped first."""
    run = api.trigger("example_operations")
    code, _, err = api.cli("runs", "watch", "example_operations", run.run_id)
    assert code == 1 and "failed" in err
    assert api.cli("runs", "delete", "example_operations", run.run_id, "--yes")[0] == 0
    error = rpc_error(lambda: api.get_run("example_operations", run.run_id))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = rpc_error(lambda: api.task_instances("example_operations", run.run_id))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    running = _running(api)
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        assert http.delete(f"/api/v1/dags/slow_run/dagRuns/{running}").status_code == 200
        assert http.get(f"/api/v1/dags/slow_run/dagRuns/{running}").status_code == 404
    eventually(lambda: "Attempt cancelled" in api.read_log("slow_run", running, "slow", 1))


def test_tries_of_a_retried_task(api: RuntimeApi, platform: Platform) -> None:
    """Each finished try is listed with its state and error, over gRPC, REST and flowcli."""
    run_id, _ = api.run_to_end("example_retries", expect=FAILED)
    tries = api.call(api.tis.ListTaskInstanceTries, tpb.ListTaskInstanceTriesRequest(
        key=common_pb2.TaskInstanceKey(dag_id="example_retries", run_id=run_id,
                                       task_id="flaky", map_index=-1))).tries
    assert [t.key.try_number for t in tries] == [1, 2, 3]
    assert [t.state for t in tries] == [common_pb2.TASK_INSTANCE_STATE_UP_FOR_RETRY] * 2 + [
        common_pb2.TASK_INSTANCE_STATE_SUCCESS]
    assert tries[0].error and not tries[2].error
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        listed = http.get(f"/api/v1/dags/example_retries/dagRuns/{run_id}/taskInstances/"
                          "flaky/tries").json()
        assert len(listed["tries"]) == 3
    table = api.cli_json("tasks", "tries", "example_retries", run_id, "flaky", "-o", "json")
    assert len(table) == 3
    error = rpc_error(lambda: api.call(api.tis.ListTaskInstanceTries,
                                       tpb.ListTaskInstanceTriesRequest(
                                           key=common_pb2.TaskInstanceKey(
                                               dag_id="example_retries", run_id=run_id,
                                               task_id="nope", map_index=-1))))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_delete_a_dag_brings_it_back_from_its_file_without_history(api: RuntimeApi) -> None:
    run_id, _ = api.run_to_end("example_operations", expect=FAILED)
    assert api.cli("dags", "delete", "example_operations")[0] == 1  # not confirmed
    code, out, err = api.cli("dags", "delete", "example_operations", "--yes")
    assert code == 0 and "run(s)" in out, err
    error = rpc_error(lambda: api.get_run("example_operations", run_id))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    eventually(lambda: api.dags.GetDag(dag_service_pb2.GetDagRequest(
        dag_id="example_operations"), metadata=api.metadata, timeout=10).dag.dag_id
        if _exists(api, "example_operations") else None)
    assert api.call(api.runs.ListDagRuns, rpb.ListDagRunsRequest(
        dag_id="example_operations")).dag_runs == []
    error = rpc_error(lambda: api.call(api.dags.DeleteDag, dag_service_pb2.DeleteDagRequest(
        dag_id="no_such_dag")))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def _exists(api: RuntimeApi, dag_id: str) -> bool:
    try:
        api.dags.GetDag(dag_service_pb2.GetDagRequest(dag_id=dag_id), metadata=api.metadata,
                        timeout=10)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return False
        raise
    return True


def test_deleting_a_running_run_frees_its_pool_slot(api: RuntimeApi) -> None:
    """The slot a deleted run's attempt held goes to the task waiting for it."""
    pools = pool_service_pb2_grpc.PoolServiceStub(api.channel)
    pools.CreatePool(pool_pb.CreatePoolRequest(pool=pool_pb.Pool(name="single", slots=1)),
                     **api.call_options)
    api.wait_for_dag("pooled_slow")
    first = api.trigger("pooled_slow")
    eventually(lambda: api.states("pooled_slow", first.run_id)["hold"] == "running")
    second = api.trigger("pooled_slow")
    eventually(lambda: api.states("pooled_slow", second.run_id)["hold"] == "scheduled")
    api.call(api.runs.DeleteDagRun, rpb.DeleteDagRunRequest(dag_id="pooled_slow",
                                                            run_id=first.run_id))
    eventually(lambda: api.states("pooled_slow", second.run_id)["hold"] == "running")
    api.call(api.runs.CancelDagRun, rpb.CancelDagRunRequest(dag_id="pooled_slow",
                                                            run_id=second.run_id))
