"""DAG templates: one process per DAG file that has imported it, forking each attempt.

Importing the DAG file is most of what a task process does for a short task. A template is
started from the forkserver for a file (keyed by path, mtime and size), imports it once, and
then forks a child per attempt: the child gets its own session, the attempt's pipes and
control socket, and runs the task with the DAG already loaded. Each attempt is still its own
process; the template never runs task code itself.

Wire, over two socketpairs made by the worker:
- requests (worker → template, blocking, one at a time): a JSON payload with three fds
  (stdout, stderr, control) by SCM_RIGHTS; the answer is `{"pid": N}` with a pidfd of the
  child, so the worker can wait for the child without being its parent.
- events (template → worker): `{"pid": N, "code": C}` when a child ended (C < 0: killed by
  signal -C, as multiprocessing reports it).
A template whose request socket closes stops forking, reaps its children and exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import struct
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import structlog

log = structlog.get_logger(__name__)

HEADER = struct.Struct(">I")
READY_TIMEOUT_SECONDS = 30.0
FORK_TIMEOUT_SECONDS = 30.0
MAX_MESSAGE = 16 * 1024 * 1024


@dataclass(frozen=True)
class TemplateKey:
    """A DAG file as it is now: a change of mtime or size means a new template."""

    path: str
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: str) -> TemplateKey | None:
        try:
            stat = os.stat(path)
        except OSError:
            return None
        return cls(path, stat.st_mtime_ns, stat.st_size)


def _send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    data = HEADER.pack(len(data)) + data
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.sendall(data)


def _recv(sock: socket.socket, max_fds: int = 0) -> tuple[dict[str, Any], list[int]] | None:
    """One message (and the fds that came with it), or None at end of stream."""
    if max_fds:
        head, fds, _flags, _addr = socket.recv_fds(sock, HEADER.size, max_fds)
    else:
        head, fds = sock.recv(HEADER.size, socket.MSG_WAITALL), []
    if len(head) < HEADER.size:
        for fd in fds:
            os.close(fd)
        return None
    (size,) = HEADER.unpack(head)
    if size > MAX_MESSAGE:
        raise ValueError(f"template message of {size} bytes")
    body = sock.recv(size, socket.MSG_WAITALL)
    return json.loads(body), list(fds)


# --- the template process ------------------------------------------------------------------


def template_main(requests_conn: Connection, events_conn: Connection, path: str) -> None:
    """Entry point of a template (a forkserver child): import `path`, then fork attempts."""
    requests = socket.socket(fileno=os.dup(requests_conn.fileno()))
    events = socket.socket(fileno=os.dup(events_conn.fileno()))
    requests_conn.close()
    events_conn.close()
    # Its own session, and no SIGTERM/SIGINT: a signal to the worker's process group must not
    # take it down before it has killed its attempts' groups (it does that, then exits, when
    # the worker's socket closes).
    os.setsid()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    from flow.sdk.loader import load_dags_from_file

    try:
        dags = {dag.dag_id: dag for dag in load_dags_from_file(path)}
    except BaseException as exc:  # reported; the attempts then import the file themselves
        _send(requests, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        os._exit(0)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    _send(requests, {"ok": True})
    _serve(requests, events, wake_r, dags)
    os._exit(0)


def _serve(requests: socket.socket, events: socket.socket, wake_r: int,
           dags: dict[str, Any]) -> None:
    children: set[int] = set()
    accepting = True
    while accepting or children:
        watched = [wake_r, requests.fileno()] if accepting else [wake_r]
        readable, _, _ = select.select(watched, [], [], 1.0)
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
        _reap(children, events)
        if accepting and requests.fileno() in readable:
            message = _recv(requests, max_fds=3)
            if message is None:  # the worker is gone: its attempts must not run on
                for child in children:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(child, signal.SIGKILL)
                accepting = False
                continue
            payload, fds = message
            if payload.get("retire"):  # stop forking; running attempts finish
                accepting = False
                continue
            pid = os.fork()
            if pid == 0:
                requests.close()
                events.close()
                os.close(wake_r)
                _child(payload, fds, dags)
            children.add(pid)
            pidfd = os.pidfd_open(pid)
            try:
                _send(requests, {"pid": pid}, [pidfd])
            finally:
                os.close(pidfd)
                for fd in fds:
                    os.close(fd)


def _reap(children: set[int], events: socket.socket) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        children.discard(pid)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        with contextlib.suppress(OSError):
            _send(events, {"pid": pid, "code": code})


def _child(payload: dict[str, Any], fds: list[int], dags: dict[str, Any]) -> None:
    """The attempt's process: forked from the template, never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        from services.worker import process_pool, task_runner

        stdout_fd, stderr_fd, control_fd = fds
        process_pool.enter_task_process(stdout_fd, stderr_fd)
        os.close(stdout_fd)
        os.close(stderr_fd)
        code = task_runner.run_task(payload, socket.socket(fileno=control_fd), dags=dags)
        process_pool.flush_stdio()
    finally:
        os._exit(code)


# --- the worker's side ---------------------------------------------------------------------


@dataclass
class Template:
    """The worker's handle on one template process."""

    key: TemplateKey
    process: Any  # multiprocessing BaseProcess
    requests: socket.socket
    events: socket.socket
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Forks in flight, oldest first: the template answers requests in order, so several can
    # be outstanding at once (the template forks back to back when it gets the CPU).
    pending: deque[Future[tuple[int, int]]] = field(default_factory=deque)
    exits: dict[int, Future[int]] = field(default_factory=dict)
    exits_lock: threading.Lock = field(default_factory=threading.Lock)
    alive: bool = True

    def exit_future(self, pid: int) -> Future[int]:
        with self.exits_lock:
            return self.exits.setdefault(pid, Future())

    def forget(self, pid: int) -> None:
        """Drop a consumed exit future (pids are reused)."""
        with self.exits_lock:
            self.exits.pop(pid, None)

    def fork(self, payload: dict[str, Any], fds: list[int]) -> tuple[int, int]:
        """Ask for a child running `payload`; returns its pid and a pidfd (blocking)."""
        answer: Future[tuple[int, int]] = Future()
        with self.lock:
            if not self.alive:
                raise OSError("the template has stopped")
            self.pending.append(answer)
            try:
                _send(self.requests, payload, fds)
            except OSError:
                self.pending.remove(answer)
                raise
        try:
            return answer.result(timeout=FORK_TIMEOUT_SECONDS)
        except TimeoutError:
            # Too slow to trust: stop using it; a late child is killed by read_answers.
            self.alive = False
            raise OSError("the template did not answer in time") from None

    def read_answers(self) -> None:
        """Thread body: hand each fork answer (pid + pidfd) to the oldest request."""
        try:
            while (answer := _recv(self.requests, max_fds=1)) is not None:
                message, pidfds = answer
                with self.lock:
                    waiting = self.pending.popleft() if self.pending else None
                if not pidfds or waiting is None or waiting.done():
                    _kill_orphan(int(message.get("pid", 0)), pidfds)
                    continue
                pid = int(message["pid"])
                self.exit_future(pid)
                waiting.set_result((pid, pidfds[0]))
        except (OSError, ValueError) as exc:
            if self.alive:
                log.warning("template_answers_failed", path=self.key.path, error=str(exc))
        finally:
            self.alive = False
            with self.lock:
                while self.pending:
                    waiting = self.pending.popleft()
                    if not waiting.done():
                        waiting.set_exception(OSError("the template ended"))

    def read_events(self) -> None:
        """Thread body: resolve exit futures until the template closes its socket."""
        try:
            while (message := _recv(self.events)) is not None:
                self.exit_future(int(message[0]["pid"])).set_result(int(message[0]["code"]))
        except (OSError, ValueError) as exc:
            log.warning("template_events_failed", path=self.key.path, error=str(exc))
        finally:
            self.alive = False
            with self.exits_lock:
                for future in self.exits.values():
                    if not future.done():
                        future.set_result(255)  # the template died: the code is unknown
            self.process.join(5)
            self.events.close()

    def retire(self) -> None:
        """Stop forking; the template exits once its running children have ended."""
        self.alive = False
        with self.lock, contextlib.suppress(OSError):
            _send(self.requests, {"retire": True})
            self.requests.shutdown(socket.SHUT_RDWR)
        self.requests.close()


def _kill_orphan(pid: int, pidfds: list[int]) -> None:
    """A child nobody waits for any more (its request timed out): it must not run."""
    if pid > 0:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    for fd in pidfds:
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(fd, signal.SIGKILL)  # before it made its own group
        os.close(fd)


def start_template(ctx: Any, key: TemplateKey) -> Template | None:
    """Start a template for `key` from the forkserver and wait until it imported the file;
    None when the import failed or took longer than READY_TIMEOUT_SECONDS (blocking)."""
    req_parent, req_child = socket.socketpair()
    ev_parent, ev_child = socket.socketpair()
    conns = [Connection(os.dup(req_child.fileno())), Connection(os.dup(ev_child.fileno()))]
    req_child.close()
    ev_child.close()
    process = ctx.Process(target=template_main, args=(*conns, key.path),
                          name=f"flow-template-{os.path.basename(key.path)}", daemon=False)
    try:
        process.start()
    finally:
        for conn in conns:
            conn.close()
    ready, _, _ = select.select([req_parent], [], [], READY_TIMEOUT_SECONDS)
    answer = _recv(req_parent) if ready else None
    if answer is None or not answer[0].get("ok"):
        log.info("template_unavailable", path=key.path,
                 error=(answer[0].get("error") if answer else "no answer in time"))
        with contextlib.suppress(OSError):
            process.kill()
        process.join(5)
        req_parent.close()
        ev_parent.close()
        return None
    template = Template(key, process, req_parent, ev_parent)
    threading.Thread(target=template.read_events, name="template-events", daemon=True).start()
    threading.Thread(target=template.read_answers, name="template-answers", daemon=True).start()
    log.info("template_started", path=key.path, pid=process.pid)
    return template
