"""LogService over gRPC: thin, proto <-> LogStorage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import structlog

from flow.v1 import common_pb2, log_service_pb2, log_service_pb2_grpc
from services.logserver.storage import AttemptKey, AttemptWriter, LogStorage

log = structlog.get_logger(__name__)


def key_from_proto(key: common_pb2.TaskInstanceKey) -> AttemptKey:
    return AttemptKey(key.dag_id, key.run_id, key.task_id, key.map_index, key.try_number)


class LogServicer(log_service_pb2_grpc.LogServiceServicer):  # type: ignore[misc]
    """WriteLog (client stream), ReadLog (a range), FollowLog (server stream)."""

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
