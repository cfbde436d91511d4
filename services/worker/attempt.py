"""The per-delivery policy: parse, claim, run, publish the result, and only then ack.

Claim rejected (ABORTED / NOT_FOUND) → ack and drop; scheduler unavailable → nak(delay=1);
malformed → term. The task message is acked only after the TaskEvent's PubAck (invariant 3).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import nats.errors
import structlog
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from flow.bus import subjects
from flow.bus.jetstream import publish_event
from flow.errors import ConflictError, FlowError, NotFoundError, UnavailableError
from flow.log import mask_text
from flow.sdk.mapped import MAX_MAP_LENGTH
from flow.v1 import common_pb2, dag_run_service_pb2, dispatch_pb2, variable_service_pb2
from flow.v1 import task_execution_service_pb2 as pb
from services.worker.consumer import DeferredAcks
from services.worker.log_shipper import LogMux, LogShipper, supervisor_line
from services.worker.process_pool import ProcessLauncher
from services.worker.scheduler_client import RPC_TIMEOUT, ClaimBatcher, call_scheduler
from services.worker.supervisor import (
    CancelEvent,
    ExecutionApi,
    Outcome,
    RunsBackend,
    Supervisor,
)

log = structlog.get_logger(__name__)

RECENT_SECONDS = 300.0  # how long a running task waits out a scheduler restart
CALLBACK_TIME_LIMIT_SECONDS = 300.0  # a DAG callback is killed after this
_STATES = {"success": common_pb2.TASK_INSTANCE_STATE_SUCCESS,
           "failed": common_pb2.TASK_INSTANCE_STATE_FAILED,
           "skipped": common_pb2.TASK_INSTANCE_STATE_SKIPPED,
           "up_for_reschedule": common_pb2.TASK_INSTANCE_STATE_UP_FOR_RESCHEDULE}


class MalformedDispatch(ValueError):
    """A task message that is not a usable TaskDispatch."""


def parse_dispatch(data: bytes) -> dispatch_pb2.TaskDispatch:
    try:
        dispatch = dispatch_pb2.TaskDispatch.FromString(data)
    except DecodeError as exc:
        raise MalformedDispatch(f"not a TaskDispatch: {exc}") from exc
    key = dispatch.key
    missing = [name for name, value in (("key.dag_id", key.dag_id), ("key.run_id", key.run_id),
               ("key.task_id", key.task_id), ("key.try_number", key.try_number),
               ("fileloc", dispatch.fileloc)) if not value]
    if missing:
        raise MalformedDispatch(f"TaskDispatch lacks {', '.join(missing)}")
    return dispatch


class GrpcExecutionApi(ExecutionApi):
    """XCom (as JSON), variables and connections through TaskExecutionService, for one
    attempt."""

    def __init__(self, stub: Any, key: Any) -> None:
        self._stub = stub
        self._key = key

    async def push(self, key: str, value: Any) -> None:
        request = pb.PushXComRequest(
            key=self._key, xcom_key=key, value=json.dumps(value).encode(),
            content_type="application/json")
        await call_scheduler(self._stub.PushXCom, request)

    async def pull(self, task_id: str, map_index: int | None, key: str,
                   dag_id: str | None = None) -> tuple[bool, Any]:
        source = common_pb2.TaskInstanceKey(dag_id=dag_id or self._key.dag_id,
                                            run_id=self._key.run_id, task_id=task_id,
                                            map_index=-1 if map_index is None else map_index)
        reply = await call_scheduler(self._stub.PullXCom, pb.PullXComRequest(
            key=source, xcom_key=key, all_map_indexes=map_index is None))
        return (True, json.loads(reply.value)) if reply.found else (False, None)

    async def get_variable(self, key: str) -> str:
        reply = await call_scheduler(self._stub.GetTaskVariable, pb.GetTaskVariableRequest(
            key=self._key, variable_key=key))
        return str(reply.variable.value)

    async def set_variable(self, key: str, value: str, description: str) -> None:
        await call_scheduler(self._stub.SetTaskVariable, pb.SetTaskVariableRequest(
            key=self._key, variable=variable_service_pb2.Variable(
                key=key, value=value, description=description)))

    async def get_connection(self, conn_id: str) -> dict[str, Any]:
        reply = await call_scheduler(self._stub.GetTaskConnection, pb.GetTaskConnectionRequest(
            key=self._key, conn_id=conn_id))
        c = reply.connection
        return {"conn_type": c.conn_type, "description": c.description, "host": c.host,
                "schema": c.schema, "login": c.login, "password": c.password,
                "port": c.port or None, "extra": c.extra}


class GrpcRuns(RunsBackend):
    """DAG runs through TaskExecutionService.TriggerDagRun / GetDagRun."""

    def __init__(self, stub: Any) -> None:
        self._stub = stub

    @staticmethod
    def _run(run: Any) -> dict[str, Any]:
        return {"dag_id": run.dag_id, "run_id": run.run_id,
                "state": common_pb2.DagRunState.Name(run.state).removeprefix(
                    "DAG_RUN_STATE_").lower(),
                "logical_date": run.logical_date.ToDatetime(tzinfo=UTC).isoformat()
                if run.HasField("logical_date") else None}

    async def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any],
                      logical_date: str | None) -> dict[str, Any]:
        request = dag_run_service_pb2.TriggerDagRunRequest(dag_id=dag_id, run_id=run_id)
        request.conf.update(conf)
        if logical_date:
            request.logical_date.FromDatetime(datetime.fromisoformat(logical_date))
        reply = await call_scheduler(self._stub.TriggerDagRun, request)
        return self._run(reply.dag_run)

    async def get(self, dag_id: str, run_id: str) -> dict[str, Any]:
        reply = await call_scheduler(self._stub.GetDagRun, dag_run_service_pb2.GetDagRunRequest(
            dag_id=dag_id, run_id=run_id))
        return self._run(reply.dag_run)

    async def external_states(self, dag_id: str, logical_date: str,
                              task_ids: list[str]) -> dict[str, Any]:
        request = pb.GetExternalTaskStatesRequest(
            dag_id=dag_id, task_ids=task_ids)
        request.logical_date.FromDatetime(datetime.fromisoformat(logical_date))
        reply = await call_scheduler(self._stub.GetExternalTaskStates, request)

        def name(state: int) -> str:
            return str(common_pb2.TaskInstanceState.Name(state)).removeprefix(
                "TASK_INSTANCE_STATE_").lower()

        return {"found": reply.found, "run_id": reply.run_id,
                "state": common_pb2.DagRunState.Name(reply.run_state).removeprefix(
                    "DAG_RUN_STATE_").lower(),
                "task_states": {t: name(s) for t, s in reply.task_states.items()}}


@dataclass
class WorkerContext:
    """What every attempt shares: connections, identity and the running attempts."""

    js: JetStreamContext
    execution_stub: Any
    log_mux: LogMux
    launcher: ProcessLauncher
    worker_id: str
    ack_wait: float
    kill_grace: float
    max_map_length: int = MAX_MAP_LENGTH  # [core] max_map_length, checked in the task process
    hostname: str = field(default_factory=socket.gethostname)
    claims: ClaimBatcher = field(init=False)
    running: dict[str, CancelEvent] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)  # attempt -> its message's seq
    # Attempts whose result was published lately (key -> monotonic time): still listed in
    # heartbeats for a while, so the scheduler's zombie check never races a result it has
    # not applied yet.
    finished: dict[str, float] = field(default_factory=dict)
    abandon: asyncio.Event = field(default_factory=asyncio.Event)
    acks: DeferredAcks = field(default_factory=DeferredAcks)  # of messages whose result is stored

    def recently_finished(self, window: float = RECENT_SECONDS) -> list[str]:
        horizon = time.monotonic() - window
        for key in [k for k, at in self.finished.items() if at < horizon]:
            del self.finished[key]
        return list(self.finished)

    def release(self, attempt_key: str) -> None:
        """The attempt no longer runs here."""
        self.running.pop(attempt_key, None)
        self.sequences.pop(attempt_key, None)

    def __post_init__(self) -> None:
        self.claims = ClaimBatcher(self.execution_stub, self.worker_id, self.hostname)


def _stream_sequence(msg: Msg) -> int:
    """The message's sequence in its stream (a redelivery keeps it; a copy does not)."""
    try:
        return int(msg.metadata.sequence.stream)
    except (AttributeError, ValueError, TypeError, nats.errors.Error):
        return -1


async def _keep_in_progress(msg: Msg, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        with contextlib.suppress(nats.errors.Error):
            await msg.in_progress()


def _payload(dispatch: Any, claim: Any, ctx: WorkerContext) -> dict[str, Any]:
    key = dispatch.key
    logical = dispatch.logical_date if dispatch.HasField("logical_date") else (
        claim.dag_run.logical_date if claim.HasField("dag_run")
        and claim.dag_run.HasField("logical_date") else None)
    if dispatch.conf_json:
        conf = json.loads(dispatch.conf_json)
    elif claim.HasField("dag_run") and claim.dag_run.HasField("conf"):
        conf = json_format.MessageToDict(claim.dag_run.conf)
    else:
        conf = {}
    return {"dag_id": key.dag_id, "run_id": key.run_id, "task_id": key.task_id,
            "map_index": key.map_index, "try_number": key.try_number,
            "max_tries": dispatch.max_tries, "fileloc": dispatch.fileloc,
            "logical_date": logical.ToDatetime(tzinfo=UTC).isoformat() if logical else None,
            "conf": conf if isinstance(conf, dict) else {}, "hostname": ctx.hostname,
            "worker_id": ctx.worker_id, "max_map_length": ctx.max_map_length,
            **_run_dates(claim), **_ti_start(claim),
            **_dag_spec(claim)}


def _ti_start(claim: Any) -> dict[str, Any]:
    """When the try started: for a sensor poking again after a reschedule, its first poke."""
    if claim.HasField("task_instance") and claim.task_instance.HasField("start_date"):
        return {"ti_start_date": claim.task_instance.start_date.ToDatetime(
            tzinfo=UTC).isoformat()}
    return {}


def _dag_spec(claim: Any) -> dict[str, Any]:
    """A DAG submitted as data: the task's spec from the claim answer, from which the task
    process builds the task (flow.sdk.dagspec) instead of importing a file."""
    if not claim.HasField("dag_spec"):
        return {}
    return {"dag_spec": json_format.MessageToDict(claim.dag_spec,
                                                  preserving_proto_field_name=True)}


def _run_dates(claim: Any) -> dict[str, Any]:
    """The run's data interval and type from the claim answer, for the task's context."""
    if not claim.HasField("dag_run"):
        return {}
    run = claim.dag_run
    out: dict[str, Any] = {"run_type": common_pb2.DagRunType.Name(run.run_type).removeprefix(
        "DAG_RUN_TYPE_").lower()}
    for name in ("data_interval_start", "data_interval_end"):
        if run.HasField(name):
            out[name] = getattr(run, name).ToDatetime(tzinfo=UTC).isoformat()
    return out


def _event(dispatch: Any, outcome: Outcome, worker_id: str) -> dispatch_pb2.TaskEvent:
    event = dispatch_pb2.TaskEvent(key=dispatch.key, state=_STATES[outcome.state],
                                   worker_id=worker_id, xcom_keys=outcome.xcom_keys,
                                   exit_code=outcome.exit_code,
                                   skip_task_ids=outcome.skip_task_ids,
                                   rendered_fields_json=outcome.rendered_fields_json)
    event.start_date.FromDatetime(outcome.start_date)
    event.end_date.FromDatetime(outcome.end_date)
    if outcome.reschedule_date is not None:
        event.reschedule_date.FromDatetime(outcome.reschedule_date)
    if outcome.error:
        # The error text comes from user code: mask the secrets the attempt read, as its log
        # is masked, before it reaches the scheduler's log and the DB.
        event.error.CopyFrom(dispatch_pb2.TaskError(
            type=str(outcome.error.get("type", "")),
            message=mask_text(str(outcome.error.get("message", ""))),
            traceback=mask_text(str(outcome.error.get("traceback", ""))),
            non_retryable=bool(outcome.error.get("non_retryable", False))))
    return event


def on_cancel_request(ctx: WorkerContext, attempt_key: str) -> bool:
    """The scheduler asks to stop an attempt (its run timed out, or the task was marked
    success/failed); False if it is not running here (finished meanwhile)."""
    cancel = ctx.running.get(attempt_key)
    if cancel is None:
        return False
    log.info("attempt_cancel_requested", attempt=attempt_key)
    cancel.cancel("the scheduler stopped it: its run timed out or the task was marked")
    return True


class AttemptRunner:
    """Handles one delivery at a time per call; many calls run concurrently."""

    def __init__(self, ctx: WorkerContext) -> None:
        self._ctx = ctx

    async def handle(self, msg: Msg, queue: str) -> None:
        try:
            dispatch = parse_dispatch(msg.data)
        except MalformedDispatch as exc:
            log.error("dispatch_malformed", queue=queue, error=str(exc))
            await msg.term()
            return
        k = dispatch.key
        with structlog.contextvars.bound_contextvars(
                dag_id=k.dag_id, run_id=k.run_id, task_id=k.task_id, map_index=k.map_index,
                try_number=k.try_number):
            keepalive = asyncio.create_task(_keep_in_progress(msg, self._ctx.ack_wait / 3))
            try:
                if dispatch.HasField("dag_callback"):
                    await self._handle_dag_callback(msg, dispatch)
                else:
                    await self._handle(msg, dispatch, queue)
            finally:
                keepalive.cancel()

    async def _handle_dag_callback(self, msg: Msg, dispatch: Any) -> None:
        """Run a DAG's on_success/on_failure_callback in a task process of its own, its output
        logged under the dispatch's key; nothing to claim and no result to publish. A
        redelivery may run it again: callbacks are at-least-once."""
        ctx = self._ctx
        request = dispatch.dag_callback
        shipper = LogShipper(ctx.log_mux, dispatch.key)
        await shipper.write(supervisor_line(
            f"Running DAG callback {request.callback} (reason {request.reason}) on worker "
            f"{ctx.worker_id}"))
        payload = {**_payload(dispatch, pb.ClaimAttemptResponse(), ctx),
                   "dag_callback": request.callback, "reason": request.reason}
        supervisor = Supervisor(ctx.launcher, shipper,
                                GrpcExecutionApi(ctx.execution_stub, dispatch.key),
                                kill_grace=ctx.kill_grace, runs=GrpcRuns(ctx.execution_stub))
        try:
            outcome = await supervisor.run(payload, cancel=asyncio.Event(),
                                           time_limit=CALLBACK_TIME_LIMIT_SECONDS)
        except OSError as exc:
            log.error("dag_callback_start_failed", error=str(exc))
            await shipper.write(supervisor_line(f"Could not start the callback: {exc}", "ERROR"))
        else:
            await shipper.write(supervisor_line(
                f"DAG callback {request.callback} ended with state {outcome.state}"))
            log.info("dag_callback_finished", callback=request.callback, state=outcome.state)
        await shipper.close()
        await msg.ack()

    async def _handle(self, msg: Msg, dispatch: Any, queue: str) -> None:
        ctx = self._ctx
        received = time.monotonic()
        key = dispatch.key
        attempt_key = subjects.attempt_key(key.dag_id, key.run_id, key.task_id, key.map_index,
                                           key.try_number)
        if attempt_key in ctx.finished:  # its result is stored; only the ack went missing
            log.info("attempt_duplicate_dropped", reason="its result is stored already")
            await msg.ack()
            return
        if attempt_key in ctx.running:
            if ctx.sequences.get(attempt_key) == _stream_sequence(msg):
                # a redelivery of the message being run here: its first handler settles it
                log.info("attempt_redelivered_while_running")
                return
            log.info("attempt_duplicate_dropped", reason="the attempt is running on this worker")
            await msg.ack()
            return
        cancel = ctx.running[attempt_key] = CancelEvent()
        ctx.sequences[attempt_key] = _stream_sequence(msg)
        claim = None
        try:
            claim = await self._claim(msg, dispatch)
        finally:
            if claim is None:  # refused (the message is settled) or interrupted
                ctx.release(attempt_key)
        if claim is None:
            return
        log.info("attempt_claimed", queue=queue)
        started = time.monotonic()
        stored = False
        try:
            outcome = await self._run(dispatch, claim, cancel)
            ran = time.monotonic()
            stored = await self._publish(_event(dispatch, outcome, ctx.worker_id), queue)
            if stored:
                ctx.acks.ack(msg)
        finally:
            ctx.release(attempt_key)
            # listed in heartbeats while the scheduler may not have applied it; a sensor's
            # reschedule is not the try's end: the same try comes back for its next poke.
            if stored and outcome.state != "up_for_reschedule":
                ctx.finished[attempt_key] = time.monotonic()
        error = outcome.error or {}
        log.info("attempt_finished", state=outcome.state, duration=round(
            time.monotonic() - started, 3), try_number=key.try_number, worker=ctx.worker_id,
            queue=queue, exit_code=outcome.exit_code, error_type=error.get("type"),
            spawn_ms=round(outcome.spawn_seconds * 1e3, 2), result_stored=stored,
            claim_ms=round((started - received) * 1e3, 2),
            run_ms=round((ran - started) * 1e3, 2),
            publish_ms=round((time.monotonic() - ran) * 1e3, 2))

    async def _claim(self, msg: Msg, dispatch: Any) -> Any:
        """The claim's answer, or None when it was refused (the message is then acked or
        nak'ed here)."""
        try:
            # While the scheduler restarts, wait here (the message is kept in progress)
            # rather than nak: a nak spends one of the message's few deliveries.
            return await self._ctx.claims.claim(dispatch.key)
        except (ConflictError, NotFoundError) as exc:
            log.info("attempt_claim_rejected", reason=exc.reason, error=exc.message)
            await msg.ack()
        except UnavailableError as exc:
            log.warning("attempt_claim_unavailable", error=exc.message)
            await msg.nak(delay=1)
        except FlowError as exc:
            log.error("attempt_claim_failed", reason=exc.reason, error=exc.message)
            await msg.nak(delay=5)
        return None

    async def _run(self, dispatch: Any, claim: Any, cancel: CancelEvent) -> Outcome:
        ctx = self._ctx
        key = dispatch.key
        shipper = LogShipper(ctx.log_mux, key)
        tries = f" of {dispatch.max_tries}" if dispatch.max_tries else ""
        await shipper.write(supervisor_line(
            f"Starting attempt {key.try_number}{tries} on worker {ctx.worker_id}"))
        supervisor = Supervisor(ctx.launcher, shipper, GrpcExecutionApi(ctx.execution_stub, key),
                                kill_grace=ctx.kill_grace, runs=GrpcRuns(ctx.execution_stub))
        try:
            outcome = await supervisor.run(
                _payload(dispatch, claim, ctx), cancel=cancel,
                time_limit=dispatch.execution_timeout_seconds or None)
        except OSError as exc:  # could not start the task process
            log.error("task_process_start_failed", error=str(exc))
            now = datetime.now(UTC)
            outcome = Outcome("failed", -1, now, now, {
                "type": "WorkerError", "message": f"Could not start the task process: {exc}",
                "traceback": "", "non_retryable": False})
        if outcome.error and outcome.error.get("message"):
            await shipper.write(supervisor_line(
                f"{outcome.error.get('type')}: {outcome.error['message']}", "ERROR"))
        await shipper.write(supervisor_line(
            f"Task exited with code {outcome.exit_code}, state {outcome.state}"))
        if outcome.state == "up_for_reschedule":
            # The try goes on at its next poke, which appends to the same log: the log ends
            # (final, read-only) only with the try.
            await shipper.drain()
        else:
            await shipper.close()
        return outcome

    async def _publish(self, event: dispatch_pb2.TaskEvent, queue: str) -> bool:
        """Publish until JetStream stores it (PubAck); False if the worker gives up first."""
        delay = 0.2
        while True:
            try:
                async with asyncio.timeout(RPC_TIMEOUT):
                    await publish_event(self._ctx.js, queue, event)
                return True
            except (nats.errors.Error, TimeoutError) as exc:
                log.warning("result_publish_failed", error=repr(exc), retry_in=delay)
            if self._ctx.abandon.is_set():
                log.error("result_not_stored", state=event.state)
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ctx.abandon.wait(), delay)
            delay = min(delay * 2, 2.0)
