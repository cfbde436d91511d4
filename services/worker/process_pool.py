"""Warm start for task processes.

Every attempt runs in a process of its own, started one of two ways:
- forked from the DAG file's template (services/worker/templates.py), which has imported the
  file once: the fast path, used as soon as the file's template is ready;
- else from a forkserver that has already imported the SDK. The parent passes the child ends
  of the stdout/stderr pipes and of the control socketpair as `Connection` objects (the
  forkserver hands their fds over).
Either way the child starts a new session, puts the pipes on fds 1 and 2, then runs
`task_runner.run_task`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import io
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

import structlog

from flow.config import is_credential_setting
from flow.sdk.dagspec import is_spec_fileloc
from services.worker.templates import Template, TemplateKey, start_template

log = structlog.get_logger(__name__)
T = TypeVar("T")

EXIT_REPORT_SECONDS = 5.0  # a template reports a child's exit code within this
MAX_TEMPLATES = 32
# Imported once in the forkserver, so that no task process or template pays for them (this
# module itself costs ~70 ms to import: asyncio, structlog, multiprocessing).
PRELOAD = ["__main__", "flow.sdk", "flow.operators.bash", "flow.operators.python",
           "flow.operators.empty", "services.worker.task_runner", "services.worker.process_pool",
           "services.worker.templates", "jinja2"]


class TaskProcess:
    """A started task process and the parent ends of its pipes and control socket.

    `sentinel` is an fd that becomes readable when the process has exited (the process's
    sentinel, or a pidfd for a child of a DAG template)."""

    def __init__(self, pid: int, stdout_fd: int, stderr_fd: int, control: socket.socket,
                 spawn_seconds: float, sentinel: int, *, process: BaseProcess | None = None,
                 exit_future: Future[int] | None = None,
                 on_close: Callable[[], None] | None = None) -> None:
        self.pid = pid
        self.stdout_fd = stdout_fd
        self.stderr_fd = stderr_fd
        self.control = control
        self.spawn_seconds = spawn_seconds
        self.sentinel = sentinel
        self._process = process
        self._exit_future = exit_future
        self._on_close = on_close

    async def exit_code(self) -> int:
        """The exit code once the sentinel fired (negative: killed by that signal)."""
        if self._process is not None:
            self._process.join(0)
            code = self._process.exitcode
            return 255 if code is None else code
        assert self._exit_future is not None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(self._exit_future),
                                          EXIT_REPORT_SECONDS)
        except TimeoutError:
            return 255

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
        if self._on_close is not None:
            self._on_close()


class ProcessLauncher:
    """Starts task processes from a preloaded forkserver (one per worker process)."""

    def __init__(self, *, use_templates: bool = True) -> None:
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(PRELOAD)
        self._lock = threading.Lock()
        self._use_templates = use_templates
        self._templates: dict[str, Template] = {}  # by path, the newest key only
        self._starting: set[TemplateKey] = set()
        self._failed: set[TemplateKey] = set()
        self._templates_lock = threading.Lock()
        # Starts block for a few ms; their own threads keep them from queueing behind other
        # blocking work of the worker (and each other, beyond the forkserver's one at a time).
        self.executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="task-start")

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
        """Start one task process (blocking for a few ms; call it through a thread): forked
        from the DAG file's template when one is ready, else from the forkserver."""
        template = self._template_for(str(payload.get("fileloc", "")))
        if template is not None:
            with contextlib.suppress(OSError):
                return self._start_from_template(template, payload)
        return self._start_from_forkserver(payload)

    def _start_from_template(self, template: Template, payload: dict[str, Any]) -> TaskProcess:
        (pid, pidfd, seq), out_r, err_r, control, spawn_seconds = _launch(
            lambda fds: template.fork(payload, fds))

        def close() -> None:
            os.close(pidfd)
            template.forget(seq)

        return TaskProcess(pid, out_r, err_r, control, spawn_seconds, pidfd,
                           exit_future=template.exit_future(seq), on_close=close)

    def _start_from_forkserver(self, payload: dict[str, Any]) -> TaskProcess:
        def start(fds: list[int]) -> BaseProcess:
            conns = [Connection(os.dup(fd)) for fd in fds]  # the forkserver hands them over
            process = self._ctx.Process(
                target=child_main, args=(*conns, payload),
                name=f"flow-task-{payload.get('task_id', '')}", daemon=False)
            try:
                with self._lock:
                    process.start()
            finally:
                for conn in conns:
                    conn.close()
            return process

        process, out_r, err_r, control, spawn_seconds = _launch(start)
        assert process.pid is not None
        return TaskProcess(process.pid, out_r, err_r, control, spawn_seconds,
                           process.sentinel, process=process)

    def _template_for(self, path: str) -> Template | None:
        """The ready template of `path` as it is now; starts one in the background if
        there is none (this attempt then goes through the forkserver)."""
        if not self._use_templates or not path or is_spec_fileloc(path):
            # a DAG submitted as data has no file to keep a template of
            return None
        key = TemplateKey.of(path)
        if key is None:
            return None
        with self._templates_lock:
            current = self._templates.get(path)
            if current is not None and current.key == key and current.alive:
                return current
            if key in self._starting or key in self._failed:
                return None
            self._starting.add(key)
        threading.Thread(target=self._start_template, args=(key,), daemon=True,
                         name="template-start").start()
        return None

    def _start_template(self, key: TemplateKey) -> None:
        try:
            template = start_template(self._ctx, key, self._lock)
        except OSError as exc:
            log.warning("template_start_failed", path=key.path, error=str(exc))
            template = None
        with self._templates_lock:
            self._starting.discard(key)
            if template is None:
                self._failed.add(key)
                return
            old = self._templates.pop(key.path, None)
            self._templates[key.path] = template
            retired = [old] if old is not None else []
            while len(self._templates) > MAX_TEMPLATES:
                retired.append(self._templates.pop(next(iter(self._templates))))
        for stale in retired:
            stale.retire()

    def close(self) -> None:
        """Retire every template (each exits once its running attempts have ended)."""
        with self._templates_lock:
            templates = list(self._templates.values())
            self._templates.clear()
        for template in templates:
            template.retire()
        self.executor.shutdown(wait=False)


def _launch(start: Callable[[list[int]], T]) -> tuple[T, int, int, socket.socket, float]:
    """Make an attempt's stdout and stderr pipes and control socketpair, and `start(fds)` its
    process with the child ends (stdout, stderr, control). Returns what `start` returned, the
    parent ends and the seconds it took; the child ends are closed here either way, the
    parent ends too if `start` failed."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    parent, child = socket.socketpair()
    started = time.perf_counter()
    try:
        result = start([out_w, err_w, child.fileno()])
    except BaseException:
        for fd in (out_r, err_r):
            os.close(fd)
        parent.close()
        raise
    finally:
        for fd in (out_w, err_w):
            os.close(fd)
        child.close()
    return result, out_r, err_r, parent, time.perf_counter() - started


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


def enter_task_process(stdout_fd: int, stderr_fd: int) -> None:
    """What every task process does first: its own session (so the supervisor can kill its
    whole group), no platform credentials, default signals, the attempt's pipes as 1 and 2."""
    os.setsid()
    die_with_parent()
    for name in [n for n in os.environ if is_credential_setting(n)]:
        del os.environ[name]  # user code gets no credential of the platform
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _rebind_stdio(stdout_fd, stderr_fd)


_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Any:
    """libc's prctl, or None where it is missing. Loaded once, at import, in the forkserver
    and the templates: looking it up in every task process cost ~0.4 ms of CPU each."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies. The parents (forkserver,
    template) end with the worker, so a killed worker leaves no attempt running unsupervised
    that the scheduler would then retry elsewhere. A no-op where prctl is missing."""
    parent = os.getppid()
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def flush_stdio() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def child_main(stdout_conn: Connection, stderr_conn: Connection, control_conn: Connection,
               payload: dict[str, Any]) -> None:
    """Entry point of a task process started from the forkserver (no template)."""
    enter_task_process(stdout_conn.fileno(), stderr_conn.fileno())
    stdout_conn.close()
    stderr_conn.close()
    control = socket.socket(fileno=os.dup(control_conn.fileno()))
    control_conn.close()
    from services.worker import task_runner

    code = task_runner.run_task(payload, control)
    flush_stdio()
    sys.exit(code)
