"""The control plane's Variables, Connections and XCom reads. Thin: proto <-> stores.

Connections leave here with their password masked: the public API never sees one.
"""

from __future__ import annotations

from typing import Any

from flow.errors import InvalidArgumentError, NotFoundError
from flow.v1 import connection_service_pb2, variable_service_pb2, xcom_service_pb2
from services.scheduler import convert, store
from services.scheduler.connections import Connections
from services.scheduler.core.event_applier import SchedulingCore
from services.scheduler.core.types import TIKey
from services.scheduler.variables import Variables

RETURN_VALUE = "return_value"


class ResourceServicerMixin:
    """Variable, connection and XCom RPCs of SchedulerService."""

    _core: SchedulingCore
    _variables: Variables
    _connections: Connections

    async def GetVariable(self, request: Any, context: Any) -> Any:
        record = await self._variables.get(request.key)
        return variable_service_pb2.GetVariableResponse(variable=convert.variable_to_proto(record))

    async def ListVariables(self, request: Any, context: Any) -> Any:
        offset, limit = convert.page(request.page_size, request.page_token)
        records = await self._variables.list(offset, limit)
        return variable_service_pb2.ListVariablesResponse(
            variables=[convert.variable_to_proto(r) for r in records],
            next_page_token=convert.next_token(offset, limit, len(records)))

    async def SetVariable(self, request: Any, context: Any) -> Any:
        record = await self._variables.set(convert.variable_from_proto(request.variable))
        return variable_service_pb2.SetVariableResponse(variable=convert.variable_to_proto(record))

    async def DeleteVariable(self, request: Any, context: Any) -> Any:
        await self._variables.delete(request.key)
        return variable_service_pb2.DeleteVariableResponse()

    async def GetConnection(self, request: Any, context: Any) -> Any:
        record = (await self._connections.get(request.conn_id)).masked()
        return connection_service_pb2.GetConnectionResponse(
            connection=convert.connection_to_proto(record))

    async def ListConnections(self, request: Any, context: Any) -> Any:
        offset, limit = convert.page(request.page_size, request.page_token)
        records = await self._connections.list(offset, limit)
        return connection_service_pb2.ListConnectionsResponse(
            connections=[convert.connection_to_proto(r.masked()) for r in records],
            next_page_token=convert.next_token(offset, limit, len(records)))

    async def CreateConnection(self, request: Any, context: Any) -> Any:
        record = await self._connections.create(convert.connection_from_proto(request.connection))
        return connection_service_pb2.CreateConnectionResponse(
            connection=convert.connection_to_proto(record.masked()))

    async def UpdateConnection(self, request: Any, context: Any) -> Any:
        record = await self._connections.update(
            request.conn_id, convert.connection_from_proto(request.connection),
            list(request.update_mask))
        return connection_service_pb2.UpdateConnectionResponse(
            connection=convert.connection_to_proto(record.masked()))

    async def DeleteConnection(self, request: Any, context: Any) -> Any:
        await self._connections.delete(request.conn_id)
        return connection_service_pb2.DeleteConnectionResponse()

    async def GetXCom(self, request: Any, context: Any) -> Any:
        for value, field in ((request.dag_id, "dag_id"), (request.run_id, "run_id"),
                             (request.task_id, "task_id")):
            if not value:
                raise InvalidArgumentError(f"{field} is required.", field=field)
        map_index = request.map_index if request.HasField("map_index") else -1
        key = TIKey(request.dag_id, request.run_id, request.task_id, map_index)
        xcom_key = request.key or RETURN_VALUE
        async with self._core.sessions() as session:
            row = await store.get_xcom(session, key, xcom_key)
        if row is None:
            raise NotFoundError(
                f"No XCom '{xcom_key}' for task '{key.task_id}' (map_index {map_index}) of run "
                f"'{key.run_id}' of DAG '{key.dag_id}'.", reason="XCOM_NOT_FOUND")
        return xcom_service_pb2.GetXComResponse(xcom=convert.xcom_to_proto(row))

    async def ListXComs(self, request: Any, context: Any) -> Any:
        for value, field in ((request.dag_id, "dag_id"), (request.run_id, "run_id")):
            if not value:
                raise InvalidArgumentError(f"{field} is required.", field=field)
        offset, limit = convert.page(request.page_size, request.page_token)
        async with self._core.sessions() as session:
            rows = await store.list_xcoms(session, request.dag_id, request.run_id,
                                          request.task_id, offset, limit)
        return xcom_service_pb2.ListXComsResponse(
            xcoms=[convert.xcom_to_proto(r) for r in rows],
            next_page_token=convert.next_token(offset, limit, len(rows)))
