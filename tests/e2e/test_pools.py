"""Pools, priorities and concurrency limits through the real services: each task records when
it ran (start, end, pid) in a file, and the tests compute how many ran at once and in which
order; nothing here measures durations."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from flow.platform import Platform
from flow.v1 import common_pb2, pool_service_pb2_grpc, task_instance_service_pb2
from flow.v1 import pool_service_pb2 as pb
from tests.e2e.api import eventually
from tests.e2e.runtime import RuntimeApi, rpc_error, started_platform

pytestmark = pytest.mark.e2e
SUCCESS = common_pb2.DAG_RUN_STATE_SUCCESS
FAILED = common_pb2.DAG_RUN_STATE_FAILED
SCHEDULED = "scheduled"

# Each task appends {"dag", "run", "task", "start", "end", "pid"} to conf["out"].
SPANS = '''
import json, os, time
from flow.operators.python import PythonOperator


def span(hold=0.2, **context):
    start = time.time()
    time.sleep(hold)
    record = {"dag": context["dag"].dag_id, "run": context["run_id"],
              "task": context["task"].task_id, "start": start, "end": time.time(),
              "pid": os.getpid()}
    with open(context["dag_run"].conf["out"], "a") as f:
        f.write(json.dumps(record) + "\\n")


def spans(dag, count, **kwargs):
    return [PythonOperator(task_id=f"t{i}", python_callable=span, dag=dag,
                           **{k: (v(i) if callable(v) else v) for k, v in kwargs.items()})
            for i in range(count)]
'''
DAGS = {name: SPANS + text for name, text in {
    "pooled.py": '''
from flow.sdk import DAG

dag = DAG("pooled", schedule=None, max_active_tasks=100)
# weights 1, 2, 3, 4 with the absolute rule: t3 goes first, t0 last
spans(dag, 4, pool="two", priority_weight=lambda i: i + 1, weight_rule="absolute")
''',
    "heavy.py": '''
from flow.sdk import DAG

dag = DAG("heavy", schedule=None, max_active_tasks=100)
spans(dag, 4, pool="three", pool_slots=2)
''',
    "solo.py": '''
from flow.sdk import DAG

dag = DAG("solo", schedule=None, max_active_tasks=100)
spans(dag, 3, pool="solo", op_kwargs={"hold": 1.0})
''',
    "limited.py": '''
from flow.sdk import DAG

run_limited = DAG("run_limited", schedule=None, max_active_tasks=2)
spans(run_limited, 6)
task_limited = DAG("task_limited", schedule=None)
spans(task_limited, 1, max_active_tis_per_dag=1)
''',
    "past.py": '''
from flow.sdk import DAG


def gate(**context):
    if context["dag_run"].conf.get("fail"):
        raise ValueError("failing on purpose")
    span(hold=0, **context)


with DAG("depends_on_past", schedule=None):
    PythonOperator(task_id="gate", python_callable=gate, depends_on_past=True)

with DAG("wait_for_downstream", schedule=None):
    first = PythonOperator(task_id="first", python_callable=span, op_kwargs={"hold": 0},
                           wait_for_downstream=True)
    first >> PythonOperator(task_id="then", python_callable=gate)
''',
    "unknown_pool.py": '''
from flow.sdk import DAG

dag = DAG("unknown_pool", schedule=None)
spans(dag, 1, pool="nowhere")
''',
}.items()}


def max_overlap(records: list[dict[str, Any]]) -> int:
    """The most tasks that ran at the same time (an end sorts before a start at a tie)."""
    events = sorted([(r["start"], 1) for r in records] + [(r["end"], -1) for r in records])
    running = most = 0
    for _when, step in events:
        running += step
        most = max(most, running)
    return most


def read_spans(path: pathlib.Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


class PoolApi(RuntimeApi):
    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.pools = pool_service_pb2_grpc.PoolServiceStub(self.channel)

    def set_pool(self, name: str, slots: int, description: str = "") -> Any:
        return self.call(self.pools.UpdatePool, pb.UpdatePoolRequest(
            pool=pb.Pool(name=name, slots=slots, description=description),
            allow_missing=True)).pool

    def get_pool(self, name: str) -> Any:
        return self.call(self.pools.GetPool, pb.GetPoolRequest(name=name)).pool


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
             ) -> Iterator[Platform]:
    with started_platform(tmp_path_factory, request, [], DAGS) as started:
        yield started


@pytest.fixture(scope="module")
def api(platform: Platform) -> Iterator[PoolApi]:
    client = PoolApi(platform)
    yield client
    client.close()


def _trigger_all(api: PoolApi, dag_id: str, runs: int, out: pathlib.Path) -> list[str]:
    api.wait_for_dag(dag_id)
    return [api.trigger(dag_id, conf={"out": str(out)}).run_id for _ in range(runs)]


def test_pool_of_two_never_runs_more_than_two_and_follows_priority(
        api: PoolApi, tmp_path: pathlib.Path) -> None:
    """20 ready tasks of 5 runs share a pool of 2 slots: at most 2 run at once, and while they
    wait (scheduled, not queued) the pool reports them; once the pool opens, the tasks start
    by priority weight, then by the run's logical date."""
    out = tmp_path / "spans.jsonl"
    api.set_pool("two", 0, "held shut while the runs are created")
    run_ids = _trigger_all(api, "pooled", 5, out)
    eventually(lambda: all(s == SCHEDULED for r in run_ids
                           for s in api.states("pooled", r).values()))
    assert api.get_pool("two").scheduled_tasks == 20
    api.set_pool("two", 2)
    for run_id in run_ids:
        assert api.wait_for_run("pooled", run_id).state == SUCCESS
    records = read_spans(out)
    assert len(records) == 20
    assert max_overlap(records) <= 2
    # Admission order, exactly: the tasks queued by one pass share its queued_at. Walking the
    # passes in time order must give weight 4 first (t3 of runs 0..4), then 3, 2 and 1.
    passes: dict[Any, set[tuple[str, int]]] = {}
    for index, run_id in enumerate(run_ids):
        for task_id, ti in api.task_instances("pooled", run_id).items():
            passes.setdefault(ti.queued_at.ToDatetime(), set()).add((task_id, index))
    admitted = [sorted(passes[when], key=lambda t: (-int(t[0][1]), t[1]))
                for when in sorted(passes)]
    assert all(len(batch) <= 2 for batch in admitted)
    expected = [(f"t{3 - i // 5}", i % 5) for i in range(20)]
    assert [t for batch in admitted for t in batch] == expected, admitted
    pool = api.get_pool("two")
    assert (pool.running_slots, pool.queued_slots, pool.open_slots) == (0, 0, 2)


def test_max_active_tasks_limits_each_run(api: PoolApi, tmp_path: pathlib.Path) -> None:
    """max_active_tasks=2 (Airflow 3: per DAG run): 6 independent tasks run at most 2 at a
    time in each run, while two runs together may run more."""
    out = tmp_path / "spans.jsonl"
    run_ids = _trigger_all(api, "run_limited", 2, out)
    for run_id in run_ids:
        assert api.wait_for_run("run_limited", run_id).state == SUCCESS
    records = read_spans(out)
    for run_id in run_ids:
        assert max_overlap([r for r in records if r["run"] == run_id]) <= 2


def test_max_active_tis_per_dag_limits_a_task_across_runs(
        api: PoolApi, tmp_path: pathlib.Path) -> None:
    """max_active_tis_per_dag=1: the task runs one at a time across 4 runs."""
    out = tmp_path / "spans.jsonl"
    run_ids = _trigger_all(api, "task_limited", 4, out)
    for run_id in run_ids:
        assert api.wait_for_run("task_limited", run_id).state == SUCCESS
    records = read_spans(out)
    assert len(records) == 4
    assert max_overlap(records) == 1


def test_unknown_pool_leaves_the_task_scheduled_until_the_pool_exists(
        api: PoolApi, tmp_path: pathlib.Path) -> None:
    """As Airflow: a task naming a pool that does not exist is not queued (the scheduler logs
    task_pool_unknown); creating the pool lets it run."""
    out = tmp_path / "spans.jsonl"
    [run_id] = _trigger_all(api, "unknown_pool", 1, out)
    eventually(lambda: api.states("unknown_pool", run_id)["t0"] == SCHEDULED)
    log = api.platform.services["scheduler"].log_path
    eventually(lambda: '"task_pool_unknown"' in log.read_text())
    api.set_pool("nowhere", 1)
    assert api.wait_for_run("unknown_pool", run_id).state == SUCCESS


def test_pool_api_errors_and_cli(api: PoolApi) -> None:
    """Pools CRUD: specific errors for bad input, and flowcli pools set/get/list/delete."""
    err = rpc_error(lambda: api.call(api.pools.GetPool, pb.GetPoolRequest(name="absent")))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = rpc_error(lambda: api.call(api.pools.CreatePool, pb.CreatePoolRequest(
        pool=pb.Pool(name="bad", slots=-1))))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    api.call(api.pools.CreatePool, pb.CreatePoolRequest(pool=pb.Pool(name="dup", slots=1)))
    err = rpc_error(lambda: api.call(api.pools.CreatePool, pb.CreatePoolRequest(
        pool=pb.Pool(name="dup", slots=1))))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    err = rpc_error(lambda: api.call(api.pools.UpdatePool, pb.UpdatePoolRequest(
        pool=pb.Pool(name="absent", slots=1))))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = rpc_error(lambda: api.call(api.pools.DeletePool,
                                     pb.DeletePoolRequest(name="default_pool")))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert api.get_pool("default_pool").slots == 128

    assert api.cli("pools", "set", "cli_pool", "3", "made by flowcli")[0] == 0
    got = api.cli_json("pools", "get", "cli_pool", "--output", "json")
    assert (got["name"], got["slots"], got["description"]) == ("cli_pool", 3, "made by flowcli")
    assert "cli_pool" in {p["name"] for p in api.cli_json("pools", "list", "--output", "json")}
    assert api.cli("pools", "delete", "cli_pool")[0] == 0
    assert api.cli("pools", "get", "cli_pool")[0] == 1
    with pytest.raises(SystemExit) as exited:  # argparse: SLOTS must be a number
        api.cli("pools", "set", "cli_pool", "many")
    assert exited.value.code == 2


def test_pools_over_rest(api: PoolApi) -> None:
    """/api/v1/pools: create, read, patch, delete, with 400/404/409 for bad requests."""
    base = f"{api.platform.addresses.http}/api/v1"
    headers = {"Authorization": f"Bearer {api.platform.addresses.token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
        created = http.post("/pools", json={"name": "rest", "slots": 4, "description": "r"})
        assert created.status_code == 200, created.text
        assert http.post("/pools", json={"name": "rest", "slots": 4}).status_code == 409
        assert http.post("/pools", json={"name": "neg", "slots": -2}).status_code == 400
        patched = http.patch("/pools/rest", json={"slots": 6, "description": "bigger"})
        assert patched.status_code == 200, patched.text
        body = http.get("/pools/rest").json()["pool"]
        assert (body["slots"], body["open_slots"]) == (6, 6)
        assert http.patch("/pools/absent", json={"slots": 1}).status_code == 404
        assert http.delete("/pools/rest").status_code == 200
        assert http.get("/pools/rest").status_code == 404
        assert "/api/v1/pools/{name}" in http.get("/openapi.json").json()["paths"]


def test_parallelism_and_the_default_max_active_tasks_come_from_config(
        tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
        tmp_path: pathlib.Path) -> None:
    """FLOW_CORE__PARALLELISM=2: two runs of 6 independent tasks (no DAG or pool limit in the
    way, 8 worker slots) never have more than 2 task instances running at once; and
    FLOW_CORE__MAX_ACTIVE_TASKS_PER_DAG=1 holds a DAG that sets no max_active_tasks to one."""
    wide = SPANS + '''
from flow.sdk import DAG

dag = DAG("wide", schedule=None, max_active_tasks=100)
spans(dag, 6)
narrow = DAG("narrow", schedule=None)
spans(narrow, 3)
'''
    out, narrow_out = tmp_path / "spans.jsonl", tmp_path / "narrow.jsonl"
    with started_platform(tmp_path_factory, request, [], {"wide.py": wide},
                          extra_env={"FLOW_CORE__PARALLELISM": "2",
                                     "FLOW_CORE__MAX_ACTIVE_TASKS_PER_DAG": "1"}) as platform:
        client = PoolApi(platform)
        try:
            run_ids = _trigger_all(client, "wide", 2, out)
            for run_id in run_ids:
                assert client.wait_for_run("wide", run_id).state == SUCCESS
            [narrow_run] = _trigger_all(client, "narrow", 1, narrow_out)
            assert client.wait_for_run("narrow", narrow_run).state == SUCCESS
        finally:
            client.close()
    records = read_spans(out)
    assert len(records) == 12
    assert max_overlap(records) <= 2
    assert max_overlap(read_spans(narrow_out)) == 1


def _mark_success(api: PoolApi, dag_id: str, run_id: str, task_id: str) -> None:
    api.call(api.tis.SetTaskInstanceState, task_instance_service_pb2.SetTaskInstanceStateRequest(
        dag_id=dag_id, run_id=run_id, task_id=task_id,
        state=common_pb2.TASK_INSTANCE_STATE_SUCCESS))


@pytest.mark.parametrize(("dag_id", "task_id", "blocker"), [
    ("depends_on_past", "gate", "gate"), ("wait_for_downstream", "first", "then")])
def test_depends_on_past_waits_for_the_previous_run(
        api: PoolApi, tmp_path: pathlib.Path, dag_id: str, task_id: str, blocker: str) -> None:
    """The previous run's instance (with wait_for_downstream: also its direct downstream one)
    failed: the next run's task waits as scheduled, and runs once that one is marked
    success."""
    out = tmp_path / "spans.jsonl"
    api.wait_for_dag(dag_id)
    first = api.trigger(dag_id, conf={"out": str(out), "fail": True}).run_id
    assert api.wait_for_run(dag_id, first).state == FAILED
    second = api.trigger(dag_id, conf={"out": str(out)}).run_id
    eventually(lambda: api.states(dag_id, second)[task_id] == SCHEDULED)
    assert api.get_run(dag_id, second).state == common_pb2.DAG_RUN_STATE_RUNNING
    _mark_success(api, dag_id, first, blocker)
    assert api.wait_for_run(dag_id, second).state == SUCCESS
    assert [r["run"] for r in read_spans(out) if r["task"] == task_id][-1] == second


def test_pool_slots_count_per_task(api: PoolApi, tmp_path: pathlib.Path) -> None:
    """Tasks taking 2 slots each in a pool of 3: only one runs at a time."""
    out = tmp_path / "spans.jsonl"
    api.set_pool("three", 3)
    [run_id] = _trigger_all(api, "heavy", 1, out)
    assert api.wait_for_run("heavy", run_id).state == SUCCESS
    records = read_spans(out)
    assert len(records) == 4
    assert max_overlap(records) == 1


def test_occupancy_is_rebuilt_after_a_scheduler_restart(
        api: PoolApi, tmp_path: pathlib.Path) -> None:
    """A pool of 1: the scheduler restarts while one task runs and two wait as scheduled;
    the restarted scheduler counts the running one from the DB, so the pool is never
    exceeded, and the waiting ones run when it ends."""
    out = tmp_path / "spans.jsonl"
    api.set_pool("solo", 1)
    [run_id] = _trigger_all(api, "solo", 1, out)
    eventually(lambda: sorted(api.states("solo", run_id).values())
               == ["running", SCHEDULED, SCHEDULED])
    api.platform.restart_service("scheduler")
    assert api.wait_for_run("solo", run_id).state == SUCCESS
    records = read_spans(out)
    assert len(records) == 3
    assert max_overlap(records) == 1
