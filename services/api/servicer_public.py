"""The public flow.v1 gRPC services: DAGs, runs, backfills, task instances, XCom, variables,
connections, workers and queues, pools, assets, users and tokens, the audit log, DAG specs
and ad-hoc tasks.

Thin: every method hands the request to the GatewayCore and returns what it answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from flow.grpcutil import Registration
from flow.v1 import (
    asset_service_pb2_grpc,
    audit_service_pb2_grpc,
    backfill_service_pb2_grpc,
    connection_service_pb2_grpc,
    dag_run_service_pb2,
    dag_run_service_pb2_grpc,
    dag_service_pb2,
    dag_service_pb2_grpc,
    dag_spec_service_pb2,
    dag_spec_service_pb2_grpc,
    pool_service_pb2_grpc,
    system_service_pb2_grpc,
    task_instance_service_pb2,
    task_instance_service_pb2_grpc,
    user_service_pb2_grpc,
    variable_service_pb2_grpc,
    worker_service_pb2,
    worker_service_pb2_grpc,
    xcom_service_pb2_grpc,
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

    async def GetDagSource(self, request: Any, context: Any) -> Any:
        return await self._core.get_dag_source(request)

    async def DeleteDag(self, request: Any, context: Any) -> Any:
        return await self._core.delete_dag(request)

    async def UpdateDag(self, request: Any, context: Any) -> Any:
        return await self._core.update_dag(request)


class BackfillServicer(backfill_service_pb2_grpc.BackfillServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def CreateBackfill(self, request: Any, context: Any) -> Any:
        return await self._core.create_backfill(request)

    async def ListBackfills(self, request: Any, context: Any) -> Any:
        return await self._core.list_backfills(request)

    async def GetBackfill(self, request: Any, context: Any) -> Any:
        return await self._core.get_backfill(request)

    async def CancelBackfill(self, request: Any, context: Any) -> Any:
        return await self._core.cancel_backfill(request)


class DagRunServicer(dag_run_service_pb2_grpc.DagRunServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def TriggerDagRun(self, request: Any, context: Any) -> Any:
        return await self._core.trigger_dag_run(request)

    async def ListDagRuns(self, request: Any, context: Any) -> Any:
        return await self._core.list_dag_runs(request)

    async def GetDagRun(self, request: Any, context: Any) -> Any:
        return await self._core.get_dag_run(request)

    async def SetDagRunState(self, request: Any, context: Any) -> Any:
        return await self._core.set_dag_run_state(request)

    async def CancelDagRun(self, request: Any, context: Any) -> Any:
        return await self._core.cancel_dag_run(request)

    async def DeleteDagRun(self, request: Any, context: Any) -> Any:
        return await self._core.delete_dag_run(request)

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

    async def ClearTaskInstances(self, request: Any, context: Any) -> Any:
        return await self._core.clear_task_instances(request)

    async def SetTaskInstanceState(self, request: Any, context: Any) -> Any:
        return await self._core.set_task_instance_state(request)

    async def ListTaskInstanceTries(self, request: Any, context: Any) -> Any:
        return await self._core.list_task_instance_tries(request)

    async def GetRenderedTemplateFields(self, request: Any, context: Any) -> Any:
        return await self._core.get_rendered_template_fields(request)


class SystemServicer(system_service_pb2_grpc.SystemServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def GetVersion(self, request: Any, context: Any) -> Any:
        return await self._core.get_version(request)


class AssetServicer(asset_service_pb2_grpc.AssetServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def ListAssets(self, request: Any, context: Any) -> Any:
        return await self._core.list_assets(request)

    async def ListAssetEvents(self, request: Any, context: Any) -> Any:
        return await self._core.list_asset_events(request)


class XComServicer(xcom_service_pb2_grpc.XComServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def GetXCom(self, request: Any, context: Any) -> Any:
        return await self._core.get_xcom(request)

    async def ListXComs(self, request: Any, context: Any) -> Any:
        return await self._core.list_xcoms(request)


class VariableServicer(variable_service_pb2_grpc.VariableServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def GetVariable(self, request: Any, context: Any) -> Any:
        return await self._core.get_variable(request)

    async def ListVariables(self, request: Any, context: Any) -> Any:
        return await self._core.list_variables(request)

    async def SetVariable(self, request: Any, context: Any) -> Any:
        return await self._core.set_variable(request)

    async def DeleteVariable(self, request: Any, context: Any) -> Any:
        return await self._core.delete_variable(request)


class ConnectionServicer(connection_service_pb2_grpc.ConnectionServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def GetConnection(self, request: Any, context: Any) -> Any:
        return await self._core.get_connection(request)

    async def ListConnections(self, request: Any, context: Any) -> Any:
        return await self._core.list_connections(request)

    async def CreateConnection(self, request: Any, context: Any) -> Any:
        return await self._core.create_connection(request)

    async def UpdateConnection(self, request: Any, context: Any) -> Any:
        return await self._core.update_connection(request)

    async def DeleteConnection(self, request: Any, context: Any) -> Any:
        return await self._core.delete_connection(request)


class WorkerServicer(worker_service_pb2_grpc.WorkerServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def ListWorkers(self, request: Any, context: Any) -> Any:
        return await self._core.list_workers(request)

    async def ListQueues(self, request: Any, context: Any) -> Any:
        return await self._core.list_queues(request)


class UserServicer(user_service_pb2_grpc.UserServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core.identity

    async def WhoAmI(self, request: Any, context: Any) -> Any:
        return await self._core.who_am_i(request)

    async def ListUsers(self, request: Any, context: Any) -> Any:
        return await self._core.list_users(request)

    async def GetUser(self, request: Any, context: Any) -> Any:
        return await self._core.get_user(request)

    async def CreateUser(self, request: Any, context: Any) -> Any:
        return await self._core.create_user(request)

    async def DeleteUser(self, request: Any, context: Any) -> Any:
        return await self._core.delete_user(request)

    async def SetUserRole(self, request: Any, context: Any) -> Any:
        return await self._core.set_user_role(request)

    async def ResetPassword(self, request: Any, context: Any) -> Any:
        return await self._core.reset_password(request)

    async def CreateToken(self, request: Any, context: Any) -> Any:
        return await self._core.create_token(request)

    async def ListTokens(self, request: Any, context: Any) -> Any:
        return await self._core.list_tokens(request)

    async def RevokeToken(self, request: Any, context: Any) -> Any:
        return await self._core.revoke_token(request)


class DagSpecServicer(dag_spec_service_pb2_grpc.DagSpecServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core.dag_specs

    async def SubmitDagSpec(self, request: Any, context: Any) -> Any:
        return await self._core.submit_dag_spec(request)

    async def GetDagSpec(self, request: Any, context: Any) -> Any:
        return await self._core.get_dag_spec(request)

    async def ListDagSpecVersions(self, request: Any, context: Any) -> Any:
        return await self._core.list_dag_spec_versions(request)

    async def SubmitTask(self, request: Any, context: Any) -> Any:
        return await self._core.submit_task(request)


class AuditServicer(audit_service_pb2_grpc.AuditServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core.identity

    async def ListAuditEvents(self, request: Any, context: Any) -> Any:
        return await self._core.list_audit_events(request)
class PoolServicer(pool_service_pb2_grpc.PoolServiceServicer):  # type: ignore[misc]
    def __init__(self, core: GatewayCore) -> None:
        self._core = core

    async def CreatePool(self, request: Any, context: Any) -> Any:
        return await self._core.create_pool(request)

    async def GetPool(self, request: Any, context: Any) -> Any:
        return await self._core.get_pool(request)

    async def ListPools(self, request: Any, context: Any) -> Any:
        return await self._core.list_pools(request)

    async def UpdatePool(self, request: Any, context: Any) -> Any:
        return await self._core.update_pool(request)

    async def DeletePool(self, request: Any, context: Any) -> Any:
        return await self._core.delete_pool(request)


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
        Registration(xcom_service_pb2_grpc.add_XComServiceServicer_to_server,
                     XComServicer(core), "flow.v1.XComService"),
        Registration(asset_service_pb2_grpc.add_AssetServiceServicer_to_server,
                     AssetServicer(core), "flow.v1.AssetService"),
        Registration(system_service_pb2_grpc.add_SystemServiceServicer_to_server,
                     SystemServicer(core), "flow.v1.SystemService"),
        Registration(variable_service_pb2_grpc.add_VariableServiceServicer_to_server,
                     VariableServicer(core), "flow.v1.VariableService"),
        Registration(connection_service_pb2_grpc.add_ConnectionServiceServicer_to_server,
                     ConnectionServicer(core), "flow.v1.ConnectionService"),
        Registration(user_service_pb2_grpc.add_UserServiceServicer_to_server,
                     UserServicer(core), "flow.v1.UserService"),
        Registration(audit_service_pb2_grpc.add_AuditServiceServicer_to_server,
                     AuditServicer(core), "flow.v1.AuditService"),
        Registration(backfill_service_pb2_grpc.add_BackfillServiceServicer_to_server,
                     BackfillServicer(core), "flow.v1.BackfillService"),
        Registration(pool_service_pb2_grpc.add_PoolServiceServicer_to_server,
                     PoolServicer(core), "flow.v1.PoolService"),
        Registration(dag_spec_service_pb2_grpc.add_DagSpecServiceServicer_to_server,
                     DagSpecServicer(core),
                     dag_spec_service_pb2.DESCRIPTOR.services_by_name[
                         "DagSpecService"].full_name),
    ]
