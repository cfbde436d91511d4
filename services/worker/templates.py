"""DAG templates: one process per DAG file that has imported it, forking each attempt.

Importing the DAG file is most of what a task process does for a short task. A template is
started from the forkserver for a file (keyed by path, mtime and size), imports it once, and
then forks a child per attempt: the child gets its own session, the attempt's pipes and
control socket, and runs the task with the DAG already loaded. Each attempt is still its own
process; the template never runs task code itself.

Wire, over two socketpairs made by the worker:
- requests (worker → template, blocking, one at a time): a JSON payload with two fds (the
  output pipe, the control socket) by SCM_RIGHTS; the answer is `{"pid": N}` with a pidfd of
  the child, so the worker can wait for the child without being its parent.
- events (template → worker): `{"pid": N, "code": C}` when a child ended (C < 0: killed by
  signal -C, as multiprocessing reports it).
A template whose request socket closes stops forking, reaps its children and exits.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import structlog

from services.worker.template_process import recv_message, send_message, template_main

log = structlog.get_logger(__name__)

READY_TIMEOUT_SECONDS = 30.0
FORK_TIMEOUT_SECONDS = 30.0


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
                send_message(self.requests, payload, fds)
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
            while (answer := recv_message(self.requests, max_fds=1)) is not None:
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
            while (message := recv_message(self.events)) is not None:
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
                send_message(self.requests, {"retire": True})
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
    answer = recv_message(req_parent) if ready else None
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
