"""SchedulerService: the control plane the gateway forwards to. Thin: proto <-> core/store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import grpc

from flow.errors import InvalidArgumentError, NotFoundError
from flow.states import DagRunState
from flow.v1 import (
    backfill_service_pb2,
    dag_run_service_pb2,
    dag_service_pb2,
    scheduler_service_pb2_grpc,
    task_instance_service_pb2,
)
from services.scheduler import convert, store
from services.scheduler.connections import Connections
from services.scheduler.core import backfills, operations
from services.scheduler.core.event_applier import SchedulingCore
from services.scheduler.core.types import Change, TIKey
from services.scheduler.events import Broadcaster
from services.scheduler.fleet import Fleet
from services.scheduler.servicer_assets import AssetServicerMixin
from services.scheduler.servicer_resources import ResourceServicerMixin
from services.scheduler.variables import Variables

Ctx = grpc.aio.ServicerContext[Any, Any]


MAX_SOURCE_BYTES = 1 << 20


def read_dag_source(fileloc: str) -> str:
    """The text of a DAG file (its first MiB): read, never imported (no user code runs)."""
    try:
        with open(fileloc, "rb") as file:
            data = file.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise NotFoundError(f"The DAG file {fileloc} cannot be read: {exc.strerror}.",
                            reason="DAG_FILE_NOT_FOUND") from None
    text = data[:MAX_SOURCE_BYTES].decode("utf-8", errors="replace")
    return text + ("\n# ... (truncated at 1 MiB)\n" if len(data) > MAX_SOURCE_BYTES else "")


def _required(value: str, field: str) -> str:
    if not value:
        raise InvalidArgumentError(f"{field} is required.", field=field)
    return value


class SchedulerControlServicer(ResourceServicerMixin, AssetServicerMixin,
                               scheduler_service_pb2_grpc.SchedulerServiceServicer):  # type: ignore[misc]
    def __init__(self, core: SchedulingCore, broadcaster: Broadcaster, fleet: Fleet,
                 variables: Variables, connections: Connections,
                 reparse: Callable[[str], None] = lambda _fileloc: None) -> None:
        self._core = core
        self._reparse = reparse  # a deleted DAG's file is parsed again, as in Airflow
        self._broadcaster = broadcaster
        self._fleet = fleet
        self._variables = variables
        self._connections = connections

    async def ListWorkers(self, request: Any, context: Ctx) -> Any:
        return await self._fleet.list_workers(request)

    async def ListQueues(self, request: Any, context: Ctx) -> Any:
        return await self._fleet.list_queues(request)

    async def ListDags(self, request: Any, context: Ctx) -> Any:
        offset, limit = convert.page(request.page_size, request.page_token)
        async with self._core.sessions() as session:
            rows = await store.list_dags(session, request.dag_id_pattern,
                                         request.include_inactive, offset, limit)
        return dag_service_pb2.ListDagsResponse(
            dags=[convert.dag_to_proto(r) for r in rows],
            next_page_token=convert.next_token(offset, limit, len(rows)))

    async def GetDag(self, request: Any, context: Ctx) -> Any:
        dag_id = _required(request.dag_id, "dag_id")
        async with self._core.sessions() as session:
            dag = await store.get_dag(session, dag_id)
            serialized = await store.serialized(session, dag_id)
            if dag is None:
                raise await store.dag_not_found(session, dag_id)
        return dag_service_pb2.GetDagResponse(
            dag=convert.dag_to_proto(dag, serialized.data if serialized else None))

    async def UpdateDag(self, request: Any, context: Ctx) -> Any:
        dag_id = _required(request.dag_id, "dag_id")
        if request.HasField("is_paused"):
            await self._core.set_dag_paused(dag_id, request.is_paused)
        return dag_service_pb2.UpdateDagResponse(
            dag=(await self.GetDag(dag_service_pb2.GetDagRequest(dag_id=dag_id), context)).dag)

    async def CreateBackfill(self, request: Any, context: Ctx) -> Any:
        dag_id = _required(request.dag_id, "dag_id")
        start = convert.from_timestamp(request.from_date, request.HasField("from_date"))
        end = convert.from_timestamp(request.to_date, request.HasField("to_date"))
        if start is None or end is None:
            raise InvalidArgumentError("from_date and to_date are required.",
                                       field="from_date" if start is None else "to_date")
        row, plan = await self._core.create_backfill(backfills.BackfillRequest(
            dag_id=dag_id, from_date=start, to_date=end,
            reprocess_behavior=convert.reprocess_from_proto(request.reprocess_behavior),
            max_active_runs=request.max_active_runs, dry_run=request.dry_run,
            conf=convert.from_struct(request.dag_run_conf)
            if request.HasField("dag_run_conf") else {}))
        response = backfill_service_pb2.CreateBackfillResponse(
            runs=[convert.backfill_run_to_proto(p) for p in plan])
        if row is not None:
            response.backfill.CopyFrom(convert.backfill_to_proto(row))
        return response

    async def ListBackfills(self, request: Any, context: Ctx) -> Any:
        offset, limit = convert.page(request.page_size, request.page_token)
        async with self._core.sessions() as session:
            rows = await store.list_backfills(session, request.dag_id, offset, limit)
        return backfill_service_pb2.ListBackfillsResponse(
            backfills=[convert.backfill_to_proto(r) for r in rows],
            next_page_token=convert.next_token(offset, limit, len(rows)))

    async def GetBackfill(self, request: Any, context: Ctx) -> Any:
        async with self._core.sessions() as session:
            row = await store.get_backfill(session, request.backfill_id)
        if row is None:
            raise NotFoundError(f"Backfill {request.backfill_id} not found; see "
                                "'flowcli backfills list'.", reason="BACKFILL_NOT_FOUND")
        return backfill_service_pb2.GetBackfillResponse(backfill=convert.backfill_to_proto(row))

    async def CancelBackfill(self, request: Any, context: Ctx) -> Any:
        row = await self._core.cancel_backfill(request.backfill_id)
        return backfill_service_pb2.CancelBackfillResponse(
            backfill=convert.backfill_to_proto(row))
    async def GetDagSource(self, request: Any, context: Ctx) -> Any:
        dag_id = _required(request.dag_id, "dag_id")
        async with self._core.sessions() as session:
            dag = await store.get_dag(session, dag_id)
            if dag is None:
                raise await store.dag_not_found(session, dag_id)
        fileloc = dag.fileloc
        content = await asyncio.to_thread(read_dag_source, fileloc)
        return dag_service_pb2.GetDagSourceResponse(fileloc=fileloc, content=content)

    async def GetRenderedTemplateFields(self, request: Any, context: Ctx) -> Any:
        key = _ti_key(request)
        async with self._core.sessions() as session:
            row = await store.get_rendered_fields(session, key)
        if row is None:
            return task_instance_service_pb2.GetRenderedTemplateFieldsResponse(found=False)
        return task_instance_service_pb2.GetRenderedTemplateFieldsResponse(
            found=True, rendered_fields=convert.struct(dict(row.rendered_fields or {})),
            try_number=row.try_number)

    async def ListImportErrors(self, request: Any, context: Ctx) -> Any:
        offset, limit = convert.page(request.page_size, request.page_token)
        async with self._core.sessions() as session:
            rows = await store.list_import_errors(session, offset, limit)
        return dag_service_pb2.ListImportErrorsResponse(
            import_errors=[convert.import_error_to_proto(r) for r in rows],
            next_page_token=convert.next_token(offset, limit, len(rows)))

    async def TriggerDagRun(self, request: Any, context: Ctx) -> Any:
        run = await self._core.trigger_dag_run(
            _required(request.dag_id, "dag_id"), request.run_id,
            convert.from_struct(request.conf) if request.HasField("conf") else {},
            convert.from_timestamp(request.logical_date, request.HasField("logical_date")))
        return dag_run_service_pb2.TriggerDagRunResponse(dag_run=convert.dag_run_to_proto(run))

    async def ListDagRuns(self, request: Any, context: Ctx) -> Any:
        dag_id = _required(request.dag_id, "dag_id")
        offset, limit = convert.page(request.page_size, request.page_token)
        states = [convert.run_state_from_proto(s) for s in request.states if s]
        async with self._core.sessions() as session:
            rows = await store.list_runs(session, dag_id, states, offset, limit)
        return dag_run_service_pb2.ListDagRunsResponse(
            dag_runs=[convert.dag_run_to_proto(r) for r in rows],
            next_page_token=convert.next_token(offset, limit, len(rows)))

    async def _find_run(self, dag_id: str, run_id: str) -> Any:
        async with self._core.sessions() as session:
            row = await store.find_run(session, dag_id, run_id)
        if row is None:
            raise NotFoundError(f"DAG run '{run_id}' of DAG '{dag_id}' not found; see the runs "
                                f"with 'flowcli runs list {dag_id}'.", reason="DAG_RUN_NOT_FOUND",
                                metadata={"dag_id": dag_id, "run_id": run_id})
        return row

    async def GetDagRun(self, request: Any, context: Ctx) -> Any:
        dag_id, run_id = _required(request.dag_id, "dag_id"), _required(request.run_id, "run_id")
        row = await self._find_run(dag_id, run_id)
        return dag_run_service_pb2.GetDagRunResponse(dag_run=convert.dag_run_to_proto(row))

    async def WatchStateChanges(self, request: Any, context: Ctx) -> AsyncIterator[Any]:
        if request.run_id and not request.dag_id:
            raise InvalidArgumentError("run_id requires dag_id.", field="dag_id")
        snapshot = None
        if request.run_id:
            async def snapshot() -> list[Change]:
                """The run's current state, so that a finished run is seen at once."""
                row = await self._find_run(request.dag_id, request.run_id)
                return [Change(row.dag_id, row.run_id, row.state, datetime.now(UTC))]

        async for change in self._broadcaster.subscribe(request.dag_id, request.run_id,
                                                        snapshot, runs_only=request.runs_only):
            yield dag_run_service_pb2.WatchStateChangesResponse(
                change=convert.change_to_proto(change))

    async def ListTaskInstances(self, request: Any, context: Ctx) -> Any:
        dag_id, run_id = _required(request.dag_id, "dag_id"), _required(request.run_id, "run_id")
        offset, limit = convert.page(request.page_size, request.page_token, default=1000,
                                     maximum=10000)
        async with self._core.sessions() as session:
            rows = await store.list_tis(session, dag_id, run_id, offset, limit)
            if not rows and offset == 0 and await store.find_run(session, dag_id, run_id) is None:
                raise NotFoundError(f"DAG run '{run_id}' of DAG '{dag_id}' not found.",
                                    reason="DAG_RUN_NOT_FOUND")
        return task_instance_service_pb2.ListTaskInstancesResponse(
            task_instances=[convert.ti_to_proto(r) for r in rows],
            next_page_token=convert.next_token(offset, limit, len(rows)))

    async def GetTaskInstance(self, request: Any, context: Ctx) -> Any:
        key = _ti_key(request)
        async with self._core.sessions() as session:
            row = await store.get_ti(session, key)
        if row is None:
            raise NotFoundError(f"Task instance {key.dag_id}/{key.run_id}/{key.task_id} "
                                f"(map_index {key.map_index}) not found.",
                                reason="TASK_INSTANCE_NOT_FOUND")
        return task_instance_service_pb2.GetTaskInstanceResponse(
            task_instance=convert.ti_to_proto(row))

    async def ClearTaskInstances(self, request: Any, context: Ctx) -> Any:
        task_ids = await self._core.clear_task_instances(operations.ClearRequest(
            dag_id=request.dag_id, run_id=request.run_id, task_regex=request.task_regex,
            include_downstream=request.include_downstream,
            include_upstream=request.include_upstream, only_failed=request.only_failed,
            dry_run=request.dry_run))
        return task_instance_service_pb2.ClearTaskInstancesResponse(
            task_instances=await self._tis(request.dag_id, request.run_id, task_ids))

    async def SetTaskInstanceState(self, request: Any, context: Ctx) -> Any:
        state = convert.ti_state_from_proto(request.state)
        if state is None:
            raise InvalidArgumentError("state is required.", field="state")
        task_ids = await self._core.mark_task_instances(operations.MarkRequest(
            dag_id=request.dag_id, run_id=request.run_id, task_id=request.task_id, state=state,
            include_upstream=request.include_upstream,
            include_downstream=request.include_downstream, dry_run=request.dry_run))
        return task_instance_service_pb2.SetTaskInstanceStateResponse(
            task_instances=await self._tis(request.dag_id, request.run_id, task_ids))

    async def ListTaskInstanceTries(self, request: Any, context: Ctx) -> Any:
        key = _ti_key(request)
        offset, limit = convert.page(request.page_size, request.page_token)
        async with self._core.sessions() as session:
            rows = await store.list_tries(session, key, offset, limit)
            if not rows and await store.get_ti(session, key) is None:
                raise NotFoundError(f"Task instance {key.dag_id}/{key.run_id}/{key.task_id} "
                                    f"(map_index {key.map_index}) not found.",
                                    reason="TASK_INSTANCE_NOT_FOUND")
        return task_instance_service_pb2.ListTaskInstanceTriesResponse(
            tries=[convert.try_to_proto(r) for r in rows],
            next_page_token=convert.next_token(offset, limit, len(rows)))

    async def SetDagRunState(self, request: Any, context: Ctx) -> Any:
        run = await self._core.set_dag_run_state(
            request.dag_id, request.run_id, convert.run_state_from_proto(request.state)
            if request.state else None)
        return dag_run_service_pb2.SetDagRunStateResponse(
            dag_run=convert.dag_run_to_proto(run))

    async def CancelDagRun(self, request: Any, context: Ctx) -> Any:
        run = await self._core.set_dag_run_state(request.dag_id, request.run_id,
                                                 DagRunState.FAILED, cancel=True)
        return dag_run_service_pb2.CancelDagRunResponse(dag_run=convert.dag_run_to_proto(run))

    async def DeleteDagRun(self, request: Any, context: Ctx) -> Any:
        await self._core.delete_dag_run(request.dag_id, request.run_id)
        return dag_run_service_pb2.DeleteDagRunResponse()

    async def DeleteDag(self, request: Any, context: Ctx) -> Any:
        deleted, fileloc = await self._core.delete_dag(request.dag_id)
        if fileloc:
            self._reparse(fileloc)
        return dag_service_pb2.DeleteDagResponse(deleted_runs=deleted)

    async def _tis(self, dag_id: str, run_id: str, task_ids: list[str]) -> list[Any]:
        """The named task instances as they are now (after the commit)."""
        wanted = set(task_ids)
        async with self._core.sessions() as session:
            rows = await store.list_tis(session, dag_id, run_id, 0, 100000)
        return [convert.ti_to_proto(r) for r in rows if r.task_id in wanted]


def _ti_key(request: Any) -> TIKey:
    """The task instance a request names; INVALID_ARGUMENT naming the missing key field."""
    key = convert.key_from_proto(request.key)
    for value, field in ((key.dag_id, "key.dag_id"), (key.run_id, "key.run_id"),
                         (key.task_id, "key.task_id")):
        _required(value, field)
    return key
