"""The template process: a forkserver child that imported one DAG file, forking a child per
attempt (see services/worker/templates.py for the worker's side and the wire).

It imports nothing of the worker's own machinery (asyncio, structlog, gRPC): what it has
loaded is what every fork copies and then tears down, so it is kept small.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import random
import select
import signal
import socket
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from services.worker.protocol import HEADER  # the task process's frames' length prefix

MAX_MESSAGE = 16 * 1024 * 1024
MAX_BATCH = 16  # fork requests read at once (the worker pipelines them)


def encode_message(message: dict[str, Any]) -> bytes:
    data = json.dumps(message).encode()
    return HEADER.pack(len(data)) + data


def send_message(sock: socket.socket, message: dict[str, Any],
                 fds: list[int] | None = None) -> None:
    """One length-prefixed JSON message; `fds` ride on its first bytes (SCM_RIGHTS)."""
    data = encode_message(message)
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


def recv_message(sock: socket.socket, max_fds: int = 0,
                 ) -> tuple[dict[str, Any], list[int]] | None:
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
    from services.worker import task_process, task_runner  # imported once, for every child

    # While the DAG file imports (it may hang), the template dies with the worker's forkserver,
    # which exits with the worker. Once it serves, it watches the worker's socket instead: it
    # must outlive the worker long enough to kill its attempts' process groups.
    task_process.leave_forkserver()
    task_process.die_with_parent()
    # Before the DAG file's top-level code runs: no platform credentials in the environment.
    task_process.prepare_template()
    hooks = _watch_fork_hooks()
    with contextlib.suppress(Exception):  # an optimisation only: the children work without it
        task_runner.warm_up_execution()
    try:
        dags = {dag.dag_id: dag for dag in load_dags_from_file(path)}
    except BaseException as exc:  # reported; the attempts then import the file themselves
        send_message(requests, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        os._exit(0)
    task_process.outlive_parent()
    task_process.flush_stdio()  # what the file printed must not reach every child's log
    with contextlib.suppress(Exception):  # an optimisation only, as the warm-up above
        task_runner.warm_up_dags(dags.values())
    os.register_at_fork = _REGISTER_AT_FORK
    fork = _fork_function(hooks)
    # Everything imported so far is shared with every child: keep the collector away from it
    # so that the children do not copy those pages (gc.freeze, as prefork servers do).
    gc.collect()
    gc.freeze()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    send_message(requests, {"ok": True})
    _serve(requests, events, wake_r, dags, fork)
    os._exit(0)


_REGISTER_AT_FORK = os.register_at_fork
# Modules whose at-fork handlers only re-create locks another thread might have held, or
# reseed (done by the child itself): nothing to do in a single-threaded process.
_PLAIN_FORK_HOOKS = frozenset({"logging", "concurrent.futures.thread", "random", "threading"})


def _watch_fork_hooks() -> list[str]:
    """Record which modules register at-fork handlers from now on (the DAG file's imports):
    a library may need its own in the children, e.g. to drop inherited connections."""
    registered: list[str] = []

    def register_at_fork(**handlers: Any) -> None:
        caller = sys._getframe(1).f_globals.get("__name__", "?")
        registered.append(str(caller))
        _REGISTER_AT_FORK(**handlers)

    os.register_at_fork = register_at_fork
    return registered


def _fork_function(hooks: list[str]) -> Callable[[], int]:
    """How this template forks: libc's fork() directly when it is the process's only thread
    and the DAG file brought no at-fork handlers of its own (both checked once, after the
    file's import: the only code of others the template runs), else os.fork().

    os.fork() runs Python's at-fork handlers in both processes (threading's, random's,
    logging's...). In a single-threaded process they have nothing to repair (no lock can be
    held by another thread), yet they touched ~150 pages per child, that many copy-on-write
    faults. What one of them does that still matters, a new seed for `random`, the child
    does itself (`_child`)."""
    if any(module not in _PLAIN_FORK_HOOKS for module in hooks):
        return os.fork
    try:
        single = len(os.listdir("/proc/self/task")) == 1
        libc_fork = ctypes.PyDLL(None, use_errno=True).fork  # with the GIL held, as os.fork
    except (OSError, AttributeError):
        return os.fork
    if not single:
        return os.fork
    libc_fork.restype = ctypes.c_int
    libc_fork.argtypes = []

    def fork() -> int:
        pid = int(libc_fork())
        if pid < 0:
            raise OSError(ctypes.get_errno(), "fork() failed")
        return pid

    return fork


def _serve(requests: socket.socket, events: socket.socket, wake_r: int,
           dags: dict[str, Any], fork: Callable[[], int]) -> None:
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
        batch: list[tuple[dict[str, Any], list[int]]] = []
        gone = False
        while len(batch) < MAX_BATCH:
            try:
                message = recv_message(requests, max_fds=2)
            except (OSError, ValueError):
                message = None
            if message is None:  # the worker is gone without retiring us
                gone = True
                break
            payload, fds = message
            if payload.get("retire"):  # stop forking; running attempts finish
                accepting = False
                break
            batch.append((payload, fds))
            if not select.select([requests], [], [], 0)[0]:
                break
        if gone:  # none of them runs
            for _, fds in batch:
                for fd in fds:
                    os.close(fd)
            _kill_all(children)
            return
        if batch:
            seq = _fork_batch(requests, events, wake_r, dags, batch, seq, children, fork)


def _fork_batch(requests: socket.socket, events: socket.socket, wake_r: int,
                dags: dict[str, Any], batch: list[tuple[dict[str, Any], list[int]]], seq: int,
                children: dict[int, int], fork: Callable[[], int]) -> int:
    """Fork the children of the requests that arrived together back to back, then answer
    each with its pid and a pidfd. Between forks the template touches next to nothing, so
    its own copy-on-write faults come once per batch, not once per attempt. A failure is
    answered as an error (the worker then starts the attempt another way), never a crash.
    Returns the last seq used."""
    forked: list[tuple[int, int, OSError | None]] = []
    for index, (payload, fds) in enumerate(batch):
        seq += 1
        try:
            pid = fork()
        except OSError as exc:
            forked.append((0, seq, exc))
            continue
        if pid == 0:
            for _, others in batch[:index] + batch[index + 1:]:
                for fd in others:
                    os.close(fd)
            requests.close()
            events.close()
            os.close(wake_r)
            _child(payload, fds, dags)
        children[pid] = seq
        forked.append((pid, seq, None))
    for (pid, child_seq, error), (_, fds) in zip(forked, batch, strict=True):
        try:
            if error is not None:
                raise error
            pidfd = os.pidfd_open(pid)
            try:
                send_message(requests, {"pid": pid, "seq": child_seq}, [pidfd])
            finally:
                os.close(pidfd)
        except OSError as exc:
            if pid > 0:  # forked, but the worker cannot be told: it must not run
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                send_message(requests, {"error": f"{type(exc).__name__}: {exc}",
                                        "seq": child_seq})
        finally:
            for fd in fds:
                os.close(fd)
    return seq


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
            send_message(events, {"seq": seq, "code": code})


def _child(payload: dict[str, Any], fds: list[int], dags: dict[str, Any]) -> None:
    """The attempt's process: forked from the template, never returns."""
    code = 1
    try:
        random.seed()  # what os.fork()'s handler would do: no two attempts share a sequence
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # SIGTERM, SIGINT: enter_task_process
        from services.worker import task_process, task_runner

        output_fd, control_fd = fds
        task_process.enter_task_process(output_fd)
        os.close(output_fd)
        code = task_runner.run_task(payload, socket.socket(fileno=control_fd), dags=dags)
        task_process.flush_stdio()
    finally:
        os._exit(code)
