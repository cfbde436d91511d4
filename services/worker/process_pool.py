"""Warm start for task processes: fork from a forkserver that has already imported the SDK.

The parent passes the child ends of the stdout/stderr pipes and of the control socketpair as
`multiprocessing.connection.Connection` objects (the forkserver hands their fds over). The
child starts a new session, puts the pipes on fds 1 and 2, then runs `task_runner.run_task`.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

PRELOAD = ["__main__", "flow.sdk", "flow.operators.bash", "flow.operators.python",
           "flow.operators.empty", "services.worker.task_runner", "jinja2"]


@dataclass
class TaskProcess:
    """A started task process and the parent ends of its pipes and control socket."""

    process: BaseProcess
    pid: int
    stdout_fd: int
    stderr_fd: int
    control: socket.socket
    spawn_seconds: float

    @property
    def sentinel(self) -> int:
        return self.process.sentinel


class ProcessLauncher:
    """Starts task processes from a preloaded forkserver (one per worker process)."""

    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(PRELOAD)
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start the forkserver now (blocking), so the first attempt does not pay for it.

        SIGTERM is ignored while it starts, so the forkserver survives a SIGTERM sent to the
        worker's whole process group and running attempts can finish; children reset it.
        """
        previous = signal.getsignal(signal.SIGTERM)
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            if in_main:
                signal.signal(signal.SIGTERM, previous)

    def prime(self) -> float:
        """Start and reap one no-op child (blocking): waits out the forkserver's preloading.

        Returns the seconds the start took."""
        process = self._ctx.Process(target=_noop, name="flow-task-prime")
        started = time.perf_counter()
        with self._lock:
            process.start()
        elapsed = time.perf_counter() - started
        process.join()
        process.close()
        return elapsed

    def start(self, payload: dict[str, Any]) -> TaskProcess:
        """Start one task process (blocking for a few ms; call it through a thread)."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        parent_sock, child_sock = socket.socketpair()
        child_conns = [Connection(out_w), Connection(err_w),
                       Connection(os.dup(child_sock.fileno()))]
        child_sock.close()
        process = self._ctx.Process(target=child_main, args=(*child_conns, payload),
                                    name=f"flow-task-{payload.get('task_id', '')}", daemon=False)
        started = time.perf_counter()
        try:
            with self._lock:
                process.start()
        except BaseException:
            for fd in (out_r, err_r):
                os.close(fd)
            parent_sock.close()
            raise
        finally:
            for conn in child_conns:
                conn.close()
        spawn_seconds = time.perf_counter() - started
        assert process.pid is not None
        return TaskProcess(process, process.pid, out_r, err_r, parent_sock, spawn_seconds)


def _noop() -> None:
    """Target of the priming child."""


def _rebind_stdio(stdout_fd: int, stderr_fd: int) -> None:
    os.dup2(stdout_fd, 1)
    os.dup2(stderr_fd, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stdout = io.TextIOWrapper(open(1, "wb", buffering=0, closefd=False),  # noqa: SIM115
                                  encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True, write_through=False)
    sys.stderr = io.TextIOWrapper(open(2, "wb", buffering=0, closefd=False),  # noqa: SIM115
                                  encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True)


def child_main(stdout_conn: Connection, stderr_conn: Connection, control_conn: Connection,
               payload: dict[str, Any]) -> None:
    """Entry point of the task process (runs in the forked child)."""
    os.setsid()
    for name in [n for n in os.environ if n.startswith("FLOW_AUTH__")]:
        del os.environ[name]  # user code gets no credential of the platform
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _rebind_stdio(stdout_conn.fileno(), stderr_conn.fileno())
    stdout_conn.close()
    stderr_conn.close()
    control = socket.socket(fileno=os.dup(control_conn.fileno()))
    control_conn.close()
    from services.worker import task_runner

    code = task_runner.run_task(payload, control)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    sys.exit(code)
