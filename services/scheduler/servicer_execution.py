"""TaskExecutionService: what workers call (claim attempts, XCom, variables, connections,
trigger and read DAG runs for TriggerDagRunOperator; rendered fields to read). Thin."""

from __future__ import annotations

import json
from typing import Any

import grpc

from flow.errors import FlowError, InvalidArgumentError, NotFoundError
from flow.v1 import dag_run_service_pb2, task_execution_service_pb2, task_execution_service_pb2_grpc
from services.scheduler import convert, store
from services.scheduler.connections import Connections
from services.scheduler.core.commands import ClaimRequest
from services.scheduler.core.event_applier import SchedulingCore
from services.scheduler.dag_specs import DagSpecs
from services.scheduler.variables import Variables

Ctx = grpc.aio.ServicerContext[Any, Any]
pb = task_execution_service_pb2


class TaskExecutionServicer(task_execution_service_pb2_grpc.TaskExecutionServiceServicer):  # type: ignore[misc]
    def __init__(self, core: SchedulingCore, variables: Variables,
                 connections: Connections, specs: DagSpecs | None = None) -> None:
        self._core = core
        self._specs = specs or DagSpecs(core)
        self._variables = variables
        self._connections = connections

    async def ClaimAttempt(self, request: Any, context: Ctx) -> Any:
        run, ti = await self._core.claim_attempt(_claim_request(request))
        return await self._claimed(run, ti)

    async def ClaimAttempts(self, request: Any, context: Ctx) -> Any:
        if not request.claims:
            raise InvalidArgumentError("claims must hold at least one claim.", field="claims")
        outcomes = await self._core.claim_attempts([_claim_request(c) for c in request.claims])
        response = task_execution_service_pb2.ClaimAttemptsResponse()
        runs: dict[int, Any] = {}  # claims of one run (a fan-out's) share its message
        for outcome in outcomes:
            if isinstance(outcome, FlowError):
                response.outcomes.add(error=task_execution_service_pb2.ClaimError(
                    code=int(outcome.code), message=outcome.message, reason=outcome.reason))
            else:
                run, ti = outcome
                if id(run) not in runs:
                    runs[id(run)] = convert.dag_run_to_proto(run)
                response.outcomes.add(claim=await self._claimed(run, ti, runs[id(run)]))
        return response

    async def _claimed(self, run: Any, ti: Any, dag_run: Any = None) -> Any:
        """The claim's answer; for a DAG submitted as data, with the task's spec (the
        worker builds the task from it instead of importing a file)."""
        answer = task_execution_service_pb2.ClaimAttemptResponse(
            dag_run=dag_run if dag_run is not None else convert.dag_run_to_proto(run),
            task_instance=convert.ti_to_proto(ti))
        spec = await self._specs.task_spec(run, ti.task_id)
        if spec is not None:
            answer.dag_spec.CopyFrom(spec)
        return answer

    async def PushXCom(self, request: Any, context: Ctx) -> Any:
        await self._core.push_xcom(convert.key_from_proto(request.key), request.xcom_key,
                                   request.value, request.content_type)
        return pb.PushXComResponse()

    async def PullXCom(self, request: Any, context: Ctx) -> Any:
        key = convert.key_from_proto(request.key)
        if not (key.dag_id and key.run_id and key.task_id and request.xcom_key):
            raise InvalidArgumentError("key (dag_id, run_id, task_id) and xcom_key are required.",
                                       field="key")
        if request.all_map_indexes:
            async with self._core.sessions() as session:
                rows = await store.mapped_xcoms(session, key.dag_id, key.run_id, key.task_id,
                                                request.xcom_key)
            # Stored values are JSON already: the list is written around them, not re-parsed.
            return pb.PullXComResponse(found=True, content_type="application/json",
                                       value=b"[" + b",".join(r.value for r in rows) + b"]")
        async with self._core.sessions() as session:
            row = await store.get_xcom(session, key, request.xcom_key)
        if row is None:
            return pb.PullXComResponse(found=False)
        return pb.PullXComResponse(found=True, value=row.value, content_type=row.content_type)

    async def GetTaskVariable(self, request: Any, context: Ctx) -> Any:
        record = await self._variables.get(request.variable_key)
        return pb.GetTaskVariableResponse(variable=convert.variable_to_proto(record))

    async def SetTaskVariable(self, request: Any, context: Ctx) -> Any:
        await self._variables.set(convert.variable_from_proto(request.variable))
        return pb.SetTaskVariableResponse()

    async def GetTaskConnection(self, request: Any, context: Ctx) -> Any:
        record = await self._connections.get(request.conn_id)
        return pb.GetTaskConnectionResponse(connection=convert.connection_to_proto(record))

    async def GetRenderedFields(self, request: Any, context: Ctx) -> Any:
        key = convert.key_from_proto(request.key)
        async with self._core.sessions() as session:
            row = await store.get_rendered_fields(session, key)
        if row is None:
            return pb.GetRenderedFieldsResponse(found=False)
        return pb.GetRenderedFieldsResponse(
            found=True, rendered_fields_json=json.dumps(row.rendered_fields),
            try_number=row.try_number)

    async def TriggerDagRun(self, request: Any, context: Ctx) -> Any:
        if not request.dag_id:
            raise InvalidArgumentError("dag_id is required.", field="dag_id")
        run = await self._core.trigger_dag_run(
            request.dag_id, request.run_id,
            convert.from_struct(request.conf) if request.HasField("conf") else {},
            convert.from_timestamp(request.logical_date, request.HasField("logical_date")))
        return dag_run_service_pb2.TriggerDagRunResponse(dag_run=convert.dag_run_to_proto(run))

    async def GetDagRun(self, request: Any, context: Ctx) -> Any:
        if not (request.dag_id and request.run_id):
            raise InvalidArgumentError("dag_id and run_id are required.", field="dag_id")
        async with self._core.sessions() as session:
            row = await store.find_run(session, request.dag_id, request.run_id)
        if row is None:
            raise NotFoundError(f"DAG run '{request.run_id}' of DAG '{request.dag_id}' not "
                                "found.", reason="DAG_RUN_NOT_FOUND")
        return dag_run_service_pb2.GetDagRunResponse(dag_run=convert.dag_run_to_proto(row))


    async def GetExternalTaskStates(self, request: Any, context: Ctx) -> Any:
        if not request.dag_id:
            raise InvalidArgumentError("dag_id is required.", field="dag_id")
        if not request.HasField("logical_date"):
            raise InvalidArgumentError("logical_date is required.", field="logical_date")
        logical = convert.from_timestamp(request.logical_date, True)
        assert logical is not None
        async with self._core.sessions() as session:
            row = await store.run_at(session, request.dag_id, logical)
            states = await store.ti_states(session, request.dag_id, row.run_id,
                                           list(request.task_ids)) if row else {}
        response = task_execution_service_pb2.GetExternalTaskStatesResponse(found=row is not None)
        if row is not None:
            response.run_id = row.run_id
            response.run_state = convert.run_state_to_proto(row.state)
            for task_id, state in states.items():
                response.task_states[task_id] = convert.ti_state_to_proto(state)
        return response


def _claim_request(request: Any) -> ClaimRequest:
    return ClaimRequest(convert.key_from_proto(request.key), request.key.try_number,
                        request.worker_id, request.hostname)

