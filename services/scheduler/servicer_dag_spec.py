"""DagSpecService on the scheduler (internal; the gateway forwards the public calls here).
Thin: proto <-> services/scheduler/dag_specs.py and the core's trigger."""

from __future__ import annotations

from typing import Any

import grpc

from flow.errors import InvalidArgumentError
from flow.v1 import dag_spec_service_pb2, dag_spec_service_pb2_grpc
from services.scheduler import convert
from services.scheduler.core.event_applier import SchedulingCore
from services.scheduler.dag_specs import DagSpecs, adhoc_spec

Ctx = grpc.aio.ServicerContext[Any, Any]
pb = dag_spec_service_pb2


def version_to_proto(row: Any) -> Any:
    return pb.DagSpecVersion(dag_id=row.dag_id, version=row.version,
                             created_at=convert.timestamp(row.created_at),
                             spec_hash=row.spec_hash)


class DagSpecServicer(dag_spec_service_pb2_grpc.DagSpecServiceServicer):  # type: ignore[misc]
    def __init__(self, core: SchedulingCore, specs: DagSpecs) -> None:
        self._core = core
        self._specs = specs

    async def SubmitDagSpec(self, request: Any, context: Ctx) -> Any:
        if not request.HasField("spec"):
            raise InvalidArgumentError("Field 'spec' is required.", field="spec")
        done = await self._specs.submit(request.spec)
        return pb.SubmitDagSpecResponse(version=version_to_proto(done.row), created=done.created,
                                        dag=convert.dag_to_proto(done.dag, done.serialized))

    async def GetDagSpec(self, request: Any, context: Ctx) -> Any:
        spec, row = await self._specs.get(request.dag_id, request.version)
        return pb.GetDagSpecResponse(spec=spec, version=version_to_proto(row))

    async def ListDagSpecVersions(self, request: Any, context: Ctx) -> Any:
        offset, limit = convert.page(request.page_size, request.page_token)
        rows = await self._specs.versions(request.dag_id, offset, limit)
        return pb.ListDagSpecVersionsResponse(
            versions=[version_to_proto(r) for r in rows],
            next_page_token=convert.next_token(offset, limit, len(rows)))

    async def SubmitTask(self, request: Any, context: Ctx) -> Any:
        if not request.HasField("task"):
            raise InvalidArgumentError("Field 'task' is required.", field="task")
        spec = adhoc_spec(request.task)
        done = await self._specs.submit(spec, prefix="dag")
        run = await self._core.trigger_dag_run(
            spec.dag_id, "", convert.from_struct(request.conf) if request.HasField("conf")
            else {}, None)
        return pb.SubmitTaskResponse(dag_id=spec.dag_id, run_id=run.run_id,
                                     task_id=spec.tasks[0].task_id, version=done.row.version)
