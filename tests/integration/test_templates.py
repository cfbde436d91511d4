"""DAG templates on their own: pipelined forks, retiring with forks in flight, and a worker
that vanishes (services/worker/templates.py)."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from services.worker.process_pool import ProcessLauncher
from services.worker.protocol import FrameChannel
from services.worker.templates import Template, TemplateKey, start_template
from tests.processes import alive

ROOT = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration

DAG_FILE = """
from datetime import datetime, timezone
from flow.operators.bash import BashOperator
from flow.sdk import DAG

with DAG("tpl", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)):
    BashOperator(task_id="quick", bash_command="echo quick")
    BashOperator(task_id="slow", bash_command="echo $$ >> {pids}; sleep 60")
    PythonOperator(task_id="dice", python_callable=lambda: print("dice", random.random()))
"""
DAG_IMPORTS = """
import random
from flow.operators.python import PythonOperator
"""
HOOKED_DAG = """
import os
os.register_at_fork(after_in_child=lambda: open({marker!r}, "a").write(f"{{os.getpid()}}\\n"))
"""


def _start(dag_file: pathlib.Path) -> tuple[ProcessLauncher, Template]:
    launcher = ProcessLauncher()
    launcher.warm()
    key = TemplateKey.of(str(dag_file))
    assert key is not None
    started = start_template(launcher._ctx, key, threading.Lock())
    assert started is not None
    return launcher, started


@pytest.fixture
def template(tmp_path: pathlib.Path) -> Iterator[tuple[Template, pathlib.Path, pathlib.Path]]:
    pids = tmp_path / "pids"
    dag_file = tmp_path / "tpl.py"
    dag_file.write_text(DAG_IMPORTS + DAG_FILE.format(pids=pids))
    launcher, started = _start(dag_file)
    yield started, dag_file, pids
    started.retire()
    launcher.close()


async def _fork(template: Template, dag_file: pathlib.Path, task_id: str
                ) -> tuple[int, int, FrameChannel, list[int]]:
    out_r, out_w = os.pipe()
    parent, child = socket.socketpair()
    payload: dict[str, Any] = {"dag_id": "tpl", "run_id": "r", "task_id": task_id,
                               "map_index": -1, "try_number": 1, "fileloc": str(dag_file),
                               "logical_date": None, "conf": {}}
    try:
        pid, pidfd, _seq = await template.fork(payload, [out_w, child.fileno()])
    finally:
        os.close(out_w)
        child.close()
    return pid, pidfd, FrameChannel(parent), [out_r, pidfd]


def _done_frame(channel: FrameChannel) -> Any:
    last = None
    while (frame := channel.recv()) is not None:
        last = frame
    return last



async def test_pipelined_forks_finish_even_when_retired_meanwhile(
        template: tuple[Template, pathlib.Path, pathlib.Path]) -> None:
    """Eight forks requested at once, the template retired right after: every child runs
    to its `done` frame, and the exit codes come back."""
    tpl, dag_file, _pids = template
    results = await asyncio.gather(*(_fork(tpl, dag_file, "quick") for _ in range(8)))
    tpl.retire()
    frames = [_done_frame(channel) for _pid, _fd, channel, _fds in results]
    assert [f["state"] for f in frames] == ["success"] * 8
    codes = await asyncio.gather(*(asyncio.wait_for(tpl.exit_future(seq), 10)
                                   for seq in range(1, 9)))
    assert codes == [0] * 8
    for *_, fds in results:
        for fd in fds:
            os.close(fd)
    with pytest.raises(OSError):
        await _fork(tpl, dag_file, "quick")  # retired: no more forks


async def test_forks_requested_together_share_no_attempt_ends(
        template: tuple[Template, pathlib.Path, pathlib.Path]) -> None:
    """Requests that arrive together are forked back to back: each child holds only its own
    attempt's pipe and socket, so a quick attempt's channel ends while a slow attempt
    forked beside it still runs."""
    tpl, dag_file, _pids = template
    slow, quick = await asyncio.gather(_fork(tpl, dag_file, "slow"),
                                       _fork(tpl, dag_file, "quick"))
    frame = await asyncio.wait_for(asyncio.to_thread(_done_frame, quick[2]), 20)
    assert frame["state"] == "success"
    assert alive(slow[0])
    os.killpg(slow[0], signal.SIGKILL)
    for *_, fds in (slow, quick):
        for fd in fds:
            os.close(fd)


async def test_a_vanished_worker_takes_its_attempts_with_it(
        template: tuple[Template, pathlib.Path, pathlib.Path]) -> None:
    """When the worker's sockets close without a retire, the template kills its running
    attempts' process groups (their shells included) and exits."""
    tpl, dag_file, pids = template
    pid, _pidfd, _channel, fds = await _fork(tpl, dag_file, "slow")
    deadline = time.monotonic() + 30
    while not (pids.exists() and pids.read_text().strip()):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    shell = int(pids.read_text().split()[0])
    assert alive(pid) and alive(shell)
    for sock in (tpl.requests, tpl.events):  # what a killed worker's exit does
        sock.shutdown(socket.SHUT_RDWR)
    deadline = time.monotonic() + 20
    while alive(shell) or alive(pid):
        assert time.monotonic() < deadline, "the attempt outlived its worker"
        await asyncio.sleep(0.05)
    assert await asyncio.wait_for(tpl.exit_future(1), 10) == 255  # no report: code unknown
    for fd in fds:
        os.close(fd)


def _output(out_r: int) -> str:
    with os.fdopen(os.dup(out_r), "rb") as pipe:
        return pipe.read().decode()


async def test_each_child_gets_its_own_random_sequence(
        template: tuple[Template, pathlib.Path, pathlib.Path]) -> None:
    """Forked without Python's at-fork handlers, children still reseed `random`."""
    tpl, dag_file, _pids = template
    seen = []
    for _ in range(3):
        _pid, _pidfd, channel, fds = await _fork(tpl, dag_file, "dice")
        assert _done_frame(channel)["state"] == "success"
        seen.append([line for line in _output(fds[0]).splitlines() if line.startswith("dice")])
        for fd in fds:
            os.close(fd)
    assert all(len(lines) == 1 for lines in seen)
    assert len({lines[0] for lines in seen}) == 3


async def test_a_dag_files_own_fork_handlers_run_in_its_children(
        tmp_path: pathlib.Path) -> None:
    """A library the DAG file imports may need its at-fork handler in each child (to drop
    inherited connections, say): then the template forks with os.fork(), which runs it."""
    dag_file = tmp_path / "tpl.py"
    marker = tmp_path / "hooks"
    dag_file.write_text(HOOKED_DAG.format(marker=str(marker)) + DAG_IMPORTS
                        + DAG_FILE.format(pids=tmp_path / "pids"))
    launcher, tpl = _start(dag_file)
    try:
        pid, _pidfd, channel, fds = await _fork(tpl, dag_file, "quick")
        assert _done_frame(channel)["state"] == "success"
        assert marker.read_text().split() == [str(pid)]
        for fd in fds:
            os.close(fd)
    finally:
        tpl.retire()
        launcher.close()


HANGING_DAG = """
import os, time
open({marker!r}, "w").write(str(os.getpid()))
time.sleep(600)
"""
WORKER_SCRIPT = """
import asyncio, sys
from services.worker.process_pool import ProcessLauncher

async def main():
    launcher = ProcessLauncher()
    launcher.warm()
    await launcher.start({{"dag_id": "d", "task_id": "t", "run_id": "r", "map_index": -1,
                          "try_number": 1, "fileloc": {path!r}}})

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_a_template_whose_import_hangs_goes_with_its_worker(tmp_path: pathlib.Path) -> None:
    """A worker killed while a template still imports its DAG file leaves no template behind
    (the template dies with the worker's forkserver)."""
    marker = tmp_path / "template.pid"
    dag_file = tmp_path / "hangs.py"
    dag_file.write_text(HANGING_DAG.format(marker=str(marker)))
    script = tmp_path / "worker.py"
    script.write_text(WORKER_SCRIPT.format(path=str(dag_file)))
    worker = subprocess.Popen([sys.executable, str(script)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text()):
            assert worker.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        template = int(marker.read_text())
        assert alive(template)
    finally:
        worker.kill()
        worker.wait()
    deadline = time.monotonic() + 20
    while alive(template):
        assert time.monotonic() < deadline, "the template outlived its worker"
        time.sleep(0.05)
