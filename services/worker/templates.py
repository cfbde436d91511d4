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
import gc
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
    """One length-prefixed JSON message; `fds` ride on its first bytes (SCM_RIGHTS)."""
    data = json.dumps(message).encode()
    data = HEADER.pack(len(data)) + data
    sent = socket.send_fds(sock, [data], fds) if fds else 0
    if sent < len(data):
        sock.sendall(data[sent:])


def _recv_exactly(sock: socket.socket, size: int, first: bytes = b"") -> bytes:
    """`size` bytes (a signal may cut a read short); fewer only at end of stream."""
    chunks, have = [first], len(first)
    while have < size:
        chunk = sock.recv(size - have)
        if not chunk:
            break
        chunks.append(chunk)
        have += len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket, max_fds: int = 0) -> tuple[dict[str, Any], list[int]] | None:
    """One message (and the fds that came with it), or None at end of stream."""
    if max_fds:
        first, fds, _flags, _addr = socket.recv_fds(sock, HEADER.size, max_fds)
    else:
        first, fds = sock.recv(HEADER.size), []
    head = _recv_exactly(sock, HEADER.size, first) if first else b""
    if len(head) < HEADER.size:
        for fd in fds:
            os.close(fd)
        return None
    (size,) = HEADER.unpack(head)
    if size > MAX_MESSAGE:
        raise ValueError(f"template message of {size} bytes")
    body = _recv_exactly(sock, size)
    if len(body) < size:
        for fd in fds:
            os.close(fd)
        return None
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
    from flow.config import is_credential_setting

    for name in [n for n in os.environ if is_credential_setting(n)]:
        del os.environ[name]  # the DAG file's top-level code runs here: no platform credentials
    from flow.sdk.loader import load_dags_from_file
    from services.worker import process_pool, task_runner  # imported once, for every child

    with contextlib.suppress(Exception):  # an optimisation only: the children work without it
        task_runner.warm_up_execution()
    del process_pool
    try:
        dags = {dag.dag_id: dag for dag in load_dags_from_file(path)}
    except BaseException as exc:  # reported; the attempts then import the file themselves
        _send(requests, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        os._exit(0)
    # Everything imported so far is shared with every child: keep the collector away from it
    # so that the children do not copy those pages (gc.freeze, as prefork servers do).
    gc.collect()
    gc.freeze()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    _send(requests, {"ok": True})
    _serve(requests, events, wake_r, dags)
    os._exit(0)


def _serve(requests: socket.socket, events: socket.socket, wake_r: int,
           dags: dict[str, Any]) -> None:
    children: dict[int, int] = {}  # pid -> seq
    seq = 0
    accepting = True
    while accepting or children:
        # `events` is never written by the worker: readable means it is gone.
        watched = [wake_r, events.fileno()] + ([requests.fileno()] if accepting else [])
        readable, _, _ = select.select(watched, [], [], 1.0)
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
        _reap(children, events)
        if events.fileno() in readable:
            _kill_all(children)  # the worker died: its attempts must not run on
            return
        if not (accepting and requests.fileno() in readable):
            continue
        try:
            message = _recv(requests, max_fds=3)
        except (OSError, ValueError):
            message = None
        if message is None:  # the worker is gone without retiring us
            _kill_all(children)
            return
        payload, fds = message
        if payload.get("retire"):  # stop forking; running attempts finish
            accepting = False
            continue
        seq += 1
        _fork_one(requests, events, wake_r, dags, payload, fds, seq, children)


def _fork_one(requests: socket.socket, events: socket.socket, wake_r: int,
              dags: dict[str, Any], payload: dict[str, Any], fds: list[int], seq: int,
              children: dict[int, int]) -> None:
    """Fork the attempt's child and answer with its pid and a pidfd; a failure is answered
    as an error (the worker then starts the attempt another way), never a crash."""
    pid = 0
    try:
        pid = os.fork()
        if pid == 0:
            requests.close()
            events.close()
            os.close(wake_r)
            _child(payload, fds, dags)
        children[pid] = seq
        pidfd = os.pidfd_open(pid)
        try:
            _send(requests, {"pid": pid, "seq": seq}, [pidfd])
        finally:
            os.close(pidfd)
    except OSError as exc:
        if pid > 0:  # forked, but the worker cannot be told: it must not run
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            _send(requests, {"error": f"{type(exc).__name__}: {exc}", "seq": seq})
    finally:
        for fd in fds:
            os.close(fd)


def _kill_all(children: dict[int, int]) -> None:
    for pid in children:
        for kill in (os.killpg, os.kill):  # its group, or itself before it made one
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(pid, signal.SIGKILL)


def _reap(children: dict[int, int], events: socket.socket) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        seq = children.pop(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        with contextlib.suppress(OSError):
            _send(events, {"seq": seq, "code": code})


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
    pending: deque[Future[tuple[int, int, int]]] = field(default_factory=deque)
    # Exit codes by the template's fork number (pids are reused; fork numbers are not).
    exits: dict[int, Future[int]] = field(default_factory=dict)
    exits_lock: threading.Lock = field(default_factory=threading.Lock)
    alive: bool = True

    def exit_future(self, seq: int) -> Future[int]:
        with self.exits_lock:
            return self.exits.setdefault(seq, Future())

    def forget(self, seq: int) -> None:
        """Drop a consumed exit future."""
        with self.exits_lock:
            self.exits.pop(seq, None)

    def _exited(self, seq: int, code: int) -> None:
        with self.exits_lock:
            future = self.exits.setdefault(seq, Future())
            if not future.done():  # a waiter may have given up (and cancelled it)
                future.set_result(code)

    def fork(self, payload: dict[str, Any], fds: list[int]) -> tuple[int, int, int]:
        """Ask for a child running `payload`; its pid, a pidfd and its fork number
        (blocking). OSError when the template cannot start it."""
        answer: Future[tuple[int, int, int]] = Future()
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
            # Too slow to trust: stop using it; a late child is then killed by read_answers.
            with self.lock:
                self.alive = False
                answer.cancel()
            if answer.done() and not answer.cancelled():  # it came just now after all
                return answer.result()
            raise OSError("the template did not answer in time") from None

    def read_answers(self) -> None:
        """Thread body: hand each fork answer to the oldest request, until end of stream."""
        try:
            while (answer := _recv(self.requests, max_fds=1)) is not None:
                message, pidfds = answer
                with self.lock:
                    waiting = self.pending.popleft() if self.pending else None
                    wanted = waiting is not None and not waiting.done()
                    if wanted and pidfds and "pid" in message:
                        seq = int(message.get("seq", 0))
                        self.exit_future(seq)
                        assert waiting is not None
                        waiting.set_result((int(message["pid"]), pidfds[0], seq))
                        continue
                _kill_orphan(int(message.get("pid", 0)), pidfds)
                if wanted:
                    assert waiting is not None
                    waiting.set_exception(OSError(str(message.get("error", "no child"))))
        except (OSError, ValueError) as exc:
            if self.alive:
                log.warning("template_answers_failed", path=self.key.path, error=str(exc))
        finally:
            with self.lock:
                self.alive = False
                while self.pending:
                    waiting = self.pending.popleft()
                    if not waiting.done():
                        waiting.set_exception(OSError("the template ended"))
            self.requests.close()

    def read_events(self) -> None:
        """Thread body: resolve exit futures until the template closes its socket."""
        try:
            while (message := _recv(self.events)) is not None:
                self._exited(int(message[0].get("seq", 0)), int(message[0]["code"]))
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
        """Stop forking; the template exits once its running children have ended. Forks in
        flight still get their answers (read_answers reads to the end of the stream)."""
        with self.lock:
            self.alive = False
            with contextlib.suppress(OSError):
                _send(self.requests, {"retire": True})
                self.requests.shutdown(socket.SHUT_WR)


def _kill_orphan(pid: int, pidfds: list[int]) -> None:
    """A child nobody waits for any more (its request timed out): it must not run."""
    if pid > 0:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    for fd in pidfds:
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(fd, signal.SIGKILL)  # before it made its own group
        os.close(fd)


def start_template(ctx: Any, key: TemplateKey, start_lock: threading.Lock) -> Template | None:
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
        with start_lock:  # the forkserver serves one start at a time; the import is not
            process.start()  # waited for under it
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
