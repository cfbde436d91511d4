"""Ship one attempt's output to the logserver over a `LogService.WriteLog` client stream.

Writers await space in a small bounded queue, so a task printing faster than the logserver
stores makes the supervisor read its pipes more slowly (backpressure), and memory stays
bounded. If the logserver is unreachable the output is dropped with a warning; the task
goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
import structlog

from flow.log import mask_text
from flow.v1 import log_service_pb2

log = structlog.get_logger(__name__)

MAX_CHUNK = 64 * 1024
QUEUE_CHUNKS = 16


def supervisor_line(message: str, level: str = "INFO") -> bytes:
    """A line the supervisor adds to the task log, in Airflow's format."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    return f"[{now}] {{supervisor}} {level} - {message}\n".encode()


def _mask(chunk: bytes) -> bytes:
    text = chunk.decode("utf-8", "surrogateescape")
    masked = mask_text(text)
    return chunk if masked is text else masked.encode("utf-8", "surrogateescape")


class LogShipper:
    """One WriteLog stream for one attempt; `write()` chunks, then `close()` once."""

    def __init__(self, stub: Any, key: Any, *, timeout: float = 30.0) -> None:
        self._stub = stub
        self._key = key
        self._timeout = timeout
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_CHUNKS)
        self._failed = False
        self._closed = False
        self._final_taken = False  # the end marker has left the queue
        self.bytes_written = 0
        self._task = asyncio.create_task(self._ship(), name="log_shipper")

    async def write(self, data: bytes) -> None:
        """Queue output to ship; waits while the queue is full (backpressure)."""
        if not data or self._closed:
            return
        if self._failed:
            return
        for start in range(0, len(data), MAX_CHUNK):
            await self._queue.put(data[start:start + MAX_CHUNK])

    async def close(self) -> None:
        """Send the final message and wait for the logserver's answer (bounded)."""
        if self._closed:
            return
        self._closed = True
        await self._queue.put(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self._timeout)
        except TimeoutError:
            log.warning("log_shipping_timeout")
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _requests(self) -> AsyncIterator[Any]:
        first = True
        while True:
            item = await self._queue.get()
            if item is None:
                self._final_taken = True
                yield log_service_pb2.WriteLogRequest(key=self._key if first else None,
                                                      final=True)
                return
            parts = [item]
            size = len(item)
            while size < MAX_CHUNK and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    self._queue.put_nowait(None)  # room: we just took one
                    break
                parts.append(nxt)
                size += len(nxt)
            content = _mask(b"".join(parts))
            self.bytes_written += len(content)
            yield log_service_pb2.WriteLogRequest(key=self._key if first else None,
                                                  content=content)
            first = False

    async def _ship(self) -> None:
        try:
            await self._stub.WriteLog(self._requests())
        except grpc.aio.AioRpcError as exc:
            self._failed = True
            log.warning("log_shipping_failed", code=exc.code().name, error=exc.details())
        # Drain whatever writers still queue until close(), so none of them blocks.
        while self._failed and not self._final_taken:
            if await self._queue.get() is None:
                return
