"""Sensors through the real services, on a worker with ONE slot: a reschedule-mode sensor
frees the slot between pokes (another task runs meanwhile) and keeps its try number; poke
mode times out (failed without retries, or skipped with soft_fail); @task.sensor pushes its
PokeReturnValue; a reschedule's due time survives a scheduler restart."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from flow.platform import Platform, WorkerSpec
from flow.v1 import common_pb2, dag_run_service_pb2
from tests.e2e.api import eventually
from tests.e2e.runtime import RuntimeApi
from tests.fixtures.platform import _Platforms

pytestmark = pytest.mark.e2e
SUCCESS = common_pb2.DAG_RUN_STATE_SUCCESS
FAILED = common_pb2.DAG_RUN_STATE_FAILED

DAGS = {
    "sensor_reschedule.py": '''
import pathlib
from flow.sdk import DAG
from flow.operators.python import PythonOperator
from flow.sensors.filesystem import FileSensor


def make(**context):
    pathlib.Path(context["dag_run"].conf["path"]).write_text("here")


with DAG("sensor_reschedule", schedule=None):
    # The sensor is queued first (higher weight) and takes the only worker slot; its first
    # poke finds nothing, so the file can only appear if the slot is freed for `make`.
    FileSensor(task_id="wait", filepath="{{ dag_run.conf['path'] }}", fs_conn_id=None,
               mode="reschedule", poke_interval=0.5, timeout=300, priority_weight=10,
               weight_rule="absolute")
    PythonOperator(task_id="make", python_callable=make, priority_weight=1,
                   weight_rule="absolute")
''',
    "sensor_external.py": '''
from flow.sdk import DAG
from flow.operators.python import PythonOperator
from flow.sensors.external_task import ExternalTaskSensor


def produce(**context):
    if context["dag_run"].conf.get("fail"):
        raise ValueError("failing on purpose")


with DAG("producer", schedule=None):
    PythonOperator(task_id="produce", python_callable=produce)

with DAG("consumer", schedule=None):
    ExternalTaskSensor(task_id="wait_for_producer", external_dag_id="producer",
                       external_task_id="produce", failed_states=["failed"],
                       mode="reschedule", poke_interval=0.3, timeout=120)
''',
    "sensor_http.py": '''
from flow.sdk import DAG
from flow.sensors.http import HttpSensor

with DAG("http_sensor", schedule=None):
    HttpSensor(task_id="up", endpoint="{{ dag_run.conf['url'] }}", http_conn_id=None,
               response_check=lambda response: response.json().get("status") == "ok",
               poke_interval=0.2, timeout=60)
''',
    "sensor_restart.py": '''
from flow.sdk import DAG
from flow.sensors.filesystem import FileSensor

with DAG("sensor_restart", schedule=None):
    FileSensor(task_id="wait", filepath="{{ dag_run.conf['path'] }}", fs_conn_id=None,
               mode="reschedule", poke_interval=4, timeout=300)
''',
    "sensor_poke.py": '''
from flow.sdk import DAG, task
from flow.sensors.base import PokeReturnValue
from flow.sensors.python import PythonSensor

with DAG("sensor_poke_timeout", schedule=None):
    PythonSensor(task_id="never", python_callable=lambda: False, poke_interval=0.2,
                 timeout=1, retries=2, retry_delay=0)

with DAG("sensor_soft_fail", schedule=None):
    never = PythonSensor(task_id="never", python_callable=lambda: False, poke_interval=0.2,
                         timeout=1, soft_fail=True)
    after = PythonSensor(task_id="after", python_callable=lambda: True)
    never >> after

with DAG("sensor_decorated", schedule=None):
    @task.sensor(poke_interval=0.1, timeout=60)
    def ready(ti=None) -> PokeReturnValue:
        return PokeReturnValue(is_done=True, xcom_value={"found": "it"})

    @task
    def use(value):
        assert value == {"found": "it"}, value

    use(ready())
''',
}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
             ) -> Iterator[Platform]:
    folder = tmp_path_factory.mktemp("sensor-dags")
    for name, text in DAGS.items():
        (folder / name).write_text(text)
    platforms = _Platforms(tmp_path_factory)
    try:
        yield platforms.start(folder, workers=(WorkerSpec(concurrency=1),))
    finally:
        platforms.close(getattr(request.node, "flow_failed", False))



def test_reschedule_mode_frees_the_only_worker_slot_while_waiting(
        api: RuntimeApi, tmp_path: pathlib.Path) -> None:
    """The sensor pokes first and finds no file; rescheduled, it holds no slot, so `make`
    runs on the one-slot worker and writes the file; the sensor's next poke (same try)
    succeeds."""
    path = tmp_path / "arrives"
    _run_id, states = api.run_to_end("sensor_reschedule", conf={"path": str(path)})
    run_id = _run_id
    assert states == {"wait": "success", "make": "success"}
    wait = api.task_instances("sensor_reschedule", run_id)["wait"]
    assert wait.key.try_number == 1
    log = api.read_log("sensor_reschedule", run_id, "wait", try_number=1)
    assert "Rescheduling task: next poke at" in log
    assert "Found file" in log


def test_reschedule_survives_a_scheduler_restart(
        api: RuntimeApi, platform: Platform, tmp_path: pathlib.Path) -> None:
    """A sensor waiting in up_for_reschedule when the scheduler restarts is poked again at
    its due time (kept in the DB), and succeeds once the file is there."""
    path = tmp_path / "later"
    api.wait_for_dag("sensor_restart")
    run_id = api.trigger("sensor_restart", conf={"path": str(path)}).run_id
    eventually(lambda: api.states("sensor_restart", run_id)["wait"] == "up_for_reschedule")
    platform.restart_service("scheduler")
    path.write_text("now")
    assert api.wait_for_run("sensor_restart", run_id).state == SUCCESS
    assert api.task_instances("sensor_restart", run_id)["wait"].key.try_number == 1


def test_poke_mode_timeout_fails_without_retries(api: RuntimeApi) -> None:
    """A poke-mode sensor past its timeout fails with FlowSensorTimeout at once, its retries
    unused (as Airflow's AirflowSensorTimeout)."""
    run_id, states = api.run_to_end("sensor_poke_timeout", expect=FAILED)
    assert states == {"never": "failed"}
    assert api.task_instances("sensor_poke_timeout", run_id)["never"].key.try_number == 1
    assert "FlowSensorTimeout" in api.read_log("sensor_poke_timeout", run_id, "never")


def test_soft_fail_skips_on_timeout(api: RuntimeApi) -> None:
    """soft_fail=True: the timed-out sensor is skipped, and so is its downstream task."""
    _run_id, states = api.run_to_end("sensor_soft_fail")
    assert states == {"never": "skipped", "after": "skipped"}


def test_task_sensor_decorator_pushes_its_poke_return_value(api: RuntimeApi) -> None:
    """@task.sensor: a PokeReturnValue that is done ends the sensor; its xcom_value feeds
    the next task."""
    _run_id, states = api.run_to_end("sensor_decorated")
    assert states == {"ready": "success", "use": "success"}


def _trigger_at(api: RuntimeApi, dag_id: str, logical_date: datetime,
                conf: dict[str, Any] | None = None) -> str:
    request = dag_run_service_pb2.TriggerDagRunRequest(dag_id=dag_id)
    request.logical_date.FromDatetime(logical_date)
    request.conf.update(conf or {})
    api.wait_for_dag(dag_id)
    return str(api.call(api.runs.TriggerDagRun, request).dag_run.run_id)


@pytest.mark.parametrize(("fail", "expect"), [(False, SUCCESS), (True, FAILED)])
def test_external_task_sensor_waits_for_the_other_dag_at_its_logical_date(
        api: RuntimeApi, fail: bool, expect: int) -> None:
    """The consumer's sensor waits while the producer has no run at the same logical date
    (rescheduled: the one worker slot stays free), then follows the producer's task: success
    ends it, a failed state (failed_states) fails it."""
    when = datetime(2030, 1, 1, 12, 0, 0, 1 if fail else 0, tzinfo=UTC)
    consumer = _trigger_at(api, "consumer", when)
    eventually(lambda: api.states("consumer", consumer)["wait_for_producer"]
               == "up_for_reschedule")
    producer = _trigger_at(api, "producer", when, {"fail": fail})
    api.wait_for_run("producer", producer)
    assert api.wait_for_run("consumer", consumer).state == expect


def test_http_sensor_pokes_an_endpoint(api: RuntimeApi, platform: Platform) -> None:
    """HttpSensor without a connection: a full URL (the gateway's health endpoint) and a
    response_check on its JSON."""
    url = f"{platform.addresses.http}/api/v1/health"
    _run_id, states = api.run_to_end("http_sensor", conf={"url": url})
    assert states == {"up": "success"}
