"""The gateway core: validates public requests and forwards them to the scheduler and logserver.

Transport-free apart from the stubs it holds: both the gRPC servicers and the REST routes call
these methods with proto messages. Errors of the peers become FlowError here, in one place.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import grpc

from flow.errors import InvalidArgumentError
from flow.grpcutil import error_from_rpc
from flow.log import MASK, is_sensitive_key, mask_json_fields
from flow.v1 import common_pb2, log_service_pb2, system_service_pb2, task_instance_service_pb2

T = TypeVar("T")


def _require(message: Any, *fields: str, prefix: str = "") -> None:
    for name in fields:
        if not getattr(message, name):
            raise InvalidArgumentError(f"Field '{prefix}{name}' is required.",
                                       field=f"{prefix}{name}")


def _check_page(page_size: int) -> None:
    if page_size < 0:
        raise InvalidArgumentError(f"page_size must not be negative, got {page_size}.",
                                   field="page_size")


async def _forward(call: Awaitable[T]) -> T:
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        raise error_from_rpc(exc) from None


async def _forward_stream(call: Any) -> AsyncIterator[Any]:
    try:
        async for item in call:
            yield item
    except grpc.aio.AioRpcError as exc:
        raise error_from_rpc(exc) from None
    finally:
        call.cancel()


class GatewayCore:
    """Every public operation, as proto request in, proto response out."""

    def __init__(self, scheduler: Any, logs: Any, identity: Any = None,
                 dag_specs: Any = None, *, pools: Any = None) -> None:
        self._scheduler = scheduler  # SchedulerServiceStub
        self._logs = logs  # LogServiceStub
        self.identity = identity  # IdentityCore: users, tokens, the audit log
        if dag_specs is None:
            from services.api.dag_spec_core import DagSpecCore

            dag_specs = DagSpecCore(None)
        self.dag_specs = dag_specs  # DagSpecCore: DAGs as data, ad-hoc tasks
        self._pools = pools  # PoolServiceStub (on the scheduler's channel)

    # DAGs

    async def list_dags(self, request: Any) -> Any:
        _check_page(request.page_size)
        return await _forward(self._scheduler.ListDags(request))

    async def get_dag(self, request: Any) -> Any:
        _require(request, "dag_id")
        return await _forward(self._scheduler.GetDag(request))

    async def list_import_errors(self, request: Any) -> Any:
        _check_page(request.page_size)
        return await _forward(self._scheduler.ListImportErrors(request))

    async def get_dag_source(self, request: Any) -> Any:
        _require(request, "dag_id")
        return await _forward(self._scheduler.GetDagSource(request))

    async def delete_dag(self, request: Any) -> Any:
        _require(request, "dag_id")
        return await _forward(self._scheduler.DeleteDag(request))

    async def update_dag(self, request: Any) -> Any:
        _require(request, "dag_id")
        return await _forward(self._scheduler.UpdateDag(request))

    # Backfills

    async def create_backfill(self, request: Any) -> Any:
        _require(request, "dag_id")
        for name in ("from_date", "to_date"):
            if not request.HasField(name):
                raise InvalidArgumentError(f"Field '{name}' is required.", field=name)
        if request.max_active_runs < 0:
            raise InvalidArgumentError("max_active_runs must not be negative.",
                                       field="max_active_runs")
        return await _forward(self._scheduler.CreateBackfill(request))

    async def list_backfills(self, request: Any) -> Any:
        _check_page(request.page_size)
        return await _forward(self._scheduler.ListBackfills(request))

    async def get_backfill(self, request: Any) -> Any:
        _require(request, "backfill_id")
        return await _forward(self._scheduler.GetBackfill(request))

    async def cancel_backfill(self, request: Any) -> Any:
        _require(request, "backfill_id")
        return await _forward(self._scheduler.CancelBackfill(request))

    # DAG runs

    async def trigger_dag_run(self, request: Any) -> Any:
        _require(request, "dag_id")
        return await _forward(self._scheduler.TriggerDagRun(request))

    async def list_dag_runs(self, request: Any) -> Any:
        _require(request, "dag_id")
        _check_page(request.page_size)
        return await _forward(self._scheduler.ListDagRuns(request))

    async def get_dag_run(self, request: Any) -> Any:
        _require(request, "dag_id", "run_id")
        return await _forward(self._scheduler.GetDagRun(request))

    async def set_dag_run_state(self, request: Any) -> Any:
        _require(request, "dag_id", "run_id")
        if request.state not in (common_pb2.DAG_RUN_STATE_SUCCESS,
                                 common_pb2.DAG_RUN_STATE_FAILED):
            raise InvalidArgumentError(
                "state must be DAG_RUN_STATE_SUCCESS or DAG_RUN_STATE_FAILED.", field="state")
        return await _forward(self._scheduler.SetDagRunState(request))

    async def cancel_dag_run(self, request: Any) -> Any:
        _require(request, "dag_id", "run_id")
        return await _forward(self._scheduler.CancelDagRun(request))

    async def delete_dag_run(self, request: Any) -> Any:
        _require(request, "dag_id", "run_id")
        return await _forward(self._scheduler.DeleteDagRun(request))

    # The system

    async def get_version(self, request: Any) -> Any:
        from flow import __version__

        return system_service_pb2.GetVersionResponse(version=__version__, api_version="v1")

    # Assets

    async def list_assets(self, request: Any) -> Any:
        _check_page(request.page_size)
        return await _forward(self._scheduler.ListAssets(request))

    async def list_asset_events(self, request: Any) -> Any:
        _check_page(request.page_size)
        return await _forward(self._scheduler.ListAssetEvents(request))

    def watch_state_changes(self, request: Any) -> AsyncIterator[Any]:
        if request.run_id and not request.dag_id:
            raise InvalidArgumentError("Filtering by run_id needs dag_id too.", field="dag_id")
        return _forward_stream(
            self._scheduler.WatchStateChanges(request))

    # Task instances and logs

    async def list_task_instances(self, request: Any) -> Any:
        _require(request, "dag_id", "run_id")
        _check_page(request.page_size)
        return await _forward(self._scheduler.ListTaskInstances(request))

    async def get_task_instance(self, request: Any) -> Any:
        _require(request.key, "dag_id", "run_id", "task_id", prefix="key.")
        return await _forward(self._scheduler.GetTaskInstance(request))

    async def list_task_instance_tries(self, request: Any) -> Any:
        _require(request.key, "dag_id", "run_id", "task_id", prefix="key.")
        _check_page(request.page_size)
        # A try's error was masked by the worker that ran it, before it left the worker.
        return await _forward(self._scheduler.ListTaskInstanceTries(request))

    async def get_rendered_template_fields(self, request: Any) -> Any:
        _require(request.key, "dag_id", "run_id", "task_id", prefix="key.")
        # The worker masked the fields with the secrets the task read before they left it.
        return await _forward(self._scheduler.GetRenderedTemplateFields(request))

    async def _resolve_key(self, key: Any) -> Any:
        """A copy of `key` with try_number 0 replaced by the TI's latest try (at least 1)."""
        _require(key, "dag_id", "run_id", "task_id", prefix="key.")
        if key.try_number < 0:
            raise InvalidArgumentError("try_number must not be negative.", field="key.try_number")
        resolved = common_pb2.TaskInstanceKey()
        resolved.CopyFrom(key)
        if resolved.try_number == 0:
            ti = await self.get_task_instance(
                task_instance_service_pb2.GetTaskInstanceRequest(key=key))
            # a TI that has not been queued yet will write its first try
            resolved.try_number = max(ti.task_instance.key.try_number, 1)
        return resolved

    async def read_task_log(self, request: Any) -> Any:
        if request.offset < 0 or request.limit < 0:
            raise InvalidArgumentError("offset and limit must not be negative.", field="offset")
        key = await self._resolve_key(request.key)
        read = await _forward(self._logs.ReadLog(log_service_pb2.ReadLogRequest(
            key=key, offset=request.offset, limit=request.limit)))
        return task_instance_service_pb2.ReadTaskLogResponse(
            content=read.content, next_offset=read.next_offset, complete=read.complete,
            try_number=key.try_number)

    async def follow_task_log(self, request: Any) -> AsyncIterator[Any]:
        if request.offset < 0:
            raise InvalidArgumentError("offset must not be negative.", field="offset")
        key = await self._resolve_key(request.key)
        call = self._logs.FollowLog(
            log_service_pb2.FollowLogRequest(key=key, offset=request.offset))
        async for item in _forward_stream(call):
            yield task_instance_service_pb2.FollowTaskLogResponse(
                content=item.content, next_offset=item.next_offset)

    async def clear_task_instances(self, request: Any) -> Any:
        _require(request, "dag_id", "run_id")
        _check_regex(request.task_regex)
        return await _forward(self._scheduler.ClearTaskInstances(request))

    async def set_task_instance_state(self, request: Any) -> Any:
        _require(request, "dag_id", "run_id", "task_id")
        if request.state not in MARKABLE_STATES:
            raise InvalidArgumentError(
                "state must be TASK_INSTANCE_STATE_SUCCESS or TASK_INSTANCE_STATE_FAILED.",
                field="state")
        return await _forward(self._scheduler.SetTaskInstanceState(request))

    # XCom

    async def get_xcom(self, request: Any) -> Any:
        _require(request, "dag_id", "run_id", "task_id")
        return await _forward(self._scheduler.GetXCom(request))

    async def list_xcoms(self, request: Any) -> Any:
        _require(request, "dag_id", "run_id")
        _check_page(request.page_size)
        return await _forward(self._scheduler.ListXComs(request))

    # Pools (the scheduler serves PoolService itself: the requests pass through unchanged)

    async def create_pool(self, request: Any) -> Any:
        _require(request.pool, "name", prefix="pool.")
        return await _forward(self._pools.CreatePool(request))

    async def get_pool(self, request: Any) -> Any:
        _require(request, "name")
        return await _forward(self._pools.GetPool(request))

    async def list_pools(self, request: Any) -> Any:
        _check_page(request.page_size)
        return await _forward(self._pools.ListPools(request))

    async def update_pool(self, request: Any) -> Any:
        _require(request.pool, "name", prefix="pool.")
        return await _forward(self._pools.UpdatePool(request))

    async def delete_pool(self, request: Any) -> Any:
        _require(request, "name")
        return await _forward(self._pools.DeletePool(request))

    # Variables

    # Variables: the values of sensitive keys (password, token, api_key, ...) are answered as
    # `***`, as connection passwords are; tasks read them through the scheduler.

    async def get_variable(self, request: Any) -> Any:
        _require(request, "key")
        response = await _forward(self._scheduler.GetVariable(request))
        _mask_variable(response.variable)
        return response

    async def list_variables(self, request: Any) -> Any:
        _check_page(request.page_size)
        response = await _forward(self._scheduler.ListVariables(request))
        for variable in response.variables:
            _mask_variable(variable)
        return response

    async def set_variable(self, request: Any) -> Any:
        _require(request.variable, "key", prefix="variable.")
        response = await _forward(self._scheduler.SetVariable(request))
        if response.HasField("variable"):
            _mask_variable(response.variable)
        return response

    async def delete_variable(self, request: Any) -> Any:
        _require(request, "key")
        return await _forward(self._scheduler.DeleteVariable(request))

    # Connections: the scheduler masks passwords on this path; mask again so that no code
    # path of the public API can ever carry one.

    async def get_connection(self, request: Any) -> Any:
        _require(request, "conn_id")
        response = await _forward(self._scheduler.GetConnection(request))
        _mask_password(response.connection)
        return response

    async def list_connections(self, request: Any) -> Any:
        _check_page(request.page_size)
        response = await _forward(self._scheduler.ListConnections(request))
        for connection in response.connections:
            _mask_password(connection)
        return response

    async def create_connection(self, request: Any) -> Any:
        _require(request.connection, "conn_id", "conn_type", prefix="connection.")
        response = await _forward(self._scheduler.CreateConnection(request))
        _mask_password(response.connection)
        return response

    async def update_connection(self, request: Any) -> Any:
        _require(request, "conn_id")
        response = await _forward(self._scheduler.UpdateConnection(request))
        _mask_password(response.connection)
        return response

    async def delete_connection(self, request: Any) -> Any:
        _require(request, "conn_id")
        return await _forward(self._scheduler.DeleteConnection(request))


    # Workers and queues

    async def list_workers(self, request: Any) -> Any:
        return await _forward(self._scheduler.ListWorkers(request))

    async def list_queues(self, request: Any) -> Any:
        return await _forward(self._scheduler.ListQueues(request))


MARKABLE_STATES = frozenset({common_pb2.TASK_INSTANCE_STATE_SUCCESS,
                             common_pb2.TASK_INSTANCE_STATE_FAILED})


def _mask_password(connection: Any) -> None:
    """No password, and no value of a sensitive key of its extra, leaves the gateway."""
    if connection.password:
        connection.password = MASK
    if connection.extra:
        connection.extra = mask_json_fields(connection.extra)


def _mask_variable(variable: Any) -> None:
    if variable.value and is_sensitive_key(variable.key):
        variable.value = MASK


def _check_regex(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise InvalidArgumentError(f"task_regex {pattern!r} is not a valid regular expression: "
                                   f"{exc}.", field="task_regex") from None


# Await a call to a peer; its gRPC error becomes the FlowError it stands for.
forward = _forward

__all__ = ["GatewayCore", "forward"]
