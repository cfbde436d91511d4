"""The worker's calls to the scheduler's TaskExecutionService: retried while the scheduler
restarts, and claims batched (the deliveries of one fetch are claimed in one call).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import structlog

from flow.errors import FlowError, InternalError, error_for_code
from flow.grpcutil import error_from_rpc
from flow.v1 import task_execution_service_pb2

log = structlog.get_logger(__name__)

RPC_TIMEOUT = 10.0
RETRY_WINDOW = 60.0


async def call_scheduler(method: Any, request: Any, *, window: float = RETRY_WINDOW) -> Any:
    """Call a TaskExecutionService method, retrying while the scheduler is unreachable.

    A scheduler restart takes a few seconds; the running task should not fail because of it.
    The calls are idempotent (a pushed XCom replaces itself). Other errors become FlowErrors.
    """
    deadline = time.monotonic() + window
    delay = 0.1
    while True:
        try:
            return await method(request, timeout=RPC_TIMEOUT)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() + delay > deadline:
                raise error_from_rpc(exc) from exc
            log.info("scheduler_unavailable_retrying", method=getattr(method, "_method", ""),
                     delay=delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


class ClaimBatcher:
    """Claims attempts for one worker; the claims made in one turn of the event loop (the
    handlers of one fetch start together) go to the scheduler as one ClaimAttempts call."""

    def __init__(self, stub: Any, worker_id: str, hostname: str) -> None:
        self._stub = stub
        self._worker_id = worker_id
        self._hostname = hostname
        self._pending: list[tuple[Any, asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def claim(self, key: Any) -> Any:
        """The ClaimAttemptResponse for `key`, or the FlowError ClaimAttempt would raise."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._send_pending)
        self._pending.append((task_execution_service_pb2.ClaimAttemptRequest(
            key=key, worker_id=self._worker_id, hostname=self._hostname), future))
        return await future

    def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.create_task(self._send(batch), name="claim_batch")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> None:
        request = task_execution_service_pb2.ClaimAttemptsRequest(
            claims=[claim for claim, _ in batch])
        try:
            reply = await call_scheduler(self._stub.ClaimAttempts, request)
        except FlowError as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error_for_code(int(exc.code), exc.message, exc.reason,
                                                        **exc.metadata))
            return
        except BaseException as exc:  # e.g. cancelled: no claim may wait forever
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            raise
        for (_, future), outcome in zip(batch, reply.outcomes, strict=False):
            if future.done():
                continue
            if outcome.HasField("error"):
                future.set_exception(error_for_code(
                    outcome.error.code, outcome.error.message, outcome.error.reason))
            else:
                future.set_result(outcome.claim)
        for _, future in batch[len(reply.outcomes):]:
            if not future.done():
                future.set_exception(InternalError(
                    "The scheduler answered fewer claims than asked.", reason="CLAIM_ANSWER_SHORT"))
