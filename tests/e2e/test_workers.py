"""Workers and queues, live, through the real services: gRPC, REST and flowcli agree."""

from __future__ import annotations

import json
import pathlib
import textwrap
from typing import Any

import httpx
import pytest

from flow.cli import main as cli
from flow.platform import WorkerSpec
from flow.v1 import common_pb2, worker_service_pb2
from tests.e2e.api import Api, eventually
from tests.fixtures.platform import PlatformFactory

pytestmark = pytest.mark.e2e
ONLINE, OFFLINE = worker_service_pb2.WORKER_STATE_ONLINE, worker_service_pb2.WORKER_STATE_OFFLINE
ALL_WORKERS = worker_service_pb2.ListWorkersRequest()
ALL_QUEUES = worker_service_pb2.ListQueuesRequest()


def test_workers_and_queues_are_listed_live(
    tmp_path: pathlib.Path, platform_factory: PlatformFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """While a task holds a slot: its worker lists it as running; the queues show their
    depth, tasks in flight, listening workers and slots (a queue nobody listens to holds its
    task); a worker that stops is listed offline."""
    gate = tmp_path / "gate"
    (tmp_path / "fleet.py").write_text(textwrap.dedent(f"""
        from datetime import datetime, timezone
        from flow.sdk import DAG
        from flow.operators.bash import BashOperator

        with DAG("fleet", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)):
            BashOperator(task_id="holds_a_slot",
                         bash_command="while [ ! -e {gate} ]; do sleep 0.05; done")
            BashOperator(task_id="unheard", bash_command="true", queue="nobody")
    """))
    platform = platform_factory(tmp_path / "fleet.py", workers=[
        WorkerSpec(queues=("default",), concurrency=2),
        WorkerSpec(queues=("default", "b"), concurrency=3)])
    api = Api(platform)
    try:
        api.wait_for_dag("fleet")
        run = api.trigger("fleet")

        def busy_worker() -> Any:
            workers = api.workers.ListWorkers(ALL_WORKERS, **api.call_options)
            return next((w for w in workers.workers if w.running), None)

        worker = eventually(busy_worker)
        assert worker.state == ONLINE and worker.slots_used == 1
        assert [(k.dag_id, k.run_id, k.task_id, k.try_number) for k in worker.running] == [
            ("fleet", run.run_id, "holds_a_slot", 1)]
        workers = api.workers.ListWorkers(ALL_WORKERS, **api.call_options).workers
        assert sorted((list(w.queues), w.concurrency, w.state) for w in workers) == [
            (["default"], 2, ONLINE), (["default", "b"], 3, ONLINE)]
        assert all(w.HasField("last_heartbeat") and w.hostname for w in workers)
        only_b = api.workers.ListWorkers(worker_service_pb2.ListWorkersRequest(queue="b"),
                                        **api.call_options)
        assert [list(w.queues) for w in only_b.workers] == [["default", "b"]]

        def queues() -> dict[str, Any]:
            listed = api.workers.ListQueues(ALL_QUEUES, **api.call_options)
            return {q.name: q for q in listed.queues}

        by_name = eventually(lambda: (q := queues()).get("nobody") and q)
        assert (by_name["nobody"].depth, by_name["nobody"].in_flight,
                list(by_name["nobody"].worker_ids)) == (1, 0, [])
        default = by_name["default"]
        assert (default.depth, default.in_flight, default.slots) == (1, 1, 5)
        assert sorted(default.worker_ids) == sorted(w.worker_id for w in workers)
        assert (by_name["b"].depth, by_name["b"].slots) == (0, 3)

        addresses = platform.addresses
        with httpx.Client(base_url=addresses.http, timeout=30,
                          headers={"Authorization": f"Bearer {addresses.token}"}) as http:
            rest_workers = http.get("/api/v1/workers").json()["workers"]
            assert {w["worker_id"] for w in rest_workers} == {w.worker_id for w in workers}
            rest_queues = {q["name"]: q for q in http.get("/api/v1/queues").json()["queues"]}
            assert rest_queues["nobody"]["depth"] == "1"  # int64 is a string in proto3 JSON
            assert http.get("/api/v1/workers", headers={"Authorization": ""}).status_code == 401
        capsys.readouterr()
        target = ["--server", addresses.grpc, "--token", addresses.token]
        assert cli.main(["workers", "list", *target]) == 0
        table = capsys.readouterr().out
        assert "online" in table and "fleet.holds_a_slot#1" in table
        assert "1/2" in table or "1/3" in table
        assert cli.main(["queues", "list", "-o", "json", *target]) == 0
        listed = {q["name"]: q for q in json.loads(capsys.readouterr().out)}
        assert listed["nobody"]["depth"] == "1" and listed["default"]["slots"] == 5

        gate.touch()
        finished = eventually(lambda: api.states("fleet", run.run_id)["holds_a_slot"] ==
                              "success")
        assert finished
        platform.services["worker-1"].stop()

        def offline() -> list[Any]:
            listed = api.workers.ListWorkers(ALL_WORKERS, **api.call_options)
            return [w for w in listed.workers if w.state == OFFLINE]

        [gone] = eventually(offline)
        assert list(gone.queues) == ["default", "b"] and not gone.running
        assert api.get_run("fleet", run.run_id).state == common_pb2.DAG_RUN_STATE_RUNNING
    finally:
        api.close()
