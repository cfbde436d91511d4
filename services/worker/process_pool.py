"""Warm start for task processes.

Every attempt runs in a process of its own, started one of two ways:
- forked from the DAG file's template (services/worker/templates.py), which has imported the
  file once: the fast path, used as soon as the file's template is ready;
- else from a forkserver that has already imported the SDK. The parent passes the child ends
  of the output pipe and of the control socketpair as `Connection` objects (the forkserver
  hands their fds over).
Either way the child starts a new session, puts the output pipe on fds 1 and 2 (one pipe, as
Airflow's `stderr=STDOUT`: the log keeps the order in which lines were written), then runs
`task_runner.run_task`.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import structlog

from flow.sdk.dagspec import is_spec_fileloc
from services.worker.task_process import child_main, noop
from services.worker.templates import Template, TemplateKey, start_template

log = structlog.get_logger(__name__)

EXIT_REPORT_SECONDS = 5.0  # a template reports a child's exit code within this
MAX_TEMPLATES = 32
TEMPLATE_WAIT_SECONDS = 5.0  # an attempt waits this long at most for its file's template
# Imported once in the forkserver, so that no task process or template pays for them. Not
# this module nor the worker's (asyncio, structlog, gRPC): every fork of a template copies
# what the forkserver loaded, and a smaller process forks and exits faster.
PRELOAD = ["__main__", "flow.sdk", "flow.operators.bash", "flow.operators.python",
           "flow.operators.empty", "services.worker.task_runner",
           "services.worker.task_process", "services.worker.template_process", "jinja2"]


class TaskProcess:
    """A started task process and the parent ends of its output pipe and control socket.

    `sentinel` is an fd that becomes readable when the process has exited (the process's
    sentinel, or a pidfd for a child of a DAG template)."""

    def __init__(self, pid: int, output_fd: int, control: socket.socket, spawn_seconds: float,
                 sentinel: int, *, process: BaseProcess | None = None,
                 exit_future: asyncio.Future[int] | None = None,
                 on_close: Callable[[], None] | None = None) -> None:
        self.pid = pid
        self.output_fd = output_fd
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
            return await asyncio.wait_for(self._exit_future, EXIT_REPORT_SECONDS)
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
        self._starting: dict[TemplateKey, threading.Event] = {}  # set once started or failed
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
        process = self._ctx.Process(target=noop, name="flow-task-prime")
        started = time.perf_counter()
        with self._lock:
            process.start()
        elapsed = time.perf_counter() - started
        process.join()
        process.close()
        return elapsed

    async def start(self, payload: dict[str, Any]) -> TaskProcess:
        """Start one task process: forked from the DAG file's template when one is ready
        (on the event loop), else from the forkserver (in a thread: it blocks for a few ms).
        While the file's template starts, the attempt waits for it (see
        `_wait_for_template`)."""
        loop = asyncio.get_running_loop()
        path = str(payload.get("fileloc", ""))
        template = self._ready_template(path)
        if template is None and self._may_use_template(path):
            await loop.run_in_executor(self.executor, self._wait_for_template, path)
            template = self._ready_template(path)
        if template is not None:
            with contextlib.suppress(OSError):
                return await self._start_from_template(template, payload)
        return await loop.run_in_executor(self.executor, self._start_from_forkserver, payload)

    async def _start_from_template(self, template: Template, payload: dict[str, Any],
                                   ) -> TaskProcess:
        started = time.perf_counter()
        with _attempt_ends() as (output, parent, child_fds):
            pid, pidfd, seq = await template.fork(payload, child_fds)

        def close() -> None:
            os.close(pidfd)
            template.forget(seq)

        return TaskProcess(pid, output, parent, time.perf_counter() - started, pidfd,
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

        started = time.perf_counter()
        with _attempt_ends() as (output, control, child_fds):
            process = start(child_fds)
        assert process.pid is not None
        return TaskProcess(process.pid, output, control, time.perf_counter() - started,
                           process.sentinel, process=process)

    def _may_use_template(self, path: str) -> bool:
        # a DAG submitted as data has no file to keep a template of
        return self._use_templates and bool(path) and not is_spec_fileloc(path)

    def _current(self, path: str, key: TemplateKey | None) -> Template | None:
        """The started template of `path` if it is of `key` and alive (under
        `_templates_lock`)."""
        current = self._templates.get(path)
        return current if current is not None and current.key == key and current.alive \
            else None

    def _ready_template(self, path: str) -> Template | None:
        """The started template of `path` as the file is now, if there is one (no wait)."""
        if not self._may_use_template(path):
            return None
        key = TemplateKey.of(path)
        with self._templates_lock:
            return self._current(path, key)

    def _wait_for_template(self, path: str) -> None:
        """Start a template for `path` as it is now if there is none, and wait (a few
        seconds at most) while it starts: starting an attempt through the forkserver
        meanwhile would import the file again in each of them, which costs more CPU than the
        template's start takes time. The attempt then goes through the forkserver if there is
        still none (no file, the file does not import in a template, or it is slow).
        Blocking: call it through a thread."""
        key = TemplateKey.of(path)
        if key is None:
            return
        with self._templates_lock:
            if self._current(path, key) is not None or key in self._failed:
                return
            started = self._starting.get(key)
            if started is None:
                started = self._starting[key] = threading.Event()
                threading.Thread(target=self._start_template, args=(key,), daemon=True,
                                 name="template-start").start()
        started.wait(TEMPLATE_WAIT_SECONDS)

    def _start_template(self, key: TemplateKey) -> None:
        try:
            template = start_template(self._ctx, key, self._lock)
        except OSError as exc:
            log.warning("template_start_failed", path=key.path, error=str(exc))
            template = None
        retired: list[Template] = []
        with self._templates_lock:
            started = self._starting.pop(key, None)
            if template is None:
                self._failed.add(key)
            else:
                old = self._templates.pop(key.path, None)
                self._templates[key.path] = template
                retired = [old] if old is not None else []
                while len(self._templates) > MAX_TEMPLATES:
                    retired.append(self._templates.pop(next(iter(self._templates))))
        if started is not None:
            started.set()  # the attempts waiting for it go on, from it or the forkserver
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


@contextlib.contextmanager
def _attempt_ends() -> Iterator[tuple[int, socket.socket, list[int]]]:
    """An attempt's output pipe and control socketpair: yields the parent ends and the child
    ends' fds (output, control) for the process being started. The child ends are closed on
    leaving either way, the parent ends too when the start failed."""
    output, output_w = os.pipe()
    parent, child = socket.socketpair()
    try:
        yield output, parent, [output_w, child.fileno()]
    except BaseException:
        os.close(output)
        parent.close()
        raise
    finally:
        os.close(output_w)
        child.close()
