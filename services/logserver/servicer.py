"""LogService over gRPC: thin, proto <-> LogStorage."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import structlog

from flow.errors import FlowError
from flow.v1 import common_pb2, log_service_pb2, log_service_pb2_grpc
from services.logserver.storage import AttemptKey, AttemptWriter, LogStorage, finish_writers

log = structlog.get_logger(__name__)


def key_from_proto(key: common_pb2.TaskInstanceKey) -> AttemptKey:
    return AttemptKey(key.dag_id, key.run_id, key.task_id, key.map_index, key.try_number)


class _Finisher:
    """Finishes the attempts whose final message arrived, a batch per thread hop, and
    queues each one's answer."""

    def __init__(self, answers: asyncio.Queue[Any]) -> None:
        self._answers = answers
        self._pending: list[tuple[Any, AttemptWriter]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._run(), name="log_finisher")

    def add(self, key: Any, writer: AttemptWriter) -> None:
        self._pending.append((key, writer))
        self._wake.set()

    async def close(self) -> None:
        self._closing = True
        self._wake.set()
        await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                error = ""
                try:
                    await finish_writers([writer for _, writer in batch])
                except (OSError, FlowError) as exc:
                    error = f"could not store the log: {exc}"
                    log.error("log_finish_failed", error=str(exc), attempts=len(batch))
                for key, writer in batch:
                    await self._answers.put((key, writer.size, error))
            if self._closing and not self._pending:
                return


class LogServicer(log_service_pb2_grpc.LogServiceServicer):  # type: ignore[misc]
    """WriteLog (client stream), WriteLogs and WriteLogBatches (many attempts on one
    stream), ReadLog (a range), FollowLog (server stream)."""

    def __init__(self, storage: LogStorage) -> None:
        self._storage = storage

    async def WriteLog(
        self, request_iterator: AsyncIterator[Any], context: Any
    ) -> Any:
        writer: AttemptWriter | None = None
        size = 0
        try:
            async for request in request_iterator:
                if writer is None:
                    key = key_from_proto(request.key)
                    writer = self._storage.open_writer(key)
                    structlog.contextvars.bind_contextvars(
                        dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id,
                        map_index=key.map_index, try_number=key.try_number)
                size = await writer.append(request.content)
                if request.final:
                    await writer.finish()
                    log.info("log_finished", size=size)
        finally:
            if writer is not None:
                await writer.close()
        return log_service_pb2.WriteLogResponse(size=size)

    def WriteLogs(
        self, request_iterator: AsyncIterator[Any], context: Any
    ) -> AsyncIterator[Any]:
        async def one_by_one() -> AsyncIterator[Sequence[Any]]:
            async for request in request_iterator:
                yield (request,)

        return self._write_many(one_by_one(), log_service_pb2.WriteLogsResponse)

    def WriteLogBatches(
        self, request_iterator: AsyncIterator[Any], context: Any
    ) -> AsyncIterator[Any]:
        async def batches() -> AsyncIterator[Sequence[Any]]:
            async for batch in request_iterator:
                yield batch.entries

        return self._write_many(batches(), log_service_pb2.WriteLogBatchesResponse)

    async def _write_many(self, batches: AsyncIterator[Sequence[Any]], answer_type: Any,
                          ) -> AsyncIterator[Any]:
        """Apply the messages in order; yield an `answer_type` (key, size, error) for each
        attempt's final message once its log is durable or refused."""
        answers: asyncio.Queue[Any] = asyncio.Queue()  # (key, size, error), then None
        reader = asyncio.create_task(self._take_writes(batches, answers))
        try:
            while (answer := await answers.get()) is not None:
                key, size, error = answer
                yield answer_type(key=key, size=size, error=error)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _take_writes(self, batches: AsyncIterator[Sequence[Any]],
                           answers: asyncio.Queue[Any]) -> None:
        writers: dict[AttemptKey, AttemptWriter] = {}
        refused: dict[AttemptKey, str] = {}  # attempt -> why, answered with its final message
        finisher = _Finisher(answers)
        try:
            async for batch in batches:
                for request in batch:
                    await self._take_write(request, writers, refused, finisher, answers)
        finally:
            await finisher.close()
            for writer in writers.values():  # attempts still open when the stream ended
                await writer.close()
            await answers.put(None)

    async def _take_write(self, request: Any, writers: dict[AttemptKey, AttemptWriter],
                          refused: dict[AttemptKey, str], finisher: _Finisher,
                          answers: asyncio.Queue[Any]) -> None:
        key = key_from_proto(request.key)
        if key in refused:
            if request.final:
                await answers.put((request.key, 0, refused.pop(key)))
            return
        try:
            writer = writers.get(key)
            if writer is None:
                writer = writers[key] = self._storage.open_writer(key)
            await writer.append(request.content)
        except FlowError as exc:
            writers.pop(key, None)
            if request.final:
                await answers.put((request.key, 0, exc.message))
            else:
                refused[key] = exc.message
            return
        if request.final:
            finisher.add(request.key, writers.pop(key))

    async def ReadLog(self, request: Any, context: Any) -> Any:
        result = await self._storage.read(
            key_from_proto(request.key), request.offset, request.limit)
        return log_service_pb2.ReadLogResponse(
            content=result.content, next_offset=result.next_offset, complete=result.complete,
            exists=result.exists)

    async def FollowLog(self, request: Any, context: Any) -> AsyncIterator[Any]:
        async for content, next_offset in self._storage.follow(
            key_from_proto(request.key), request.offset
        ):
            yield log_service_pb2.FollowLogResponse(content=content, next_offset=next_offset)
