"""The public flow.v1 gRPC services: DagService, DagRunService, TaskInstanceService,
WorkerService.

Thin: every method hands the request to the GatewayCore and returns what it answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from flow.grpcutil import Registration
from flow.v1 import (
    dag_run_service_pb2,
    dag_run_service_pb2_grpc,
    dag_service_pb2,
    dag_service_pb2_grpc,
    task_instance_service_pb2,
    task_instance_service_pb2_grpc,
    worker_service_pb2,
    worker_service_pb2_grpc,
)
from services.api.core import GatewayCore


class DagServicer(dag_service_pb2_grpc.DagServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def ListDags(self, request: Any, context: Any) -> Any:
        return await self._core.list_dags(request)

    async def GetDag(self, request: Any, context: Any) -> Any:
        return await self._core.get_dag(request)

    async def ListImportErrors(self, request: Any, context: Any) -> Any:
        return await self._core.list_import_errors(request)


class DagRunServicer(dag_run_service_pb2_grpc.DagRunServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def TriggerDagRun(self, request: Any, context: Any) -> Any:
        return await self._core.trigger_dag_run(request)

    async def ListDagRuns(self, request: Any, context: Any) -> Any:
        return await self._core.list_dag_runs(request)

    async def GetDagRun(self, request: Any, context: Any) -> Any:
        return await self._core.get_dag_run(request)

    async def WatchStateChanges(self, request: Any, context: Any) -> AsyncIterator[Any]:
        async for response in self._core.watch_state_changes(request):
            yield response


class TaskInstanceServicer(
    task_instance_service_pb2_grpc.TaskInstanceServiceServicer  # type: ignore[misc]
):
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def ListTaskInstances(self, request: Any, context: Any) -> Any:
        return await self._core.list_task_instances(request)

    async def GetTaskInstance(self, request: Any, context: Any) -> Any:
        return await self._core.get_task_instance(request)

    async def ReadTaskLog(self, request: Any, context: Any) -> Any:
        return await self._core.read_task_log(request)

    async def FollowTaskLog(self, request: Any, context: Any) -> AsyncIterator[Any]:
        async for response in self._core.follow_task_log(request):
            yield response


class WorkerServicer(worker_service_pb2_grpc.WorkerServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def ListWorkers(self, request: Any, context: Any) -> Any:
        return await self._core.list_workers(request)

    async def ListQueues(self, request: Any, context: Any) -> Any:
        return await self._core.list_queues(request)


def public_registrations(core: GatewayCore) -> list[Registration]:
    """The public services, ready for flow.grpcutil.serve()."""
    return [
        Registration(dag_service_pb2_grpc.add_DagServiceServicer_to_server, DagServicer(core),
                     dag_service_pb2.DESCRIPTOR.services_by_name["DagService"].full_name),
        Registration(dag_run_service_pb2_grpc.add_DagRunServiceServicer_to_server,
                     DagRunServicer(core),
                     dag_run_service_pb2.DESCRIPTOR.services_by_name["DagRunService"].full_name),
        Registration(task_instance_service_pb2_grpc.add_TaskInstanceServiceServicer_to_server,
                     TaskInstanceServicer(core),
                     task_instance_service_pb2.DESCRIPTOR.services_by_name[
                         "TaskInstanceService"].full_name),
        Registration(worker_service_pb2_grpc.add_WorkerServiceServicer_to_server,
                     WorkerServicer(core),
                     worker_service_pb2.DESCRIPTOR.services_by_name["WorkerService"].full_name),
    ]
