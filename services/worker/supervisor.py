"""Run one attempt in a task process and supervise it until it ends.

The supervisor ships the process's stdout/stderr, serves its control frames (XCom, masks,
`done`), enforces the execution timeout and cancellation by killing the whole process group
(SIGTERM, then SIGKILL after a grace period), and turns how the process ended into an outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import structlog

from flow.errors import FlowError, NotFoundError
from flow.log import (
    is_sensitive_key,
    mask_data,
    register_secret,
    register_sensitive_fields,
    register_sensitive_text,
)
from services.worker.log_shipper import MAX_CHUNK, LogShipper, supervisor_line
from services.worker.process_pool import ProcessLauncher, TaskProcess
from services.worker.protocol import Frame, ProtocolError, read_frame, write_frame

log = structlog.get_logger(__name__)

PIPE_DRAIN_SECONDS = 2.0
# After the process exits, its last frames (an XCom push, then `done`) are still served; an
# XCom push waits out a scheduler restart for up to a minute (scheduler_client.RETRY_WINDOW).
CONTROL_DRAIN_SECONDS = 75.0


class ExecutionApi:
    """What the supervisor asks the scheduler for a running task (see attempt.py): XCom,
    variables, connections, rendered template fields. NotFoundError means "not found"."""

    async def push(self, key: str, value: Any) -> None:
        raise NotImplementedError

    async def pull(self, task_id: str, map_index: int | None, key: str,
                   dag_id: str | None = None) -> tuple[bool, Any]:
        """(found, value); map_index None: every instance of a mapped task, as a list."""
        raise NotImplementedError

    async def get_variable(self, key: str) -> str:
        raise NotImplementedError

    async def set_variable(self, key: str, value: str, description: str) -> None:
        raise NotImplementedError

    async def get_connection(self, conn_id: str) -> dict[str, Any]:
        raise NotImplementedError



class CancelEvent(asyncio.Event):
    """Set to stop a running attempt; `reason` says why, in its log and error."""

    def __init__(self) -> None:
        super().__init__()
        self.reason = "the worker is shutting down"

    def cancel(self, reason: str) -> None:
        self.reason = reason
        self.set()


class RunsBackend:
    """What the supervisor needs from the scheduler for TriggerDagRunOperator (attempt.py).

    Both return the run as {"dag_id", "run_id", "state", "logical_date"}."""

    async def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any],
                      logical_date: str | None) -> dict[str, Any]:
        raise NotImplementedError

    async def get(self, dag_id: str, run_id: str) -> dict[str, Any]:
        raise NotImplementedError

    async def external_states(self, dag_id: str, logical_date: str,
                              task_ids: list[str]) -> dict[str, Any]:
        """{"found", "run_id", "state", "task_states": {task_id: state}} (ExternalTaskSensor)."""
        raise NotImplementedError


@dataclass
class Outcome:
    """How an attempt ended."""

    state: str  # "success" | "failed" | "skipped" | "up_for_reschedule"
    exit_code: int
    start_date: datetime
    end_date: datetime
    error: dict[str, Any] | None = None
    xcom_keys: list[str] = field(default_factory=list)
    spawn_seconds: float = 0.0
    skip_task_ids: list[str] = field(default_factory=list)
    rendered_fields_json: str = ""
    reschedule_date: datetime | None = None  # with up_for_reschedule: the next poke


def _reschedule_date(raw: Any) -> datetime | None:
    """The next poke time a task process reported (ISO 8601, with offset); None if unusable."""
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by signal {signal.Signals(-code).name}"
    return f"exit code {code}"


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@dataclass
class _State:
    done: Frame | None = None
    xcom_keys: list[str] = field(default_factory=list)
    xcom_error: dict[str, Any] | None = None
    rendered_fields_json: str = ""


class Supervisor:
    """Supervises one task process; `run()` returns its Outcome."""

    def __init__(self, launcher: ProcessLauncher, shipper: LogShipper, xcom: ExecutionApi, *,
                 kill_grace: float, on_started: Callable[[int], Awaitable[None]] | None = None,
                 runs: RunsBackend | None = None) -> None:
        self._launcher = launcher
        self._shipper = shipper
        self._xcom = xcom
        self._runs = runs
        self._cancel_reason = ""
        self._kill_grace = kill_grace
        self._on_started = on_started
        self._state = _State()

    async def run(self, payload: dict[str, Any], *, time_limit: float | None,
                  cancel: asyncio.Event) -> Outcome:
        """Start the task process, supervise it, and return how it ended."""
        timeout = time_limit
        loop = asyncio.get_running_loop()
        proc = await self._launcher.start(payload)
        start = datetime.now(UTC)
        log.debug("task_process_started", pid=proc.pid, spawn_ms=round(proc.spawn_seconds * 1e3, 2))
        exited: asyncio.Future[None] = loop.create_future()

        def on_exit() -> None:
            if not exited.done():
                exited.set_result(None)

        loop.add_reader(proc.sentinel, on_exit)
        pumps = [asyncio.create_task(self._pump(proc.output_fd), name="pump_output")]
        control = asyncio.create_task(self._serve_control(proc), name="control")
        killed_for: str | None = None
        try:
            cancelled: asyncio.Future[Any] = asyncio.ensure_future(cancel.wait())
            try:
                done, _ = await asyncio.wait([exited, cancelled], timeout=timeout,
                                             return_when=asyncio.FIRST_COMPLETED)
            finally:
                cancelled.cancel()
            if exited not in done:
                killed_for = "timeout" if not done else "cancelled"
                self._cancel_reason = getattr(cancel, "reason", "the worker is shutting down")
                await self._terminate(proc, exited, killed_for, timeout)
        finally:
            loop.remove_reader(proc.sentinel)
        exit_code = await proc.exit_code()
        _kill_group(proc.pid, signal.SIGKILL)  # leftovers of the task's process group
        end = datetime.now(UTC)
        await self._finish_io(pumps, control)
        proc.close()
        outcome = self._outcome(exit_code, start, end, killed_for, timeout)
        outcome.spawn_seconds = proc.spawn_seconds
        outcome.rendered_fields_json = self._state.rendered_fields_json
        return outcome

    async def _terminate(self, proc: TaskProcess, exited: asyncio.Future[None], why: str,
                         time_limit: float | None) -> None:
        timeout = time_limit
        text = (f"Task timed out after {timeout:g} s; killing its process group"
                if why == "timeout" else
                f"Attempt cancelled ({self._cancel_reason}); killing its process group")
        await self._shipper.write(supervisor_line(text, "ERROR"))
        log.warning("task_process_killing", reason=why, pid=proc.pid)
        _kill_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(exited), self._kill_grace)
        except TimeoutError:
            _kill_group(proc.pid, signal.SIGKILL)
            await exited

    async def _finish_io(self, pumps: list[asyncio.Task[None]], control: asyncio.Task[None],
                         ) -> None:
        _, pending = await asyncio.wait(pumps, timeout=PIPE_DRAIN_SECONDS)
        for task in pending:  # a daemonized grandchild still holds a pipe open
            task.cancel()
        if not (await asyncio.wait([control], timeout=CONTROL_DRAIN_SECONDS))[0]:
            control.cancel()
        await asyncio.gather(*pumps, control, return_exceptions=True)

    def _outcome(self, exit_code: int, start: datetime, end: datetime, killed_for: str | None,
                 timeout: float | None) -> Outcome:
        state = self._state
        if killed_for == "timeout":
            error = {"type": "TaskTimeout", "message": f"Task exceeded its execution_timeout "
                     f"of {timeout:g} s and was killed", "traceback": "", "non_retryable": False}
            return Outcome("failed", exit_code, start, end, error, state.xcom_keys)
        if killed_for == "cancelled":
            error = {"type": "AttemptCancelled", "message": "The attempt was killed: "
                     f"{self._cancel_reason}", "traceback": "", "non_retryable": False}
            return Outcome("failed", exit_code, start, end, error, state.xcom_keys)
        if state.done is None:
            error = {"type": "TaskProcessDied", "message": "Task process ended without reporting "
                     f"a result ({_describe_exit(exit_code)})", "traceback": "",
                     "non_retryable": False}
            return Outcome("failed", exit_code, start, end, error, state.xcom_keys)
        if state.xcom_error is not None and state.done.get("state") == "success":
            return Outcome("failed", exit_code, start, end, state.xcom_error, state.xcom_keys)
        done_state = str(state.done.get("state"))
        if done_state == "up_for_reschedule":
            when = _reschedule_date(state.done.get("reschedule_date"))
            if when is not None:
                return Outcome(done_state, exit_code, start, end, None, state.xcom_keys,
                               reschedule_date=when)
        if done_state not in ("success", "failed", "skipped"):
            done_state = "failed"
        skips = state.done.get("skip_task_ids") if done_state == "success" else None
        return Outcome(done_state, exit_code, start, end, state.done.get("error"),
                       state.xcom_keys,
                       skip_task_ids=[str(t) for t in skips] if isinstance(skips, list) else [])

    async def _pump(self, fd: int) -> None:
        """Copy one pipe to the shipper, whole lines at a time where possible."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_CHUNK, loop=loop)
        pipe = os.fdopen(fd, "rb", buffering=0)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe)
        pending = b""
        try:
            while data := await reader.read(MAX_CHUNK):
                buf = pending + data
                cut = buf.rfind(b"\n") + 1
                if cut == 0 and len(buf) < MAX_CHUNK:
                    pending = buf
                    continue
                if cut == 0:
                    cut = len(buf)
                pending = buf[cut:]
                await self._shipper.write(buf[:cut])
            if pending:
                await self._shipper.write(pending)
        finally:
            transport.close()

    async def _serve_control(self, proc: TaskProcess) -> None:
        reader, writer = await asyncio.open_unix_connection(sock=proc.control)
        try:
            while True:
                try:
                    frame = await read_frame(reader)
                except ProtocolError as exc:
                    log.warning("control_protocol_error", error=str(exc))
                    return
                if frame is None:
                    return
                await self._handle(frame, writer)
        finally:
            writer.close()

    async def _handle(self, frame: Frame, writer: asyncio.StreamWriter) -> None:
        op = frame.get("op")
        if op == "done":
            self._state.done = frame
        elif op == "mask":
            register_secret(str(frame.get("value", "")))
        elif op == "xcom_push":
            key = str(frame.get("key"))
            try:
                await self._xcom.push(key, frame.get("value"))
                self._state.xcom_keys.append(key)
            except (FlowError, TypeError, ValueError) as exc:  # fails the attempt
                log.warning("xcom_push_failed", xcom_key=key, error=str(exc))
                self._state.xcom_error = {"type": "XComPushError", "message": f"Could not store "
                                          f"XCom '{key}': {exc}", "traceback": "",
                                          "non_retryable": False}
        elif op == "rendered_fields":  # sent with the result; masked with what the task read
            self._state.rendered_fields_json = json.dumps(mask_data(frame.get("fields") or {}))
        elif op in _REQUESTS:
            reply: Frame = {"id": frame.get("id"), "found": False}
            try:
                reply.update(await getattr(self, _REQUESTS[op])(frame))
            except NotFoundError:
                pass
            except (FlowError, TypeError, ValueError) as exc:  # raised in the task
                reply["error"] = f"Could not {op.replace('_', ' ')}: {exc}"
            with contextlib.suppress(ConnectionError):
                await write_frame(writer, reply)
        elif op in ("trigger_dag_run", "get_dag_run", "external_task_states"):
            await self._serve_runs(frame, writer)
        else:
            log.warning("control_unknown_op", op=op)

    async def _serve_runs(self, frame: Frame, writer: asyncio.StreamWriter) -> None:
        """Answer a task's request to trigger or read a DAG run, through the scheduler."""
        reply: Frame = {"id": frame.get("id")}
        try:
            if self._runs is None:
                raise FlowError("This worker cannot reach the scheduler's run API.")
            if frame.get("op") == "trigger_dag_run":
                conf = frame.get("conf")
                reply["run"] = await self._runs.trigger(
                    str(frame.get("dag_id")), str(frame.get("run_id") or ""),
                    conf if isinstance(conf, dict) else {},
                    str(frame["logical_date"]) if frame.get("logical_date") else None)
            elif frame.get("op") == "external_task_states":
                task_ids = frame.get("task_ids")
                reply["run"] = await self._runs.external_states(
                    str(frame.get("dag_id")), str(frame.get("logical_date")),
                    [str(t) for t in task_ids] if isinstance(task_ids, list) else [])
            else:
                reply["run"] = await self._runs.get(str(frame.get("dag_id")),
                                                    str(frame.get("run_id")))
        except FlowError as exc:
            reply.update(error=exc.message, reason=exc.reason)
        with contextlib.suppress(ConnectionError):
            await write_frame(writer, reply)
    async def _xcom_pull(self, frame: Frame) -> Frame:
        found, value = await self._xcom.pull(
            str(frame.get("task_id")),
            None if frame.get("map_index", -1) is None else int(frame.get("map_index", -1)),
            str(frame.get("key")),
            str(frame["dag_id"]) if frame.get("dag_id") else None)
        return {"found": found, "value": value}

    async def _variable_get(self, frame: Frame) -> Frame:
        key = str(frame.get("key"))
        value = await self._xcom.get_variable(key)
        if is_sensitive_key(key):  # registered before the task can print it
            register_sensitive_text(value)
        return {"found": True, "value": value}

    async def _variable_set(self, frame: Frame) -> Frame:
        key, value = str(frame.get("key")), str(frame.get("value"))
        if is_sensitive_key(key):
            register_sensitive_text(value)
        await self._xcom.set_variable(key, value, str(frame.get("description") or ""))
        return {"found": True}

    async def _connection_get(self, frame: Frame) -> Frame:
        connection = await self._xcom.get_connection(str(frame.get("conn_id")))
        password = str(connection.get("password") or "")
        if password:
            register_secret(password)
            register_secret(quote(password, safe=""))
        register_sensitive_fields(str(connection.get("extra") or ""))
        return {"found": True, "connection": connection}


_REQUESTS = {"xcom_pull": "_xcom_pull", "variable_get": "_variable_get",
             "variable_set": "_variable_set", "connection_get": "_connection_get"}
