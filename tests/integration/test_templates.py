"""DAG templates on their own: pipelined forks, retiring with forks in flight, and a worker
that vanishes (services/worker/templates.py)."""

from __future__ import annotations

import contextlib
import os
import pathlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from services.worker.process_pool import ProcessLauncher
from services.worker.protocol import FrameChannel
from services.worker.templates import Template, TemplateKey, start_template
from tests.processes import alive

pytestmark = pytest.mark.integration

DAG_FILE = """
from datetime import datetime, timezone
from flow.operators.bash import BashOperator
from flow.sdk import DAG

with DAG("tpl", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)):
    BashOperator(task_id="quick", bash_command="echo quick")
    BashOperator(task_id="slow", bash_command="echo $$ >> {pids}; sleep 60")
"""


@pytest.fixture
def template(tmp_path: pathlib.Path) -> Iterator[tuple[Template, pathlib.Path, pathlib.Path]]:
    pids = tmp_path / "pids"
    dag_file = tmp_path / "tpl.py"
    dag_file.write_text(DAG_FILE.format(pids=pids))
    launcher = ProcessLauncher()
    launcher.warm()
    key = TemplateKey.of(str(dag_file))
    assert key is not None
    started = start_template(launcher._ctx, key, threading.Lock())
    assert started is not None
    yield started, dag_file, pids
    started.retire()
    launcher.close()


def _fork(template: Template, dag_file: pathlib.Path, task_id: str
          ) -> tuple[int, int, FrameChannel, list[int]]:
    out_r, out_w = os.pipe()
    parent, child = socket.socketpair()
    payload: dict[str, Any] = {"dag_id": "tpl", "run_id": "r", "task_id": task_id,
                               "map_index": -1, "try_number": 1, "fileloc": str(dag_file),
                               "logical_date": None, "conf": {}}
    try:
        pid, pidfd, _seq = template.fork(payload, [out_w, child.fileno()])
    finally:
        os.close(out_w)
        child.close()
    return pid, pidfd, FrameChannel(parent), [out_r, pidfd]


def _done_frame(channel: FrameChannel) -> Any:
    last = None
    while (frame := channel.recv()) is not None:
        last = frame
    return last



def test_pipelined_forks_finish_even_when_retired_meanwhile(
        template: tuple[Template, pathlib.Path, pathlib.Path]) -> None:
    """Eight forks requested at once from threads, the template retired right after: every
    child runs to its `done` frame."""
    tpl, dag_file, _pids = template
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(_fork(tpl, dag_file, "quick")))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tpl.retire()
    frames = [_done_frame(channel) for _pid, _fd, channel, _fds in results]
    assert [f["state"] for f in frames] == ["success"] * 8
    for *_, fds in results:
        for fd in fds:
            os.close(fd)
    with pytest.raises(OSError):
        _fork(tpl, dag_file, "quick")  # retired: no more forks


def test_a_vanished_worker_takes_its_attempts_with_it(
        template: tuple[Template, pathlib.Path, pathlib.Path]) -> None:
    """When the worker's sockets close without a retire, the template kills its running
    attempts' process groups (their shells included) and exits."""
    tpl, dag_file, pids = template
    pid, _pidfd, _channel, fds = _fork(tpl, dag_file, "slow")
    deadline = time.monotonic() + 30
    while not (pids.exists() and pids.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    shell = int(pids.read_text().split()[0])
    assert alive(pid) and alive(shell)
    for sock in (tpl.requests, tpl.events):  # what a killed worker's exit does
        # the reader threads close a socket at its end of stream, maybe before we get there
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    deadline = time.monotonic() + 20
    while alive(shell) or alive(pid):
        assert time.monotonic() < deadline, "the attempt outlived its worker"
        time.sleep(0.05)
    for fd in fds:
        os.close(fd)
