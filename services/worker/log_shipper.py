"""Ship attempts' output to the logserver: one `LogService.WriteLogBatches` stream per worker.

Every attempt's `LogShipper` queues its chunks on the worker's `LogMux`, which writes them,
in order, on one long-lived bidirectional stream (opening a stream per attempt cost more
CPU than a no-op task itself), all that queued up meanwhile as one stream message. The
logserver answers each attempt's final message once the log is durable;
`LogShipper.close()` waits for that answer, so a task's result is published only after its
log is stored.

Writers await space in a small bounded queue, so a task printing faster than the logserver
stores makes the supervisor read its pipes more slowly (backpressure), and memory stays
bounded. While the logserver is unreachable the output is dropped with a warning and the
tasks go on; the mux tries a new stream after a short pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any

import grpc
import structlog

from flow.log import mask_text
from flow.v1 import log_service_pb2

log = structlog.get_logger(__name__)

MAX_CHUNK = 64 * 1024
QUEUE_MESSAGES = 64
HOLD_SECONDS = 0.1  # output waits this long at most for more to ship with (LogShipper)
RETRY_PAUSE = 1.0  # after a failed stream, output is dropped for this long before a retry
_BROKEN = object()  # queued by the ack reader when the stream ended under the writer

AckKey = tuple[str, str, str, int, int]


def supervisor_line(message: str, level: str = "INFO") -> bytes:
    """A line the supervisor adds to the task log, in Airflow's format."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    return f"[{now}] {{supervisor}} {level} - {message}\n".encode()


def _mask(chunk: bytes) -> bytes:
    text = chunk.decode("utf-8", "surrogateescape")
    masked = mask_text(text)
    return chunk if masked is text else masked.encode("utf-8", "surrogateescape")


def ack_key(key: Any) -> AckKey:
    return (key.dag_id, key.run_id, key.task_id, key.map_index, key.try_number)


def coalesce(requests: list[Any]) -> list[Any]:
    """Merge adjacent messages of one attempt (up to MAX_CHUNK of content), so a burst of
    small writes and its final message leave as one message."""
    out: list[Any] = []
    for request in requests:
        last = out[-1] if out else None
        if (last is not None and not last.final and ack_key(last.key) == ack_key(request.key)
                and len(last.content) + len(request.content) <= MAX_CHUNK):
            out[-1] = log_service_pb2.WriteLogsRequest(
                key=last.key, content=last.content + request.content, final=request.final)
        else:
            out.append(request)
    return out


class LogMux:
    """The worker's one WriteLogBatches stream, shared by all its attempts."""

    def __init__(self, stub: Any, *, queue_size: int = QUEUE_MESSAGES,
                 retry_pause: float = RETRY_PAUSE) -> None:
        self._stub = stub
        self._queue: asyncio.Queue[Any] = asyncio.Queue(queue_size)
        self._acks: dict[AckKey, asyncio.Future[str]] = {}
        self._retry_pause = retry_pause
        self._down_until = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="log_mux")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._fail_pending("the worker is stopping")

    async def send(self, request: Any) -> None:
        """Queue one message; waits while the queue is full (backpressure)."""
        self.start()
        await self._queue.put(request)

    def expect_ack(self, key: Any) -> asyncio.Future[str]:
        """A future for the answer to `key`'s final message: "" once durable, else why not."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._acks[ack_key(key)] = future
        return future

    def forget(self, key: Any) -> None:
        self._acks.pop(ack_key(key), None)

    def _resolve(self, key: AckKey, error: str) -> None:
        future = self._acks.pop(key, None)
        if future is not None and not future.done():
            future.set_result(error)

    def _fail_pending(self, error: str) -> None:
        for key in list(self._acks):
            self._resolve(key, error)

    def _drop(self, request: Any, why: str) -> None:
        if request is not _BROKEN and request.final:
            self._resolve(ack_key(request.key), why)

    def _take_ready(self, first: Any) -> list[Any]:
        batch = [first]
        while len(batch) < QUEUE_MESSAGES and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is _BROKEN:
                continue
            if time.monotonic() < self._down_until:
                self._drop(first, "the logserver is unreachable")
                continue
            call = self._stub.WriteLogBatches()
            reader = asyncio.create_task(self._read_acks(call), name="log_mux_acks")
            try:
                await self._write_until_broken(call, first)
            except Exception as exc:  # the mux must outlive any one stream
                log.warning("log_stream_failed", error=repr(exc))
            finally:
                call.cancel()
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            self._fail_pending("the log stream to the logserver broke")
            self._down_until = time.monotonic() + self._retry_pause

    async def _write_until_broken(self, call: Any, first: Any) -> None:
        item = first
        while True:
            # One turn of the loop first: what the other attempts queue in it joins this batch
            # (under load a batch then carries several attempts' messages, at no latency).
            await asyncio.sleep(0)
            batch = self._take_ready(item)
            if any(request is _BROKEN for request in batch):
                for request in batch:
                    self._drop(request, "the log stream to the logserver broke")
                return
            await call.write(log_service_pb2.WriteLogBatchesRequest(entries=coalesce(batch)))
            item = await self._queue.get()

    async def _read_acks(self, call: Any) -> None:
        try:
            while True:
                ack = await call.read()
                if ack is grpc.aio.EOF:
                    break
                if ack.error:
                    log.warning("log_refused", error=ack.error, task_id=ack.key.task_id)
                self._resolve(ack_key(ack.key), ack.error)
        except grpc.aio.AioRpcError as exc:
            log.warning("log_stream_failed", code=exc.code().name, error=exc.details())
        self._fail_pending("the log stream to the logserver broke")
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_BROKEN)  # wake the writer if it waits for output


class LogShipper:
    """One attempt's log on the worker's mux: `write()` chunks, then `close()` once.

    Output is held for up to `hold` seconds (or until MAX_CHUNK of it is waiting) before it
    ships, so what a short attempt writes (the supervisor's first line, the task's output,
    its exit line) leaves as one message together with the final mark, and a chatty task
    sends a message per `hold` rather than per line. Followers of a live log see its lines
    at most `hold` seconds late."""

    def __init__(self, mux: LogMux, key: Any, *, timeout: float = 30.0,
                 hold: float = HOLD_SECONDS) -> None:
        self._mux = mux
        self._key = key
        self._timeout = timeout
        self._hold = hold
        self._closed = False
        self._held = bytearray()
        self._timer: asyncio.TimerHandle | None = None
        self._released: asyncio.Task[None] | None = None  # a timer's send, maybe still queued

    async def write(self, data: bytes) -> None:
        """Queue output to ship; waits while the mux's queue is full (backpressure)."""
        if not data or self._closed:
            return
        self._held += data
        while len(self._held) >= MAX_CHUNK:
            chunk = bytes(self._held[:MAX_CHUNK])
            del self._held[:MAX_CHUNK]
            await self._send(chunk)
        if self._held and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._hold, self._release)

    def _release(self) -> None:
        """The hold is over: ship what is held without waiting for more."""
        self._timer = None
        if self._held:
            chunk = bytes(self._held)
            self._held.clear()
            self._released = asyncio.create_task(self._send_after(self._released, chunk))

    async def _send_after(self, previous: asyncio.Task[None] | None, chunk: bytes) -> None:
        if previous is not None:
            await previous
        await self._mux.send(self._request(chunk))

    async def _wait_released(self) -> None:
        """What a timer released is queued (it may have waited for queue space)."""
        released, self._released = self._released, None
        if released is not None:
            await released

    async def _send(self, content: bytes, *, final: bool = False) -> None:
        """Send in order: after what a timer released."""
        await self._wait_released()
        await self._mux.send(self._request(content, final=final))

    def _request(self, content: bytes, *, final: bool = False) -> Any:
        return log_service_pb2.WriteLogsRequest(key=self._key, content=_mask(content),
                                                final=final)

    def _take_held(self) -> bytes:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        held = bytes(self._held)
        self._held.clear()
        return held

    async def drain(self) -> None:
        """Stop writing without ending the log (a sensor's poke: the try goes on); what was
        written is on its way, not yet known durable."""
        if self._closed:
            return
        self._closed = True
        if held := self._take_held():
            await self._send(held)
        else:
            await self._wait_released()

    async def close(self) -> None:
        """Send what is held with the final mark and wait for the logserver's answer
        (bounded)."""
        if self._closed:
            return
        self._closed = True
        answer = self._mux.expect_ack(self._key)
        await self._send(self._take_held(), final=True)
        try:
            error = await asyncio.wait_for(answer, self._timeout)
        except TimeoutError:
            self._mux.forget(self._key)
            log.warning("log_shipping_timeout")
            return
        if error:
            log.warning("log_shipping_failed", error=error)
