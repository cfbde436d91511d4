"""DAG templates: one process per DAG file that has imported it, forking each attempt.

Importing the DAG file is most of what a task process does for a short task. A template is
started from the forkserver for a file (keyed by path, mtime and size), imports it once, and
then forks a child per attempt: the child gets its own session, the attempt's pipes and
control socket, and runs the task with the DAG already loaded. Each attempt is still its own
process; the template never runs task code itself.

Wire, over two socketpairs made by the worker (read and written by its event loop once the
template is in use):
- requests (worker → template, several in flight, answered in order): a JSON payload with two
  fds (the output pipe, the control socket) by SCM_RIGHTS; the answer is `{"pid": N}` with a
  pidfd of the child, so the worker can wait for the child without being its parent.
- events (template → worker): `{"pid": N, "code": C}` when a child ended (C < 0: killed by
  signal -C, as multiprocessing reports it).
A template whose request socket closes stops forking, reaps its children and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import structlog

from services.worker.protocol import HEADER
from services.worker.template_process import (
    MAX_MESSAGE,
    encode_message,
    recv_message,
    send_message,
    template_main,
)

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


class _Inbox:
    """The length-prefixed messages of a non-blocking socket as they arrive, and the fds
    that came with them in arrival order (an fd arrives no later than its message)."""

    def __init__(self, sock: socket.socket, max_fds: int = 0) -> None:
        self._sock = sock
        self._max_fds = max_fds
        self._buffer = bytearray()
        self.fds: deque[int] = deque()
        self.ended = False

    def read(self) -> list[dict[str, Any]]:
        """What arrived since the last call, as whole messages (ValueError: not our wire)."""
        while not self.ended:
            try:
                if self._max_fds:
                    data, fds, _flags, _addr = socket.recv_fds(self._sock, 65536, self._max_fds)
                else:
                    data, fds = self._sock.recv(65536), []
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                data, fds = b"", []
            self.fds.extend(fds)
            if not data:
                self.ended = True
            self._buffer += data
        messages = []
        while len(self._buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buffer)
            if size > MAX_MESSAGE:
                raise ValueError(f"template message of {size} bytes")
            if len(self._buffer) < HEADER.size + size:
                break
            messages.append(json.loads(self._buffer[HEADER.size:HEADER.size + size]))
            del self._buffer[:HEADER.size + size]
        return messages

    def close_fds(self) -> None:
        while self.fds:
            os.close(self.fds.popleft())


@dataclass
class Template:
    """The worker's handle on one template process. Started in a thread (`start_template`);
    used on the event loop: the first `fork()` hands both sockets to the loop, which then
    reads the answers and exit reports as they come (no thread per template)."""

    key: TemplateKey
    process: Any  # multiprocessing BaseProcess
    requests: socket.socket
    events: socket.socket
    alive: bool = True
    # Forks in flight, oldest first: the template answers requests in order, so several can
    # be outstanding at once (the template forks back to back when it gets the CPU).
    pending: deque[asyncio.Future[tuple[int, int, int]]] = field(default_factory=deque)
    # Exit codes by the template's fork number (pids are reused; fork numbers are not).
    exits: dict[int, asyncio.Future[int]] = field(default_factory=dict)
    _loop: asyncio.AbstractEventLoop | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)  # attaching vs retiring
    _send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _answers: _Inbox | None = None
    _reports: _Inbox | None = None
    _retiring: asyncio.Task[None] | None = None  # a retire message waiting for its turn

    def _attach(self) -> asyncio.AbstractEventLoop:
        """On the loop, once: read both sockets there from now on."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.requests.setblocking(False)
        self.events.setblocking(False)
        self._answers = _Inbox(self.requests, max_fds=4)
        self._reports = _Inbox(self.events)
        loop.add_reader(self.requests.fileno(), self._read_answers)
        loop.add_reader(self.events.fileno(), self._read_events)
        return loop

    def exit_future(self, seq: int) -> asyncio.Future[int]:
        assert self._loop is not None
        return self.exits.setdefault(seq, self._loop.create_future())

    def forget(self, seq: int) -> None:
        """Drop a consumed exit future."""
        self.exits.pop(seq, None)

    async def fork(self, payload: dict[str, Any], fds: list[int]) -> tuple[int, int, int]:
        """Ask for a child running `payload`; its pid, a pidfd and its fork number.
        OSError when the template cannot start it."""
        with self._lock:
            if not self.alive:
                raise OSError("the template has stopped")
            loop = self._loop or self._attach()
        answer: asyncio.Future[tuple[int, int, int]] = loop.create_future()
        try:
            async with asyncio.timeout(FORK_TIMEOUT_SECONDS):  # the send too: it may wait
                async with self._send_lock:
                    if not self.alive:
                        raise OSError("the template has stopped")
                    self.pending.append(answer)
                    try:
                        await _send(loop, self.requests, encode_message(payload), fds)
                    except OSError:
                        self.alive = False  # a message cut short leaves the stream unusable
                        with contextlib.suppress(ValueError):
                            self.pending.remove(answer)
                        raise
                return await answer
        except TimeoutError:
            # Too slow to trust: stop using it; a late child is then killed on arrival.
            self.alive = False
            answer.cancel()
            raise OSError("the template did not answer in time") from None

    def _read_answers(self) -> None:
        """Hand each fork answer to the oldest request."""
        assert self._answers is not None
        inbox = self._answers
        try:
            messages = inbox.read()
        except ValueError as exc:
            log.warning("template_answers_failed", path=self.key.path, error=str(exc))
            messages, inbox.ended = [], True
        for message in messages:
            waiting = self.pending.popleft() if self.pending else None
            wanted = waiting is not None and not waiting.done()
            pidfd = inbox.fds.popleft() if "pid" in message and inbox.fds else None
            if waiting is not None and wanted and pidfd is not None:
                seq = int(message.get("seq", 0))
                self.exit_future(seq)
                waiting.set_result((int(message["pid"]), pidfd, seq))
                continue
            _kill_orphan(int(message.get("pid", 0)), [] if pidfd is None else [pidfd])
            if waiting is not None and wanted:
                waiting.set_exception(OSError(str(message.get("error", "no child"))))
        if inbox.ended:
            self._answers_ended()

    def _answers_ended(self) -> None:
        assert self._loop is not None and self._answers is not None
        self._loop.remove_reader(self.requests.fileno())
        self.alive = False
        while self.pending:
            waiting = self.pending.popleft()
            if not waiting.done():
                waiting.set_exception(OSError("the template ended"))
        self._answers.close_fds()
        self.requests.close()

    def _read_events(self) -> None:
        """Resolve exit futures until the template closes its socket."""
        assert self._reports is not None
        try:
            messages = self._reports.read()
        except ValueError as exc:
            log.warning("template_events_failed", path=self.key.path, error=str(exc))
            messages, self._reports.ended = [], True
        for message in messages:
            future = self.exit_future(int(message.get("seq", 0)))
            if not future.done():  # a waiter may have given up (and cancelled it)
                future.set_result(int(message["code"]))
        if self._reports.ended:
            self._events_ended()

    def _events_ended(self) -> None:
        assert self._loop is not None
        self._loop.remove_reader(self.events.fileno())
        self.alive = False
        for future in self.exits.values():
            if not future.done():
                future.set_result(255)  # the template died: the code is unknown
        self.events.close()
        _join_later(self.process)

    def retire(self) -> None:
        """Stop forking; the template exits once its running children have ended. Forks in
        flight still get their answers (the answers are read to the end of the stream).
        Callable from any thread."""
        with self._lock:
            self.alive = False
            loop = self._loop
            if loop is None:  # never used: its sockets are still blocking, and ours alone
                self._send_retire_blocking()
                self.requests.close()
                self.events.close()
                _join_later(self.process)
                return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._send_retire()
            return
        try:
            loop.call_soon_threadsafe(self._send_retire)
        except RuntimeError:  # its loop is closed: nothing else uses the socket now
            self._send_retire_blocking()

    def _send_retire_blocking(self) -> None:
        with contextlib.suppress(OSError):
            self.requests.setblocking(True)
            send_message(self.requests, {"retire": True})
            self.requests.shutdown(socket.SHUT_WR)

    def _send_retire(self) -> None:
        if self.requests.fileno() < 0:
            return
        data = encode_message({"retire": True})
        sent = 0
        if not self._send_lock.locked():  # no message half sent: it can go at once
            with contextlib.suppress(OSError):
                sent = self.requests.send(data)
            if sent == len(data):
                with contextlib.suppress(OSError):
                    self.requests.shutdown(socket.SHUT_WR)
                return
        self._retiring = asyncio.get_running_loop().create_task(
            self._send_retire_later(data[sent:]))

    async def _send_retire_later(self, data: bytes) -> None:
        assert self._loop is not None
        async with self._send_lock:
            if self.requests.fileno() >= 0:
                with contextlib.suppress(OSError):
                    await _send(self._loop, self.requests, data, [])
                    self.requests.shutdown(socket.SHUT_WR)


async def _send(loop: asyncio.AbstractEventLoop, sock: socket.socket, data: bytes,
                fds: list[int]) -> None:
    """Send one message on a non-blocking socket, its fds with its first bytes."""
    while True:
        try:
            sent = socket.send_fds(sock, [data], fds) if fds else sock.send(data)
            break
        except (BlockingIOError, InterruptedError):
            await _writable(loop, sock)
    if sent < len(data):
        await loop.sock_sendall(sock, data[sent:])


async def _writable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    ready: asyncio.Future[None] = loop.create_future()

    def on_writable() -> None:
        if not ready.done():
            ready.set_result(None)

    fd = sock.fileno()
    loop.add_writer(fd, on_writable)
    try:
        await ready
    finally:
        loop.remove_writer(fd)


def _join_later(process: Any) -> None:
    """Reap the template's process without blocking the caller."""
    threading.Thread(target=process.join, args=(5,), name="template-join", daemon=True).start()


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
    log.info("template_started", path=key.path, pid=process.pid)
    return template
