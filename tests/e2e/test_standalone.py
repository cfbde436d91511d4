"""`flowcli standalone` on a fresh FLOW_HOME: ready, runs a DAG, stops every child on Ctrl-C,
and a second start reuses the data."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.api import eventually

pytestmark = pytest.mark.e2e
ROOT = pathlib.Path(__file__).resolve().parents[2]


def flowcli() -> list[str]:
    found = shutil.which("flowcli", path=sysconfig.get_path("scripts"))
    return [found] if found else [sys.executable, "-c", "import sys; from flow.cli.main import "
                                  "main; sys.exit(main())"]


def processes_of(home: pathlib.Path) -> list[int]:
    """Pids of live processes started for `home` (by environment or command line)."""
    marker = str(home).encode()
    pids = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().split(")")[-1].split()[0] == "Z":
                continue
            blob = (entry / "environ").read_bytes() + (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"FLOW_HOME=" + marker + b"\0" in blob or marker + b"/nats" in blob:
            pids.append(int(entry.name))
    return pids


class Standalone:
    def __init__(self, home: pathlib.Path, workdir: pathlib.Path) -> None:
        self.home = home
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("FLOW_")},
                    "FLOW_HOME": str(home)}
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready_seconds = 0.0

    def start(self) -> None:
        state = self.home / "standalone.json"
        state.unlink(missing_ok=True)
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [*flowcli(), "standalone", "--http-port", "0", "--grpc-port", "0"],
            cwd=self.workdir, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        eventually(lambda: state.exists() or self.proc.poll() is not None, timeout=90)
        assert self.proc.poll() is None, self.output()
        self.ready_seconds = time.monotonic() - started
        print(f"standalone ready in {self.ready_seconds:.2f} s")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*flowcli(), *args], env=self.env, capture_output=True,
                              text=True, timeout=120, check=False)

    def interrupt(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(60)

    def output(self) -> str:
        assert self.proc is not None
        if self.proc.poll() is None:
            return ""
        assert self.proc.stdout is not None
        return self.proc.stdout.read().decode(errors="replace")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in processes_of(self.home):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def standalone(tmp_path: pathlib.Path) -> Iterator[Standalone]:
    workdir = tmp_path / "project"
    shutil.copytree(ROOT / "dags", workdir / "dags")
    instance = Standalone(tmp_path / "home", workdir)
    yield instance
    instance.kill()


def test_standalone_runs_stops_cleanly_and_keeps_its_data(standalone: Standalone) -> None:
    """Fresh home: ready, `dags trigger --wait` succeeds with no flags, SIGINT leaves no process
    behind, and a second start shows the earlier run. The first start creates `admin`, prints
    its password once and keeps an admin token (0600) that flowcli uses; a restart reuses it."""
    standalone.start()
    whoami = standalone.cli("users", "whoami", "--output", "json")
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["username"] == "admin"
    credentials = standalone.home / "credentials.json"
    assert credentials.stat().st_mode & 0o777 == 0o600
    admin_token = json.loads(credentials.read_text())["admin_token"]
    listed = standalone.cli("dags", "list", "--output", "json")
    assert listed.returncode == 0, listed.stderr
    assert "example_bash" in listed.stdout
    triggered = standalone.cli("dags", "trigger", "example_bash", "--wait", "--output", "json")
    assert triggered.returncode == 0, triggered.stdout + triggered.stderr
    runs = standalone.cli("runs", "list", "example_bash", "--output", "json")
    run_ids = {r["run_id"] for r in json.loads(runs.stdout)}
    assert len(run_ids) == 1

    assert standalone.interrupt() == 0
    assert processes_of(standalone.home) == []
    first_output = standalone.output()
    assert "Sign in:  admin / " in first_output and "shown this once" in first_output
    assert admin_token not in first_output

    standalone.start()
    again = standalone.cli("runs", "list", "example_bash", "--output", "json")
    assert {r["run_id"] for r in json.loads(again.stdout)} == run_ids
    failing = standalone.cli("dags", "trigger", "no_such_dag")
    assert failing.returncode == 1 and "no_such_dag" in failing.stderr
    assert json.loads(credentials.read_text())["admin_token"] == admin_token
    assert standalone.interrupt() == 0
    assert "Sign in:  admin / " not in standalone.output()


CLI_DAGS = '''
from datetime import datetime, timezone
from flow.sdk import DAG, task
from flow.operators.bash import BashOperator
START = datetime(2024, 1, 1, tzinfo=timezone.utc)

with DAG("cli_conf", schedule=None, start_date=START):
    @task
    def show(**context):
        print(f"x is {context['dag_run'].conf['x']}")
    show()

with DAG("cli_fails", schedule=None, start_date=START):
    BashOperator(task_id="boom", bash_command="echo 'about to fail' >&2; exit 4")

with DAG("cli_slow", schedule=None, start_date=START):
    BashOperator(task_id="ticks", bash_command=(
        "for i in 1 2 3 4 5 6; do echo tick-$i; sleep 0.3; done"))
'''


def test_every_client_command_against_standalone(tmp_path: pathlib.Path) -> None:
    """dags errors lists a broken and a hanging file; trigger --conf/--wait, runs show, tasks
    list and tasks logs (read and -f) work with no flags; --wait fails for a failed run; bad
    --conf is exit 2; db migrate works on the same home."""
    workdir = tmp_path / "project"
    (workdir / "dags").mkdir(parents=True)
    (workdir / "dags" / "cli_dags.py").write_text(CLI_DAGS)
    (workdir / "dags" / "syntax_error.py").write_text("from flow.sdk import DAG\nDAG('x' 1)\n")
    (workdir / "dags" / "hangs.py").write_text("# a flow DAG\nimport time\ntime.sleep(600)\n")
    instance = Standalone(tmp_path / "home", workdir)
    instance.env["FLOW_SCHEDULER__PARSE_TIMEOUT_SECONDS"] = "2"
    instance.env["FLOW_ADMIN_PASSWORD"] = "admin-pw-from-env"
    try:
        instance.start()
        state = json.loads((instance.home / "standalone.json").read_text())
        signed_in = httpx.post(f"{state['http']}/login", timeout=30, data={
            "username": "admin", "password": "admin-pw-from-env"})
        assert signed_in.status_code == 303, signed_in.text
        by_file: dict[str, str] = {}

        def both_listed() -> bool:  # the hanging file is reported once its time limit passed
            errors = instance.cli("dags", "errors", "--output", "json")
            assert errors.returncode == 0, errors.stderr
            by_file.update({pathlib.Path(e["filename"]).name: e["stacktrace"]
                            for e in json.loads(errors.stdout)})
            return {"syntax_error.py", "hangs.py"} <= set(by_file)

        eventually(both_listed, timeout=60)
        assert "SyntaxError" in by_file["syntax_error.py"]
        assert "timed out after 2 s" in by_file["hangs.py"]
        table = instance.cli("dags", "errors")
        assert "syntax_error.py" in table.stdout and "hangs.py" in table.stdout

        run = instance.cli("dags", "trigger", "cli_conf", "--conf", '{"x": 7}', "--wait",
                           "--output", "json")
        assert run.returncode == 0, run.stdout + run.stderr
        run_id = json.loads(run.stdout)["run_id"]
        shown = instance.cli("runs", "show", "cli_conf", run_id)
        assert shown.returncode == 0 and "success" in shown.stdout, shown.stdout
        tis = json.loads(instance.cli("tasks", "list", "cli_conf", run_id, "-o", "json").stdout)
        assert [(t["key"]["task_id"], t["state"]) for t in tis] == [
            ("show", "TASK_INSTANCE_STATE_SUCCESS")]
        logs = instance.cli("tasks", "logs", "cli_conf", run_id, "show", "--try", "1")
        assert logs.returncode == 0 and "x is 7" in logs.stdout, logs.stdout + logs.stderr

        failed = instance.cli("dags", "trigger", "cli_fails", "--wait")
        assert failed.returncode != 0, failed.stdout
        bad_conf = instance.cli("dags", "trigger", "cli_conf", "--conf", "{not json")
        assert bad_conf.returncode == 2 and "--conf" in bad_conf.stderr

        slow = json.loads(instance.cli("dags", "trigger", "cli_slow", "-o", "json").stdout)
        eventually(lambda: "RUNNING" in instance.cli(
            "tasks", "list", "cli_slow", slow["run_id"], "-o", "json").stdout)
        followed = instance.cli("tasks", "logs", "cli_slow", slow["run_id"], "ticks", "-f")
        assert followed.returncode == 0
        assert [f"tick-{i}" for i in range(1, 7)] == [
            line for line in followed.stdout.splitlines() if line.startswith("tick-")]
        assert instance.interrupt() == 0
        assert "admin-pw-from-env" not in instance.output()
        migrated = instance.cli("db", "migrate")
        assert migrated.returncode == 0, migrated.stderr
    finally:
        instance.kill()
