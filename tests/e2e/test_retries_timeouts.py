"""Retries, time-outs and callbacks through the real services: states, try numbers, one log
per try, killed process groups, dagrun_timeout and DAG callbacks run on a worker."""

from __future__ import annotations

import json
import os
import pathlib

import pytest

from flow.platform import Platform
from flow.v1 import common_pb2
from tests.e2e.api import Api, eventually

pytestmark = pytest.mark.e2e
SUCCESS = common_pb2.DAG_RUN_STATE_SUCCESS
FAILED = common_pb2.DAG_RUN_STATE_FAILED
CALLBACK = "__dag_callback__"



def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def retries_run(api: Api, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, pathlib.Path]:
    pid_dir = tmp_path_factory.mktemp("pids")
    api.wait_for_dag("example_retries")
    run = api.trigger("example_retries", conf={"pid_dir": str(pid_dir)})
    assert api.wait_for_run("example_retries", run.run_id).state == FAILED
    return run.run_id, pid_dir


def _finished_tries(platform: Platform, run_id: str, task_id: str) -> list[tuple[int, str]]:
    """(try_number, state) of each finished try, from the scheduler's JSON log."""
    found = []
    for line in platform.services["scheduler"].log_path.read_text().splitlines():
        if '"task_finished"' not in line:
            continue
        event = json.loads(line)
        if event.get("run_id") == run_id and event.get("task_id") == task_id:
            found.append((int(event["try_number"]), str(event["state"])))
    return found


def test_retries_give_try_numbers_and_one_log_per_try(
        api: Api, platform: Platform, retries_run: tuple[str, object]) -> None:
    """A task failing twice with retries=2 goes up_for_retry twice and succeeds on try 3;
    each try has its own log, and on_execute/on_retry/on_success callbacks run in the task's
    process."""
    run_id, _ = retries_run
    assert _finished_tries(platform, run_id, "flaky") == [
        (1, "up_for_retry"), (2, "up_for_retry"), (3, "success")]
    tis = api.task_instances("example_retries", run_id)
    assert tis["flaky"].state == common_pb2.TASK_INSTANCE_STATE_SUCCESS
    assert tis["flaky"].key.try_number == 3
    for try_number in (1, 2, 3):
        log = api.read_log("example_retries", run_id, "flaky", try_number=try_number)
        assert f"attempt {try_number}" in log
        assert f"starting (try {try_number}" in log
        assert f"Starting attempt {try_number} of 3" in log
        other = {1, 2, 3} - {try_number}
        assert not any(f"attempt {n}\n" in log for n in other)
    assert "retrying (try 1" in api.read_log("example_retries", run_id, "flaky", try_number=1)
    assert "RuntimeError: failing on try 2" in api.read_log(
        "example_retries", run_id, "flaky", try_number=2)
    assert "succeeded (try 3" in api.read_log("example_retries", run_id, "flaky", try_number=3)


def test_exhausted_retries_fail_and_fail_exception_skips_retries(
        api: Api, platform: Platform, retries_run: tuple[str, object]) -> None:
    """Exponential backoff capped by max_retry_delay still ends failed after its last try
    (with on_failure_callback); AirflowFailException fails at once despite retries=3."""
    run_id, _ = retries_run
    tis = api.task_instances("example_retries", run_id)
    assert tis["backoff"].state == common_pb2.TASK_INSTANCE_STATE_FAILED
    assert tis["backoff"].key.try_number == 3
    assert _finished_tries(platform, run_id, "backoff") == [
        (1, "up_for_retry"), (2, "up_for_retry"), (3, "failed")]
    assert "gave up (try 3" in api.read_log("example_retries", run_id, "backoff", try_number=3)
    assert "gave up" not in api.read_log("example_retries", run_id, "backoff", try_number=2)
    assert tis["fail_fast"].state == common_pb2.TASK_INSTANCE_STATE_FAILED
    assert tis["fail_fast"].key.try_number == 1


def test_execution_timeout_kills_the_whole_process_group(
        api: Api, retries_run: tuple[str, pathlib.Path]) -> None:
    """A Bash task over its execution_timeout is killed with its background child, retried
    once, then failed; each try's log says why, and on_retry/on_failure callbacks run."""
    run_id, pid_dir = retries_run
    tis = api.task_instances("example_retries", run_id)
    assert tis["too_slow"].state == common_pb2.TASK_INSTANCE_STATE_FAILED
    assert tis["too_slow"].key.try_number == 2
    for try_number in (1, 2):
        log = api.read_log("example_retries", run_id, "too_slow", try_number=try_number)
        assert "Task timed out after 1 s; killing its process group" in log
        assert "TaskTimeout: Task exceeded its execution_timeout of 1 s" in log
        pid = int((pid_dir / f"sleep-{try_number}.pid").read_text())
        eventually(lambda pid=pid: not _alive(pid), timeout=10)
    # As Airflow, the stopped task sees an exception, so its callbacks still run.
    first = api.read_log("example_retries", run_id, "too_slow", try_number=1)
    assert "FlowTaskTerminated: Task received SIGTERM signal" in first
    assert "timed out, will retry (try 1" in first
    assert "timed out (try 2" in api.read_log("example_retries", run_id, "too_slow",
                                              try_number=2)


def test_dag_failure_callback_runs_on_a_worker(api: Api,
                                               retries_run: tuple[str, object]) -> None:
    """The failed run's DAG on_failure_callback runs in a worker's process; its output is a
    log under the run."""
    run_id, _ = retries_run
    log = eventually(lambda: "DAG run failed" in (text := api.read_log(
        "example_retries", run_id, CALLBACK, try_number=1)) and text, timeout=30)
    assert "DAG run failed (try -, reason task_failure)" in log
    assert "Running DAG callback on_failure_callback" in log


def test_dag_success_callbacks_run_in_order(api: Api) -> None:
    """A list of on_success_callback functions all run, with reason 'success'; a task's
    callback on an EmptyOperator runs too."""
    api.wait_for_dag("example_callbacks")
    run = api.trigger("example_callbacks")
    assert api.wait_for_run("example_callbacks", run.run_id).state == SUCCESS
    log = eventually(lambda: "second callback" in (text := api.read_log(
        "example_callbacks", run.run_id, CALLBACK, try_number=1)) and text, timeout=30)
    assert log.index("run succeeded (try -, reason success)") < log.index("second callback")
    # An EmptyOperator with a callback runs on a worker, so that its callback runs.
    assert "empty operator done (try 1" in api.read_log("example_callbacks", run.run_id,
                                                        "nothing")


def test_dagrun_timeout_fails_the_run_and_skips_unfinished_tasks(api: Api) -> None:
    """Past its dagrun_timeout a run fails; as in Airflow its unfinished tasks (the running
    one included) become skipped, the running attempt is stopped, and the DAG's failure
    callback gets reason 'timed_out'."""
    api.wait_for_dag("example_dagrun_timeout")
    run = api.trigger("example_dagrun_timeout")
    assert api.wait_for_run("example_dagrun_timeout", run.run_id).state == FAILED
    assert api.states("example_dagrun_timeout", run.run_id) == {
        "sleeps": "skipped", "after": "skipped"}
    log = eventually(lambda: "run failed" in (text := api.read_log(
        "example_dagrun_timeout", run.run_id, CALLBACK, try_number=1)) and text, timeout=30)
    assert "reason timed_out" in log
    stopped = eventually(lambda: "Task exited with code" in (text := api.read_log(
        "example_dagrun_timeout", run.run_id, "sleeps")) and text, timeout=20)
    assert "Attempt cancelled (the scheduler stopped it: its run timed out or the task was " \
        "marked); killing its process group" in stopped
    assert "FlowTaskTerminated: Task received SIGTERM signal" in stopped
