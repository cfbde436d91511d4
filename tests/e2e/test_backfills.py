"""Backfills through the real services: ten daily intervals with each reprocess behaviour,
a dry run, cancelling, and bad requests, over gRPC, REST and flowcli."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import timestamp_pb2

from flow.platform import Platform
from flow.v1 import backfill_service_pb2 as bpb
from flow.v1 import backfill_service_pb2_grpc, common_pb2
from flow.v1 import dag_run_service_pb2 as rpb
from tests.e2e.api import eventually
from tests.e2e.runtime import RuntimeApi, rpc_error, started_platform

pytestmark = pytest.mark.e2e
SUCCESS, FAILED = common_pb2.DAG_RUN_STATE_SUCCESS, common_pb2.DAG_RUN_STATE_FAILED
QUEUED, RUNNING = common_pb2.DAG_RUN_STATE_QUEUED, common_pb2.DAG_RUN_STATE_RUNNING
BACKFILL = common_pb2.DAG_RUN_TYPE_BACKFILL

# Fails for the days that have a file in {marks}/fail; waits while {marks}/hold exists.
DAG = '''
from datetime import UTC, datetime
from flow.operators.bash import BashOperator
from flow.sdk import DAG

with DAG("backfilled", schedule="@daily", start_date=datetime(2024, 1, 1, tzinfo=UTC),
         catchup=False, is_paused_upon_creation=True):
    BashOperator(task_id="work", bash_command="while [ -e {marks}/hold ]; do sleep 0.05; done; "
                 "test ! -e {marks}/fail/{{{{ ds }}}}")

with DAG("unscheduled", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
    BashOperator(task_id="work", bash_command="true")
'''


@pytest.fixture(scope="module")
def marks(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("marks")
    (folder / "fail").mkdir()
    return folder


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
             marks: pathlib.Path) -> Iterator[Platform]:
    with started_platform(tmp_path_factory, request, [],
                          {"backfilled.py": DAG.format(marks=marks)}) as started:
        yield started


@pytest.fixture(scope="module")
def api(platform: Platform) -> Iterator[RuntimeApi]:
    client = RuntimeApi(platform)
    client.wait_for_dag("backfilled")
    yield client
    client.close()


@pytest.fixture(scope="module")
def backfills(api: RuntimeApi) -> backfill_service_pb2_grpc.BackfillServiceStub:
    return backfill_service_pb2_grpc.BackfillServiceStub(api.channel)


def ts(day: int, month: int = 1) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(datetime(2024, month, day, tzinfo=UTC))
    return out


def runs(api: RuntimeApi) -> dict[str, Any]:
    """The DAG's runs by logical date (YYYY-MM-DD)."""
    response = api.call(api.runs.ListDagRuns, rpb.ListDagRunsRequest(dag_id="backfilled",
                                                                     page_size=1000))
    return {r.logical_date.ToDatetime().date().isoformat(): r for r in response.dag_runs}


def finished(api: RuntimeApi, backfills: Any, backfill_id: int) -> Any:
    """Wait for the backfill to complete; the backfill."""
    return eventually(lambda: (b := api.call(backfills.GetBackfill, bpb.GetBackfillRequest(
        backfill_id=backfill_id)).backfill).state != bpb.BACKFILL_STATE_RUNNING and b,
        timeout=90)


def days(first: int, last: int) -> list[str]:
    return [f"2024-01-{d:02d}" for d in range(first, last + 1)]


def test_dry_run_lists_the_logical_dates_and_creates_nothing(api: RuntimeApi) -> None:
    """`flowcli dags backfill --dry-run` over Jan 1..10 lists ten dates to create; no run
    and no backfill record appear."""
    plan = api.cli_json("dags", "backfill", "backfilled", "--start-date", "2024-01-01",
                        "--end-date", "2024-01-10", "--dry-run", "-o", "json")
    assert "backfill" not in plan
    assert [r["logical_date"][:10] for r in plan["runs"]] == days(1, 10)
    assert {r["action"] for r in plan["runs"]} == {"BACKFILL_RUN_ACTION_CREATE"}
    assert runs(api) == {}
    assert api.cli_json("backfills", "list", "-o", "json") == []


def test_backfill_with_each_reprocess_behaviour(api: RuntimeApi, backfills: Any,
                                                marks: pathlib.Path) -> None:
    """Ten daily intervals: all created as backfill runs (two fail); again with `none` all
    are skipped; `failed` runs only the two failed ones again; `completed` runs all ten
    again. The DAG is paused: a backfill runs regardless, and no scheduled run appears."""
    for day in ("2024-01-03", "2024-01-07"):
        (marks / "fail" / day).touch()
    code, out, err = api.cli("dags", "backfill", "backfilled", "-s", "2024-01-01",
                             "-e", "2024-01-10")
    assert code == 0, err
    assert "backfill__2024-01-10T00:00:00+00:00" in out  # the plan, one line per interval
    first = api.cli_json("backfills", "list", "backfilled", "-o", "json")[0]
    done = finished(api, backfills, int(first["id"]))
    assert done.state == bpb.BACKFILL_STATE_COMPLETED
    found = runs(api)
    assert sorted(found) == days(1, 10)
    assert {d for d, r in found.items() if r.state == FAILED} == {"2024-01-03", "2024-01-07"}
    for day, run in found.items():
        assert run.run_type == BACKFILL and run.backfill_id == done.id
        assert run.run_id == f"backfill__{day}T00:00:00+00:00"
    listed = api.cli_json("runs", "list", "backfilled", "-o", "json")
    assert {r["run_type"] for r in listed} == {"DAG_RUN_TYPE_BACKFILL"}

    for day in ("2024-01-03", "2024-01-07"):
        (marks / "fail" / day).unlink()
    again = api.call(backfills.CreateBackfill, bpb.CreateBackfillRequest(
        dag_id="backfilled", from_date=ts(1), to_date=ts(10),
        reprocess_behavior=bpb.REPROCESS_BEHAVIOR_NONE))
    assert {r.action for r in again.runs} == {bpb.BACKFILL_RUN_ACTION_SKIP}
    assert finished(api, backfills, again.backfill.id).state == bpb.BACKFILL_STATE_COMPLETED
    assert {d: r.end_date for d, r in runs(api).items()} == {
        d: r.end_date for d, r in found.items()}

    failed = api.call(backfills.CreateBackfill, bpb.CreateBackfillRequest(
        dag_id="backfilled", from_date=ts(1), to_date=ts(10),
        reprocess_behavior=bpb.REPROCESS_BEHAVIOR_FAILED))
    assert [r.logical_date.ToDatetime().date().isoformat() for r in failed.runs
            if r.action == bpb.BACKFILL_RUN_ACTION_REPROCESS] == ["2024-01-03", "2024-01-07"]
    finished(api, backfills, failed.backfill.id)
    after = runs(api)
    assert {r.state for r in after.values()} == {SUCCESS}
    assert {d for d, r in after.items() if r.backfill_id == failed.backfill.id} == {
        "2024-01-03", "2024-01-07"}
    assert api.states("backfilled", after["2024-01-03"].run_id) == {"work": "success"}
    assert api.task_instances("backfilled", after["2024-01-03"].run_id)[
        "work"].key.try_number == 2

    completed = api.call(backfills.CreateBackfill, bpb.CreateBackfillRequest(
        dag_id="backfilled", from_date=ts(1), to_date=ts(10),
        reprocess_behavior=bpb.REPROCESS_BEHAVIOR_COMPLETED, max_active_runs=3))
    assert {r.action for r in completed.runs} == {bpb.BACKFILL_RUN_ACTION_REPROCESS}
    assert completed.backfill.max_active_runs == 3
    finished(api, backfills, completed.backfill.id)
    final = runs(api)
    assert sorted(final) == days(1, 10)  # still one run per interval
    assert {r.backfill_id for r in final.values()} == {completed.backfill.id}
    assert {r.state for r in final.values()} == {SUCCESS}
    assert not any(r.run_type == common_pb2.DAG_RUN_TYPE_SCHEDULED for r in final.values())


def test_cancel_fails_the_queued_runs_and_lets_running_ones_finish(
        api: RuntimeApi, backfills: Any, marks: pathlib.Path, platform: Platform) -> None:
    """A backfill of Jan 11..20, one run at a time, held running: cancelled (over REST),
    the nine queued runs fail without starting, the running one finishes, and the
    backfill is cancelled."""
    (marks / "hold").touch()
    created = api.call(backfills.CreateBackfill, bpb.CreateBackfillRequest(
        dag_id="backfilled", from_date=ts(11), to_date=ts(20), max_active_runs=1))
    mine = lambda: {d: r for d, r in runs(api).items()  # noqa: E731
                    if r.backfill_id == created.backfill.id}
    held = eventually(lambda: [r for r in mine().values() if r.state == RUNNING])
    assert len(held) == 1 and held[0].logical_date == ts(11)
    assert sum(r.state == QUEUED for r in mine().values()) == 9
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http, timeout=30,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        answer = http.put(f"/api/v1/backfills/{created.backfill.id}/cancel")
        assert answer.status_code == 200, answer.text
        assert answer.json()["backfill"]["state"] == "BACKFILL_STATE_CANCELLED"
        assert http.get("/api/v1/backfills/99999").status_code == 404
    states = {d: r.state for d, r in mine().items()}
    assert states.pop("2024-01-11") == RUNNING
    assert set(states.values()) == {FAILED}
    assert all(not r.HasField("start_date") for d, r in mine().items() if d != "2024-01-11")
    (marks / "hold").unlink()
    last = api.wait_for_run("backfilled", held[0].run_id)
    assert last.state == SUCCESS
    assert {d for d, r in mine().items() if r.state == SUCCESS} == {"2024-01-11"}
    shown = api.cli_json("backfills", "show", str(created.backfill.id), "-o", "json")
    assert shown["state"] == "BACKFILL_STATE_CANCELLED"


def test_bad_backfills_get_specific_errors(api: RuntimeApi, backfills: Any) -> None:
    """End before start is INVALID_ARGUMENT (flowcli exit 2), an unknown DAG NOT_FOUND
    (exit 1), a DAG without a schedule FAILED_PRECONDITION, a bad date exit 2."""
    error = rpc_error(lambda: api.call(backfills.CreateBackfill, bpb.CreateBackfillRequest(
        dag_id="backfilled", from_date=ts(10), to_date=ts(1))))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = rpc_error(lambda: api.call(backfills.CreateBackfill, bpb.CreateBackfillRequest(
        dag_id="nope", from_date=ts(1), to_date=ts(2))))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = rpc_error(lambda: api.call(backfills.CreateBackfill, bpb.CreateBackfillRequest(
        dag_id="unscheduled", from_date=ts(1), to_date=ts(2))))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert api.cli("dags", "backfill", "backfilled", "-s", "2024-01-10", "-e",
                   "2024-01-01")[0] == 2
    assert api.cli("dags", "backfill", "nope", "-s", "2024-01-01", "-e", "2024-01-02")[0] == 1
    code, _, err = api.cli("dags", "backfill", "backfilled", "-s", "yesterday", "-e",
                           "2024-01-02")
    assert code == 2 and "--start-date" in err
