"""Clear and mark task instances through the real services, over gRPC, REST and flowcli:
cleared tasks run again with the next try number, and the run follows."""

from __future__ import annotations

import pathlib
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest

from flow.platform import Platform
from flow.v1 import common_pb2
from flow.v1 import task_instance_service_pb2 as tpb
from tests.e2e.api import eventually
from tests.e2e.runtime import RuntimeApi, module_platform, rpc_error
from tests.fixtures.platform import PlatformFactory

pytestmark = pytest.mark.e2e
SUCCESS, FAILED = common_pb2.DAG_RUN_STATE_SUCCESS, common_pb2.DAG_RUN_STATE_FAILED
RUNNING = common_pb2.DAG_RUN_STATE_RUNNING

SLOW_DAG = '''
from datetime import UTC, datetime
from flow.operators.bash import BashOperator
from flow.sdk import DAG

with DAG("mark_demo", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    BashOperator(task_id="slow", bash_command="sleep 120") >> BashOperator(
        task_id="after_slow", bash_command="echo after slow")
'''


# A gate file that the one_at_a_time DAG's task waits for (a path no other test uses).
GATE = pathlib.Path(tempfile.gettempdir()) / f"flow-test-gate-{uuid.uuid4().hex}"
ONE_AT_A_TIME_DAG = f'''
from datetime import UTC, datetime
from flow.operators.bash import BashOperator
from flow.sdk import DAG

with DAG("one_at_a_time", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC),
         max_active_runs=1):
    BashOperator(task_id="gated", bash_command="while [ ! -e {GATE} ]; do sleep 0.05; done")
'''


platform = module_platform(["example_operations.py"], {"mark_demo.py": SLOW_DAG,
                                                       "one_at_a_time.py": ONE_AT_A_TIME_DAG})



def _tries(api: RuntimeApi, dag_id: str, run_id: str) -> dict[str, tuple[str, int]]:
    states = api.states(dag_id, run_id)
    return {t: (states[t], ti.key.try_number)
            for t, ti in api.task_instances(dag_id, run_id).items()}


def _failed_run(api: RuntimeApi) -> str:
    api.wait_for_dag("example_operations")
    run = api.trigger("example_operations")
    assert api.wait_for_run("example_operations", run.run_id).state == FAILED
    assert _tries(api, "example_operations", run.run_id) == {
        "first": ("success", 1), "flaky": ("failed", 1), "after": ("upstream_failed", 0)}
    return str(run.run_id)


def test_clear_only_failed_reruns_with_the_next_try(api: RuntimeApi) -> None:
    """`flowcli tasks clear --only-failed --yes` on a failed run: the failed task runs again
    as try 2 (its first log kept), its upstream_failed downstream runs, the run succeeds;
    then clearing from `first` downstream over gRPC reruns all three."""
    run_id = _failed_run(api)
    code, out, err = api.cli("tasks", "clear", "example_operations", run_id, "--only-failed",
                             "--yes")
    assert code == 0, err
    assert "flaky" in out and "first" not in out
    assert api.wait_for_run("example_operations", run_id).state == SUCCESS
    assert _tries(api, "example_operations", run_id) == {
        "first": ("success", 1), "flaky": ("success", 2), "after": ("success", 1)}
    assert "flaky runs try 1" in api.read_log("example_operations", run_id, "flaky", 1)
    assert "flaky runs try 2" in api.read_log("example_operations", run_id, "flaky", 2)
    response = api.call(api.tis.ClearTaskInstances, tpb.ClearTaskInstancesRequest(
        dag_id="example_operations", run_id=run_id, task_regex="^first$",
        include_downstream=True))
    assert sorted(ti.key.task_id for ti in response.task_instances) == [
        "after", "first", "flaky"]
    assert api.wait_for_run("example_operations", run_id).state == SUCCESS
    assert _tries(api, "example_operations", run_id) == {
        "first": ("success", 2), "flaky": ("success", 3), "after": ("success", 2)}


def test_clear_options_and_bad_input(api: RuntimeApi, platform: Platform) -> None:
    """Dry runs change nothing; upstream selection; an unknown run is NOT_FOUND, a bad regex
    or one matching no task INVALID_ARGUMENT; REST clears too."""
    run_id = _failed_run(api)
    preview = api.call(api.tis.ClearTaskInstances, tpb.ClearTaskInstancesRequest(
        dag_id="example_operations", run_id=run_id, task_regex="after", include_upstream=True,
        dry_run=True))
    assert sorted(ti.key.task_id for ti in preview.task_instances) == [
        "after", "first", "flaky"]
    assert api.get_run("example_operations", run_id).state == FAILED
    error = rpc_error(lambda: api.call(api.tis.ClearTaskInstances, tpb.ClearTaskInstancesRequest(
        dag_id="example_operations", run_id="nope")))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = rpc_error(lambda: api.call(api.tis.ClearTaskInstances, tpb.ClearTaskInstancesRequest(
        dag_id="example_operations", run_id=run_id, task_regex="(")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = rpc_error(lambda: api.call(api.tis.ClearTaskInstances, tpb.ClearTaskInstancesRequest(
        dag_id="example_operations", run_id=run_id, task_regex="zzz")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        cleared = http.post(
            f"/api/v1/dags/example_operations/dagRuns/{run_id}/clearTaskInstances",
            json={"task_regex": "flaky", "include_downstream": True})
    assert cleared.status_code == 200, cleared.text
    assert {ti["key"]["task_id"] for ti in cleared.json()["task_instances"]} == {
        "flaky", "after"}
    assert api.wait_for_run("example_operations", run_id).state == SUCCESS
    assert _tries(api, "example_operations", run_id)["flaky"] == ("success", 2)


def test_mark_success_and_failed(api: RuntimeApi, platform: Platform) -> None:
    """Marking a running task success (REST, Airflow's new_state) lets its downstream run and
    the run succeed; marking with --downstream failed (flowcli) changes the task instances of
    a finished run and keeps the run's state, as Airflow."""
    api.wait_for_dag("mark_demo")
    run = api.trigger("mark_demo")
    eventually(lambda: api.states("mark_demo", run.run_id)["slow"] == "running")
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        marked = http.patch(
            f"/api/v1/dags/mark_demo/dagRuns/{run.run_id}/taskInstances/slow",
            json={"new_state": "success"})
    assert marked.status_code == 200, marked.text
    assert api.wait_for_run("mark_demo", run.run_id).state == SUCCESS
    assert api.states("mark_demo", run.run_id) == {"slow": "success", "after_slow": "success"}
    assert "after slow" in api.read_log("mark_demo", run.run_id, "after_slow")
    eventually(lambda: "Attempt cancelled (the scheduler stopped it" in api.read_log(
        "mark_demo", run.run_id, "slow"))  # the marked attempt was stopped, not left running
    run_id = _failed_run(api)
    code, _, err = api.cli("tasks", "mark", "example_operations", run_id, "flaky",
                           "--state", "success", "--yes")
    assert code == 0, err
    assert api.states("example_operations", run_id)["flaky"] == "success"
    assert api.get_run("example_operations", run_id).state == FAILED
    code, _, err = api.cli("tasks", "mark", "example_operations", run_id, "first",
                           "--state", "failed", "--downstream", "--yes")
    assert code == 0, err
    assert set(api.states("example_operations", run_id).values()) == {"failed"}
    code, _, err = api.cli("tasks", "mark", "example_operations", run_id, "nope",
                           "--state", "failed", "--yes")
    assert code == 1 and "no task 'nope'" in err
    # Unknown ids name the nearest existing one, over every client.
    code, _, err = api.cli("tasks", "mark", "example_operations", run_id, "flakey",
                           "--state", "failed", "--yes")
    assert code == 1 and "did you mean 'flaky'?" in err
    code, _, err = api.cli("dags", "trigger", "example_operation")
    assert code == 1 and "did you mean 'example_operations'?" in err
    code, _, err = api.cli("dags", "show", "exmple_operations")
    assert code == 1 and "did you mean 'example_operations'?" in err


TIMEOUT_DAG = '''
from datetime import UTC, datetime, timedelta
from flow.operators.bash import BashOperator
from flow.sdk import DAG

with DAG("timeout_cleared", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC),
         dagrun_timeout=timedelta(seconds=10)):
    BashOperator(task_id="gated", bash_command="while [ ! -e {gate} ]; do sleep 0.05; done")
'''


def test_a_cleared_run_times_out_from_its_new_start(
    tmp_path: pathlib.Path, platform_factory: PlatformFactory,
) -> None:
    """Clearing a finished run restarts its dagrun_timeout: cleared after its first
    timeout had passed, it still succeeds, also across a scheduler restart (which re-arms
    the deadline from the start date stored in the DB)."""
    gate = tmp_path / "gate"
    (tmp_path / "timeout_cleared.py").write_text(TIMEOUT_DAG.format(gate=gate))
    gate.touch()
    platform = platform_factory(tmp_path / "timeout_cleared.py")
    api = RuntimeApi(platform)
    try:
        api.wait_for_dag("timeout_cleared")
        run = api.trigger("timeout_cleared")
        first = api.wait_for_run("timeout_cleared", run.run_id)
        assert first.state == SUCCESS
        started = first.start_date.ToDatetime(tzinfo=UTC)
        # let the first start's timeout pass, then run the task again
        time.sleep(max(0.0, (started + timedelta(seconds=10.5) - datetime.now(UTC))
                       .total_seconds()))
        gate.unlink()
        api.call(api.tis.ClearTaskInstances, tpb.ClearTaskInstancesRequest(
            dag_id="timeout_cleared", run_id=run.run_id, task_regex="^gated$"))
        eventually(lambda: api.states("timeout_cleared", run.run_id)["gated"] == "running")
        platform.restart_service("scheduler")
        gate.touch()
        again = api.wait_for_run("timeout_cleared", run.run_id)
        assert again.state == SUCCESS, api.states("timeout_cleared", run.run_id)
        assert again.start_date.ToDatetime(tzinfo=UTC) > started
    finally:
        api.close()


def test_a_cleared_run_waits_for_max_active_runs(api: RuntimeApi) -> None:
    """Clearing a finished run of a DAG with max_active_runs=1 while another run is running
    queues it, as Airflow does; it runs (try 2) once the other run has ended."""
    api.wait_for_dag("one_at_a_time")
    GATE.touch()
    try:
        first = api.trigger("one_at_a_time")
        assert api.wait_for_run("one_at_a_time", first.run_id).state == SUCCESS
        GATE.unlink()
        second = api.trigger("one_at_a_time")
        eventually(lambda: api.states("one_at_a_time", second.run_id)["gated"] == "running")
        api.call(api.tis.ClearTaskInstances, tpb.ClearTaskInstancesRequest(
            dag_id="one_at_a_time", run_id=first.run_id, task_regex="^gated$"))
        eventually(lambda: api.get_run("one_at_a_time", first.run_id).state
                   == common_pb2.DAG_RUN_STATE_QUEUED)
        time.sleep(1.0)  # time enough to be started and dispatched, were it not held
        assert api.get_run("one_at_a_time", first.run_id).state \
            == common_pb2.DAG_RUN_STATE_QUEUED
        assert api.states("one_at_a_time", first.run_id)["gated"] == "none"
        GATE.touch()
        assert api.wait_for_run("one_at_a_time", second.run_id).state == SUCCESS
        assert api.wait_for_run("one_at_a_time", first.run_id).state == SUCCESS
        assert _tries(api, "one_at_a_time", first.run_id) == {"gated": ("success", 2)}
    finally:
        GATE.unlink(missing_ok=True)
