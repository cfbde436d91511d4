"""The example DAGs run end to end through the four real services."""

from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from flow.v1 import backfill_service_pb2 as bpb
from flow.v1 import backfill_service_pb2_grpc, dag_service_pb2
from tests.e2e.api import Api

pytestmark = pytest.mark.e2e



def test_taskflow_passes_a_value_between_tasks(api: Api) -> None:
    """Two @task functions pass a value through XCom; the second logs the total."""
    run_id, states = api.run_to_end("example_taskflow")
    assert states == {"extract": "success", "total": "success"}
    assert "total is 16" in api.read_log("example_taskflow", run_id, "total")


def test_bash_dag_renders_templates_and_logs_output(api: Api) -> None:
    """A Bash task renders {{ ds }} and its output is served by the logserver."""
    run_id, states = api.run_to_end("example_bash")
    assert set(states.values()) == {"success"}
    log = api.read_log("example_bash", run_id, "hello")
    assert "hello from bash on 20" in log
    assert "line 3" in api.read_log("example_bash", run_id, "count")


def test_python_operator_gets_kwargs_and_context(api: Api) -> None:
    """A PythonOperator receives op_kwargs and the run_id it asks for."""
    run_id, _ = api.run_to_end("example_python", conf={"note": "from test"})
    log = api.read_log("example_python", run_id, "add")
    assert f"adding 40 and 2 in run {run_id}" in log
    assert "Returned value was: 42" in log


def test_fan_out_fan_in(api: Api) -> None:
    """Five parallel tasks run after one and before one that sums their results."""
    run_id, states = api.run_to_end("example_fanout")
    assert len(states) == 7 and set(states.values()) == {"success"}
    assert "sum of squares 30" in api.read_log("example_fanout", run_id, "combine")
    tis = api.task_instances("example_fanout", run_id)
    assert all(ti.key.try_number == 1 for tid, ti in tis.items() if tid != "start")


def test_scheduled_examples_start_paused_with_their_next_run_planned(api: Api) -> None:
    """The schedule examples are paused at creation (so they create no runs here) and show
    their timezone and next run; a dry-run backfill lists the days it would run."""
    api.wait_for_dag("example_schedule_cron")
    dag = api.dags.GetDag(dag_service_pb2.GetDagRequest(dag_id="example_schedule_cron"),
                          **api.call_options).dag
    assert dag.is_paused and dag.timezone == "Europe/Berlin" and dag.schedule == "0 6 * * 1-5"
    assert dag.HasField("next_dagrun") and dag.HasField("next_dagrun_create_after")
    api.wait_for_dag("example_schedule_daily")
    plan = backfill_service_pb2_grpc.BackfillServiceStub(api.channel).CreateBackfill(
        bpb.CreateBackfillRequest(dag_id="example_schedule_daily", dry_run=True,
                                  from_date=Timestamp(seconds=1704067200),  # 2024-01-01
                                  to_date=Timestamp(seconds=1704844800)),  # 2024-01-10
        **api.call_options)
    assert len(plan.runs) == 10 and not plan.HasField("backfill")
def test_sensors_example_waits_then_loads(api: Api) -> None:
    """example_sensors: the reschedule-mode sensor and the @task.sensor end, the loaded row
    count reaches the report, and the sensor keeps try 1 across its pokes."""
    run_id, states = api.run_to_end("example_sensors")
    assert set(states.values()) == {"success"}, states
    assert "3 rows loaded" in api.read_log("example_sensors", run_id, "report")
    assert api.task_instances("example_sensors", run_id)["settle"].key.try_number == 1
