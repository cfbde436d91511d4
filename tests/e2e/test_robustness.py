"""Bad DAG files, failing and flooding tasks, queue routing, and a scheduler killed mid-run."""

from __future__ import annotations

import pathlib
import signal
import textwrap

import pytest

from flow.platform import WorkerSpec
from flow.v1 import common_pb2
from tests.e2e.api import Api, eventually
from tests.fixtures.platform import PlatformFactory
from tests.processes import alive

pytestmark = pytest.mark.e2e
HEADER = """
from datetime import datetime, timezone
from flow.sdk import DAG, task
from flow.operators.bash import BashOperator
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
"""


def write_dag(folder: pathlib.Path, name: str, body: str) -> pathlib.Path:
    path = folder / name
    path.write_text(textwrap.dedent(HEADER) + textwrap.dedent(body))
    return path


def test_broken_and_hanging_files_are_import_errors_and_others_run(
    tmp_path: pathlib.Path, platform_factory: PlatformFactory
) -> None:
    """A syntax error and an import that hangs are listed with file and message; a good DAG in
    the same folder still runs."""
    write_dag(tmp_path, "syntax_error.py", "with DAG('broken_dag' schedule=None):\n    pass\n")
    write_dag(tmp_path, "hangs.py", "import time\ntime.sleep(600)\nDAG('never')\n")
    write_dag(tmp_path, "good.py", """
        with DAG("good_dag", schedule=None, start_date=START):
            BashOperator(task_id="ok", bash_command="echo fine")
    """)
    platform = platform_factory(tmp_path, extra_env={
        "FLOW_SCHEDULER__PARSE_TIMEOUT_SECONDS": "2"})
    api = Api(platform)
    try:
        api.wait_for_dag("good_dag")
        errors = {pathlib.Path(e.filename).name: e.stacktrace for e in api.import_errors()}
        assert "syntax_error.py" in errors and "hangs.py" in errors
        assert "SyntaxError" in errors["syntax_error.py"]
        assert "line 6" in errors["syntax_error.py"]
        assert "timed out" in errors["hangs.py"].lower()
        run = api.trigger("good_dag")
        finished = api.wait_for_run("good_dag", run.run_id)
        assert finished.state == common_pb2.DAG_RUN_STATE_SUCCESS
        assert not platform.crashed()
    finally:
        api.close()


def test_failing_task_fails_with_stderr_and_flood_is_readable(
    tmp_path: pathlib.Path, platform_factory: PlatformFactory
) -> None:
    """A non-zero exit ends `failed` with its stderr in the log; 50 MB of output neither kills
    the worker nor the logserver, and can be read back."""
    write_dag(tmp_path, "bad_tasks.py", """
        with DAG("bad_tasks", schedule=None, start_date=START):
            BashOperator(task_id="fails", bash_command="echo 'oops on stderr' >&2; exit 3")
            BashOperator(task_id="floods", bash_command=(
                "head -c 50000000 /dev/zero | tr '\\\\0' 'x' | fold -w 99"))
    """)
    platform = platform_factory(tmp_path)
    api = Api(platform)
    try:
        api.wait_for_dag("bad_tasks")
        run = api.trigger("bad_tasks")
        finished = api.wait_for_run("bad_tasks", run.run_id, timeout=180)
        states = api.states("bad_tasks", run.run_id)
        assert states == {"fails": "failed", "floods": "success"}
        assert finished.state == common_pb2.DAG_RUN_STATE_FAILED
        assert "oops on stderr" in api.read_log("bad_tasks", run.run_id, "fails")
        flood = api.read_log("bad_tasks", run.run_id, "floods")
        assert flood.count("x" * 99) == 50_000_000 // 99  # fold makes 99-byte lines
        assert not platform.crashed()
    finally:
        api.close()


def test_worker_runs_only_its_queues(
    tmp_path: pathlib.Path, platform_factory: PlatformFactory
) -> None:
    """A worker started with queues a,b runs tasks routed to a and b, never c."""
    write_dag(tmp_path, "queues.py", """
        with DAG("queues", schedule=None, start_date=START):
            for q in "abc":
                BashOperator(task_id=f"on_{q}", bash_command="echo hi", queue=q)
        with DAG("queues_ab", schedule=None, start_date=START):
            for q in "ab":
                BashOperator(task_id=f"on_{q}", bash_command="echo hi", queue=q)
    """)
    platform = platform_factory(tmp_path, workers=[WorkerSpec(queues=("a", "b"), concurrency=4)])
    api = Api(platform)
    try:
        api.wait_for_dag("queues")
        run = api.trigger("queues")
        done = api.trigger("queues_ab")
        assert api.wait_for_run("queues_ab", done.run_id).state == \
            common_pb2.DAG_RUN_STATE_SUCCESS
        # c was dispatched with a and b; they finish while c still waits in its queue
        states = eventually(lambda: (s := api.states("queues", run.run_id))["on_a"] ==
                            s["on_b"] == "success" and s)
        assert states == {"on_a": "success", "on_b": "success", "on_c": "queued"}
    finally:
        api.close()


def test_scheduler_killed_mid_run_finishes_and_no_attempt_runs_twice(
    tmp_path: pathlib.Path, platform_factory: PlatformFactory
) -> None:
    """SIGKILL the scheduler while a chain runs, start it again: the run finishes, and every
    task ran exactly once (each appends its id to a file)."""
    record = tmp_path / "record.txt"
    gate = tmp_path / "gate"
    write_dag(tmp_path, "chain.py", f"""
        RECORD = {str(record)!r}
        GATE = {str(gate)!r}
        with DAG("killed_chain", schedule=None, start_date=START):
            prev = None
            for i in range(6):
                wait = f"while [ ! -e {{GATE}} ]; do sleep 0.05; done; " if i == 2 else ""
                line = f"echo t{{i}}-$AIRFLOW_CTX_TRY_NUMBER >> {{RECORD}}"
                t = BashOperator(task_id=f"t{{i}}", bash_command=wait + line)
                if prev is not None:
                    prev >> t
                prev = t
    """)
    platform = platform_factory(tmp_path)
    api = Api(platform)
    try:
        api.wait_for_dag("killed_chain")
        run = api.trigger("killed_chain")
        eventually(lambda: api.states("killed_chain", run.run_id).get("t2") == "running")
        platform.restart_service("scheduler", kill=True)
        gate.touch()
        finished = api.wait_for_run("killed_chain", run.run_id, timeout=120)
        assert finished.state == common_pb2.DAG_RUN_STATE_SUCCESS
        lines = record.read_text().split()
        assert lines == [f"t{i}-1" for i in range(6)]
    finally:
        api.close()


def test_task_processes_get_no_platform_credentials(
    tmp_path: pathlib.Path, platform_factory: PlatformFactory
) -> None:
    """The platform's credentials (service tokens, DB settings, Fernet key) are in neither a
    task's environment nor that of any process importing its DAG file (the scheduler's
    parser, the worker's template)."""
    seen_at_parse = tmp_path / "seen_at_parse.txt"
    write_dag(tmp_path, "env_dag.py", f"""
        import os
        CREDENTIALS = ("FLOW_AUTH__", "FLOW_DATABASE__", "FLOW_CORE__FERNET_KEY")
        with open({str(seen_at_parse)!r}, "a") as seen:
            seen.write(str(sum(name.startswith(CREDENTIALS) for name in os.environ)))
        with DAG("env_dag", schedule=None, start_date=START):
            BashOperator(task_id="env", bash_command=(
                "env | grep -cE '^(FLOW_AUTH__|FLOW_DATABASE__|FLOW_CORE__FERNET_KEY)' || true"))
    """)
    platform = platform_factory(tmp_path)
    api = Api(platform)
    try:
        api.wait_for_dag("env_dag")
        run = api.trigger("env_dag")
        assert api.wait_for_run("env_dag", run.run_id).state == common_pb2.DAG_RUN_STATE_SUCCESS
        log = api.read_log("env_dag", run.run_id, "env")
        assert "\n0\n" in log, log
        assert platform.internal_token not in log and platform.token not in log
        imports = seen_at_parse.read_text()
        assert imports and set(imports) == {"0"}, imports  # each import saw none
    finally:
        api.close()


def test_killed_worker_leaves_no_task_running(
    tmp_path: pathlib.Path, platform_factory: PlatformFactory
) -> None:
    """SIGKILL a worker while its attempt runs a shell: the attempt's whole process group
    dies too, so a retry elsewhere can never run beside it."""
    pidfile = tmp_path / "bash.pid"
    write_dag(tmp_path, "long.py", f"""
        with DAG("warm_up", schedule=None, start_date=START):
            BashOperator(task_id="quick", bash_command="true")
        with DAG("long_task", schedule=None, start_date=START):
            BashOperator(task_id="sleeps", bash_command="echo $$ > {pidfile}; sleep 120")
    """)
    platform = platform_factory(tmp_path)
    api = Api(platform)
    worker = platform.services["worker-0"]
    try:
        api.wait_for_dag("long_task")
        first = api.trigger("warm_up")  # the file's template starts meanwhile
        assert api.wait_for_run("warm_up", first.run_id).state == (
            common_pb2.DAG_RUN_STATE_SUCCESS)
        eventually(lambda: "template_started" in worker.log_tail(size=1_000_000))
        api.trigger("long_task")
        eventually(lambda: pidfile.exists() and pidfile.read_text().strip().isdigit())
        shell = int(pidfile.read_text())
        assert alive(shell)
        worker.signal(signal.SIGKILL)
        eventually(lambda: not alive(shell), timeout=20)
    finally:
        api.close()
