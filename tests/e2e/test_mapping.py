"""Dynamic task mapping through the real services: instances created from literals and from
upstream XComs, their results gathered in order, retries and clears per instance, and the
inputs that cannot be mapped over failing with Airflow's messages."""

from __future__ import annotations

import json
import pathlib

import httpx
import pytest

from flow.platform import Platform
from flow.v1 import common_pb2
from flow.v1 import task_instance_service_pb2 as tpb
from flow.v1 import xcom_service_pb2 as xpb
from tests.e2e.runtime import RuntimeApi, module_platform
from tests.fixtures.platform import PlatformFactory

pytestmark = pytest.mark.e2e
FAILED = common_pb2.DAG_RUN_STATE_FAILED
SUCCESS = common_pb2.DAG_RUN_STATE_SUCCESS

BAD_MAPPING_DAG = '''
from datetime import UTC, datetime
from flow.sdk import DAG, task

with DAG("bad_mapping", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    @task
    def scalar():
        return 5

    @task
    def nothing():
        return None

    @task
    def too_many():
        return list(range(2000))

    @task
    def show(x):
        print(x)

    show.override(task_id="over_scalar").expand(x=scalar())
    show.override(task_id="over_nothing").expand(x=nothing())
    show.override(task_id="over_too_many").expand(x=too_many())
'''


platform = module_platform(["example_mapping.py"], {"bad_mapping.py": BAD_MAPPING_DAG})



def _xcom(api: RuntimeApi, run_id: str, task_id: str, map_index: int) -> object:
    got = api.call(api.xcom.GetXCom, xpb.GetXComRequest(
        dag_id="example_mapping", run_id=run_id, task_id=task_id, map_index=map_index))
    return json.loads(got.xcom.value)


def test_mapped_tasks_run_one_instance_per_element(api: RuntimeApi, platform: Platform) -> None:
    """Each mapped task gets one instance per element (the cross product for two lists,
    the last varying fastest); a downstream task gets the results as a list in map_index
    order; a failing instance alone is retried; an empty input skips the task."""
    run_id, states = api.run_to_end("example_mapping")
    assert states == {
        "numbers": "success", "add[0]": "success", "add[1]": "success", "add[2]": "success",
        "total": "success", "double[0]": "success", "double[1]": "success",
        "double[2]": "success", "greet[0]": "success", "greet[1]": "success",
        "greet[2]": "success", "greet[3]": "success", "pairs": "success",
        "multiply[0]": "success", "multiply[1]": "success", "flaky[0]": "success",
        "flaky[1]": "success", "flaky[2]": "success", "empty": "success",
        "nothing_to_do": "skipped"}
    assert [_xcom(api, run_id, "add", i) for i in range(3)] == [11, 12, 13]
    assert "total=36 values=[11, 12, 13]" in api.read_log("example_mapping", run_id, "total")
    assert [_xcom(api, run_id, "double", i) for i in range(3)] == [22, 24, 26]
    assert [_xcom(api, run_id, "multiply", i) for i in range(2)] == [6, 20]
    greetings = [api.read_log("example_mapping", run_id, "greet", map_index=i)
                 for i in range(4)]
    for log, text in zip(greetings, ["hello ann", "hello bob", "bye ann", "bye bob"],
                         strict=True):
        assert text in log
    tis = api.task_instances("example_mapping", run_id)
    assert [tis[f"flaky[{i}]"].key.try_number for i in range(3)] == [1, 2, 1]
    code, out, _ = api.cli("tasks", "state", "example_mapping", run_id, "add", "--map-index", "2")
    assert (code, out.strip()) == (0, "success")
    assert "instance with n=2 fails its first try" in api.read_log(
        "example_mapping", run_id, "flaky", try_number=1, map_index=1)
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        listed = http.get(f"/api/v1/dags/example_mapping/dagRuns/{run_id}/taskInstances")
        assert listed.status_code == 200, listed.text
        keys = [ti["key"] for ti in listed.json()["task_instances"]]
        assert sorted(k.get("map_index", 0) for k in keys if k["task_id"] == "add") == [0, 1, 2]
        log = http.get(f"/api/v1/dags/example_mapping/dagRuns/{run_id}/taskInstances/greet/"
                       "logs/0", params={"map_index": 3})
        assert log.status_code == 200 and "bye bob" in log.json()["content"]


def test_clearing_a_mapped_task_runs_every_instance_again(api: RuntimeApi) -> None:
    """Clearing a mapped task clears all its instances; they run again with try 2, and the
    task downstream of it sees their new results."""
    run_id, _ = api.run_to_end("example_mapping")
    response = api.call(api.tis.ClearTaskInstances, tpb.ClearTaskInstancesRequest(
        dag_id="example_mapping", run_id=run_id, task_regex="^add$", include_downstream=True))
    cleared = sorted({(ti.key.task_id, ti.key.map_index) for ti in response.task_instances})
    assert cleared == [("add", 0), ("add", 1), ("add", 2), ("double", 0), ("double", 1),
                       ("double", 2), ("total", -1)]
    assert api.wait_for_run("example_mapping", run_id).state == SUCCESS
    tis = api.task_instances("example_mapping", run_id)
    assert [tis[f"add[{i}]"].key.try_number for i in range(3)] == [2, 2, 2]
    assert tis["total"].key.try_number == 2 and tis["numbers"].key.try_number == 1
    assert "total=36" in api.read_log("example_mapping", run_id, "total", try_number=2)


def test_inputs_that_cannot_be_mapped_fail_the_task_that_pushed_them(api: RuntimeApi) -> None:
    """As Airflow: a scalar, a missing value or more than 1024 elements fail the upstream
    task with its reason, and the mapped task becomes upstream_failed."""
    run_id, states = api.run_to_end("bad_mapping", expect=FAILED)
    assert states == {
        "scalar": "failed", "nothing": "failed", "too_many": "failed",
        "over_scalar": "upstream_failed", "over_nothing": "upstream_failed",
        "over_too_many": "upstream_failed"}
    assert "UnmappableXComTypePushed: unmappable return type 'int'" in api.read_log(
        "bad_mapping", run_id, "scalar")
    assert "XComForMappingNotPushed: did not push XCom for task mapping" in api.read_log(
        "bad_mapping", run_id, "nothing")
    assert "unmappable return value length: 2000 > 1024" in api.read_log(
        "bad_mapping", run_id, "too_many")


SHORT_MAPS_DAG = '''
from datetime import UTC, datetime
from flow.sdk import DAG, task

with DAG("short_maps", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    @task
    def five():
        return [1, 2, 3, 4, 5]

    @task
    def show(x):
        print(x)

    show.expand(x=five())
    show.override(task_id="over_literal").expand(x=[1, 2, 3, 4])
'''


def test_max_map_length_comes_from_the_configuration(
        tmp_path: pathlib.Path, platform_factory: PlatformFactory) -> None:
    """FLOW_CORE__MAX_MAP_LENGTH (Airflow's [core] max_map_length) bounds both checks: the
    task that pushes too many elements fails with Airflow's message (worker side), and a
    literal list longer than the limit is not expanded (scheduler side: upstream_failed, as
    any mapping that cannot be made, with the reason in the scheduler's log)."""
    (tmp_path / "short_maps.py").write_text(SHORT_MAPS_DAG)
    platform = platform_factory(tmp_path / "short_maps.py",
                                extra_env={"FLOW_CORE__MAX_MAP_LENGTH": "3"})
    api = RuntimeApi(platform)
    try:
        api.wait_for_dag("short_maps")
        run_id, states = api.run_to_end("short_maps", expect=FAILED)
        assert states == {"five": "failed", "show": "upstream_failed",
                          "over_literal": "upstream_failed"}
        assert "unmappable return value length: 5 > 3" in api.read_log(
            "short_maps", run_id, "five")
        assert "it maps over 4 elements; at most 3 are allowed" in platform.services[
            "scheduler"].log_tail(size=1_000_000)
    finally:
        api.close()
