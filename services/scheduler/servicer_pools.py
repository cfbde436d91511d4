"""PoolService as the scheduler serves it to the gateway. Thin: proto <-> Pools."""

from __future__ import annotations

from typing import Any

from flow.errors import InvalidArgumentError
from flow.v1 import pool_service_pb2, pool_service_pb2_grpc
from services.scheduler import convert
from services.scheduler.core.admission import PoolUsage
from services.scheduler.pools import Pools

# A proto int32 field holds at most this many slots.
MAX_SLOTS = 2**31 - 1


def pool_to_proto(usage: PoolUsage) -> pool_service_pb2.Pool:
    return pool_service_pb2.Pool(
        name=usage.name, slots=min(usage.slots, MAX_SLOTS), description=usage.description,
        running_slots=usage.running, queued_slots=usage.queued, open_slots=usage.open,
        scheduled_tasks=usage.scheduled)


def _pool_fields(request: Any) -> tuple[str, int, str]:
    if not request.HasField("pool"):
        raise InvalidArgumentError("pool is required.", field="pool")
    return request.pool.name, request.pool.slots, request.pool.description


class PoolServicer(pool_service_pb2_grpc.PoolServiceServicer):  # type: ignore[misc]
    def __init__(self, pools: Pools) -> None:
        self._pools = pools

    async def CreatePool(self, request: Any, context: Any) -> Any:
        usage = await self._pools.create(*_pool_fields(request))
        return pool_service_pb2.CreatePoolResponse(pool=pool_to_proto(usage))

    async def GetPool(self, request: Any, context: Any) -> Any:
        return pool_service_pb2.GetPoolResponse(
            pool=pool_to_proto(await self._pools.get(request.name)))

    async def ListPools(self, request: Any, context: Any) -> Any:
        offset, limit = convert.page(request.page_size, request.page_token)
        found = await self._pools.list(offset, limit)
        return pool_service_pb2.ListPoolsResponse(
            pools=[pool_to_proto(u) for u in found],
            next_page_token=convert.next_token(offset, limit, len(found)))

    async def UpdatePool(self, request: Any, context: Any) -> Any:
        usage = await self._pools.update(*_pool_fields(request),
                                         upsert=request.allow_missing)
        return pool_service_pb2.UpdatePoolResponse(pool=pool_to_proto(usage))

    async def DeletePool(self, request: Any, context: Any) -> Any:
        await self._pools.delete(request.name)
        return pool_service_pb2.DeletePoolResponse()
