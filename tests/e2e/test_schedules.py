"""Schedules through the real services: catchup, the latest interval only, max_active_runs,
pause and unpause, and a scheduler restart in the middle of a schedule."""

from __future__ import annotations

import itertools
import pathlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest

from flow.platform import Platform
from flow.v1 import common_pb2
from flow.v1 import dag_run_service_pb2 as rpb
from flow.v1 import dag_service_pb2 as dpb
from tests.e2e.api import eventually
from tests.e2e.runtime import RuntimeApi, rpc_error, started_platform

pytestmark = pytest.mark.e2e
SUCCESS, QUEUED = common_pb2.DAG_RUN_STATE_SUCCESS, common_pb2.DAG_RUN_STATE_QUEUED
RUNNING = common_pb2.DAG_RUN_STATE_RUNNING
SCHEDULED = common_pb2.DAG_RUN_TYPE_SCHEDULED

HEADER = '''
from datetime import UTC, datetime, timedelta
from flow.operators.bash import BashOperator
from flow.operators.empty import EmptyOperator
from flow.sdk import DAG
'''
CATCHUP = HEADER + '''
with DAG("sched_catchup", schedule="@daily", start_date=datetime(2024, 1, 1, tzinfo=UTC),
         end_date=datetime(2024, 1, 5, tzinfo=UTC), catchup=True):
    BashOperator(task_id="echo", bash_command="echo {{ ds }} {{ data_interval_end }}")
'''
LATEST = HEADER + '''
with DAG("sched_latest", schedule="@daily", start_date=datetime(2024, 1, 1, tzinfo=UTC),
         catchup=False):
    EmptyOperator(task_id="nothing")
'''
# One run at a time; each waits for its own gate file (named by its logical date).
HELD = HEADER + '''
with DAG("sched_held", schedule=timedelta(days=1), start_date=datetime(2024, 1, 1, tzinfo=UTC),
         end_date=datetime(2024, 1, 4, tzinfo=UTC), catchup=True, max_active_runs=1):
    BashOperator(task_id="wait", bash_command="date +%s.%N > {gates}/started_{{{{ ds }}}}; "
                 "while [ ! -e {gates}/{{{{ ds }}}} ]; do sleep 0.05; done")
'''
PAUSED = HEADER + '''
with DAG("sched_paused", schedule=timedelta(seconds=2), catchup=False,
         start_date=datetime(2024, 1, 1, tzinfo=UTC), is_paused_upon_creation=True):
    EmptyOperator(task_id="nothing")
'''
RESTART = HEADER + '''
with DAG("sched_restart", schedule=timedelta(seconds=1), catchup=True,
         start_date=datetime.fromisoformat("{start}"), end_date=datetime.fromisoformat("{end}")):
    EmptyOperator(task_id="nothing")
'''
RETRY = HEADER + '''
with DAG("sched_retry", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    BashOperator(task_id="flaky", retries=1, retry_delay=timedelta(seconds=3),
                 bash_command="if [ -e {gates}/retried ]; then exit 0; fi; "
                              "touch {gates}/retried; exit 1")
'''
RESTART_SPAN = 14  # seconds of 1-second intervals after the start date


@pytest.fixture(scope="module")
def gates(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp("gates")


@pytest.fixture(scope="module")
def restart_start() -> datetime:
    """A start date a few seconds back: a few intervals are due at once, the rest follow."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=4)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
             gates: pathlib.Path, restart_start: datetime) -> Iterator[Platform]:
    end = restart_start + timedelta(seconds=RESTART_SPAN)
    files = {"sched_catchup.py": CATCHUP, "sched_latest.py": LATEST,
             "sched_held.py": HELD.format(gates=gates), "sched_paused.py": PAUSED,
             "sched_retry.py": RETRY.format(gates=gates),
             "sched_restart.py": RESTART.format(start=restart_start.isoformat(),
                                                end=end.isoformat())}
    with started_platform(tmp_path_factory, request, [], files) as started:
        yield started



def runs(api: RuntimeApi, dag_id: str) -> list[Any]:
    """The DAG's runs, oldest logical date first."""
    response = api.call(api.runs.ListDagRuns, rpb.ListDagRunsRequest(dag_id=dag_id,
                                                                     page_size=1000))
    return sorted(response.dag_runs, key=lambda r: r.logical_date.ToDatetime())


def logical(run: Any) -> datetime:
    return run.logical_date.ToDatetime(tzinfo=UTC)


def get_dag(api: RuntimeApi, dag_id: str) -> Any:
    return api.call(api.dags.GetDag, dpb.GetDagRequest(dag_id=dag_id)).dag


def test_catchup_creates_every_interval_in_order_with_airflow_dates(api: RuntimeApi) -> None:
    """catchup=True from Jan 1 to an end date of Jan 5: five scheduled runs, logical dates
    Jan 1..5, each covering [day, next day) and named scheduled__<logical date>."""
    api.wait_for_dag("sched_catchup")
    found = eventually(lambda: (r := runs(api, "sched_catchup")) and len(r) == 5
                       and all(x.state == SUCCESS for x in r) and r)
    assert [logical(r) for r in found] == [datetime(2024, 1, d, tzinfo=UTC)
                                           for d in range(1, 6)]
    for run in found:
        assert run.run_type == SCHEDULED
        assert run.run_id == f"scheduled__{logical(run).isoformat()}"
        assert run.data_interval_start == run.logical_date
        assert run.data_interval_end.ToDatetime(tzinfo=UTC) == logical(run) + timedelta(days=1)
    assert "2024-01-03 2024-01-04" in api.read_log(
        "sched_catchup", found[2].run_id, "echo")
    dag = get_dag(api, "sched_catchup")
    assert not dag.HasField("next_dagrun")  # past its end date: nothing planned
    assert dag.catchup and dag.timezone == "UTC"


def test_no_catchup_creates_only_the_latest_interval(api: RuntimeApi) -> None:
    """catchup=False since 2024: one run, for the latest complete day; the next run is
    planned for today, created at midnight."""
    api.wait_for_dag("sched_latest")
    found = eventually(lambda: runs(api, "sched_latest"))
    assert len(found) == 1
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert logical(found[0]) in (today - timedelta(days=1), today - timedelta(days=2))
    dag = get_dag(api, "sched_latest")
    assert dag.next_dagrun.ToDatetime(tzinfo=UTC) == logical(found[0]) + timedelta(days=1)
    assert dag.next_dagrun_create_after.ToDatetime(tzinfo=UTC) == logical(found[0]) + \
        timedelta(days=2)
    assert runs(api, "sched_latest") == found


def test_max_active_runs_holds_the_rest_queued(api: RuntimeApi, gates: pathlib.Path) -> None:
    """max_active_runs=1: one run at a time, the next one waits queued; each starts only
    after the previous ended, oldest logical date first."""
    api.wait_for_dag("sched_held")
    days = [f"2024-01-0{d}" for d in range(1, 5)]
    for day in days:
        first = eventually(lambda: [r for r in runs(api, "sched_held") if r.state == RUNNING])
        assert len(first) == 1 and logical(first[0]).date().isoformat() == day
        waiting = [r for r in runs(api, "sched_held") if r.state == QUEUED]
        if day != days[-1]:
            assert waiting, "the next interval waits queued"
        assert all(logical(r) > logical(first[0]) for r in waiting)
        (gates / day).touch()
        api.wait_for_run("sched_held", first[0].run_id)
    found = runs(api, "sched_held")
    assert [r.state for r in found] == [SUCCESS] * 4
    for before, after in itertools.pairwise(found):
        assert after.start_date.ToDatetime() >= before.end_date.ToDatetime()


def test_pause_stops_creation_and_unpause_resumes_without_a_burst(
        api: RuntimeApi, platform: Platform) -> None:
    """A DAG paused at creation has no runs. Unpaused (over REST, as Airflow's PATCH), a
    catchup=False DAG every 2 s since 2024 gets its latest interval only, then one run per
    interval; paused again (flowcli), no run is created."""
    api.wait_for_dag("sched_paused")
    dag = get_dag(api, "sched_paused")
    assert dag.is_paused
    assert runs(api, "sched_paused") == []
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http, timeout=30,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        answer = http.patch("/api/v1/dags/sched_paused", json={"is_paused": False})
        assert answer.status_code == 200, answer.text
        assert answer.json()["dag"]["is_paused"] is False
        assert http.patch("/api/v1/dags/no_such_dag", json={"is_paused": False}
                          ).status_code == 404
    first = eventually(lambda: runs(api, "sched_paused"))
    assert len(first) == 1
    second = eventually(lambda: (r := runs(api, "sched_paused")) and len(r) >= 2 and r)
    assert logical(second[1]) - logical(second[0]) == timedelta(seconds=2)
    code, _out, err = api.cli("dags", "pause", "sched_paused")
    assert code == 0, err
    paused_at = len(runs(api, "sched_paused"))
    listed = api.cli_json("dags", "list", "-o", "json")
    assert {d["dag_id"]: d["is_paused"] for d in listed}["sched_paused"] is True
    time.sleep(5)  # over two intervals: a paused DAG creates nothing meanwhile
    assert len(runs(api, "sched_paused")) == paused_at
    code, _, err = api.cli("dags", "unpause", "sched_paused")
    assert code == 0, err
    again = eventually(lambda: (r := runs(api, "sched_paused")) and len(r) > paused_at and r)
    # catchup=False: the interval missed while paused is not created, only the latest one
    assert len(again) == paused_at + 1
    assert logical(again[-1]) - logical(again[-2]) >= timedelta(seconds=4)
    code, _, _ = api.cli("dags", "pause", "sched_paused")
    assert code == 0
    assert api.cli("dags", "pause", "no_such_dag")[0] == 1
    error = rpc_error(lambda: api.call(api.dags.UpdateDag, dpb.UpdateDagRequest(
        dag_id="no_such_dag", is_paused=True)))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_scheduler_restart_neither_loses_nor_duplicates_an_interval(
        api: RuntimeApi, platform: Platform, restart_start: datetime) -> None:
    """Every second for 14 s with catchup, the scheduler killed in the middle: afterwards the
    logical dates are each second of the range exactly once."""
    api.wait_for_dag("sched_restart")
    eventually(lambda: len(runs(api, "sched_restart")) >= 6)
    platform.restart_service("scheduler", kill=True)
    expected = [restart_start + timedelta(seconds=s) for s in range(RESTART_SPAN + 1)]
    found = eventually(lambda: (r := runs(api, "sched_restart")) and len(r) >= len(expected)
                       and r, timeout=90)
    assert [logical(r) for r in found] == expected
    assert len({r.run_id for r in found}) == len(found)
    assert all(r.run_type == SCHEDULED for r in found)


def test_a_retry_delay_survives_a_scheduler_restart(api: RuntimeApi,
                                                    platform: Platform) -> None:
    """A try fails with a 3 s retry delay; the scheduler is killed while the task waits
    up_for_retry: started again, it re-arms the delay from the DB and the second try runs."""
    api.wait_for_dag("sched_retry")
    run = api.trigger("sched_retry")
    eventually(lambda: api.states("sched_retry", run.run_id)["flaky"] == "up_for_retry")
    platform.restart_service("scheduler", kill=True)
    assert api.wait_for_run("sched_retry", run.run_id).state == SUCCESS
    assert api.task_instances("sched_retry", run.run_id)["flaky"].key.try_number == 2
