"""All proto <-> domain conversion of the scheduler, in one place.

ORM rows and index records share attribute names, so one function serves both.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format, struct_pb2, timestamp_pb2

from flow.errors import InvalidArgumentError
from flow.states import DagRunState, DagRunType, TaskInstanceState
from flow.v1 import (
    backfill_service_pb2,
    common_pb2,
    connection_service_pb2,
    dispatch_pb2,
    task_instance_service_pb2,
    variable_service_pb2,
    xcom_service_pb2,
)
from services.scheduler.connections import ConnectionRecord
from services.scheduler.core.types import Change, DagSpec, Dispatch, TaskResult, TIKey
from services.scheduler.variables import VariableRecord


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value.astimezone(UTC))
    return ts


def from_timestamp(ts: timestamp_pb2.Timestamp, present: bool = True) -> datetime | None:
    if not present or (ts.seconds == 0 and ts.nanos == 0):
        return None
    return ts.ToDatetime(tzinfo=UTC)


def ti_state_to_proto(state: TaskInstanceState | None) -> int:
    if state is None:
        return 0
    return int(common_pb2.TaskInstanceState.Value(f"TASK_INSTANCE_STATE_{state.name}"))


def ti_state_from_proto(value: int) -> TaskInstanceState | None:
    if value == 0:
        return None
    name = common_pb2.TaskInstanceState.Name(value).removeprefix("TASK_INSTANCE_STATE_")
    return TaskInstanceState[name]


def run_state_to_proto(state: DagRunState) -> int:
    return int(common_pb2.DagRunState.Value(f"DAG_RUN_STATE_{state.name}"))


def try_to_proto(row: Any) -> task_instance_service_pb2.TaskInstanceTry:
    """One finished try (a task_instance_history row)."""
    return task_instance_service_pb2.TaskInstanceTry(
        key=common_pb2.TaskInstanceKey(dag_id=row.dag_id, run_id=row.run_id,
                                       task_id=row.task_id, map_index=row.map_index,
                                       try_number=row.try_number),
        state=ti_state_to_proto(row.state), start_date=timestamp(row.start_date),
        end_date=timestamp(row.end_date), duration=row.duration or 0.0,
        worker_id=row.worker_id or "", error=row.error or "")


def run_state_from_proto(value: int) -> DagRunState:
    return DagRunState[common_pb2.DagRunState.Name(value).removeprefix("DAG_RUN_STATE_")]


def struct(value: dict[str, Any] | None) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    if value:
        out.update(value)
    return out


def from_struct(value: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as JSON data. Struct keeps every number as a double; whole numbers come back
    as ints, so a conf of {"days": 3} reads as 3 (not 3.0) in params and templates."""
    return dict(_whole_numbers(json_format.MessageToDict(value)))


def _whole_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def key_from_proto(key: common_pb2.TaskInstanceKey) -> TIKey:
    return TIKey(key.dag_id, key.run_id, key.task_id, key.map_index)


def key_to_proto(key: TIKey, try_number: int = 0) -> common_pb2.TaskInstanceKey:
    return common_pb2.TaskInstanceKey(dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id,
                                      map_index=key.map_index, try_number=try_number)


def dag_run_to_proto(run: Any) -> common_pb2.DagRun:
    """From a DagRun row or a RunRecord."""
    run_type = DagRunType(str(run.run_type))
    return common_pb2.DagRun(
        dag_id=run.dag_id, run_id=run.run_id, state=run_state_to_proto(run.state),
        run_type=int(common_pb2.DagRunType.Value(f"DAG_RUN_TYPE_{run_type.name}")),
        logical_date=timestamp(run.logical_date), queued_at=timestamp(run.queued_at),
        start_date=timestamp(run.start_date), end_date=timestamp(run.end_date),
        conf=struct(run.conf), data_interval_start=timestamp(run.data_interval_start),
        data_interval_end=timestamp(run.data_interval_end), backfill_id=run.backfill_id or 0)


REPROCESS = {"none": backfill_service_pb2.REPROCESS_BEHAVIOR_NONE,
             "failed": backfill_service_pb2.REPROCESS_BEHAVIOR_FAILED,
             "completed": backfill_service_pb2.REPROCESS_BEHAVIOR_COMPLETED}
BACKFILL_STATES = {"running": backfill_service_pb2.BACKFILL_STATE_RUNNING,
                   "completed": backfill_service_pb2.BACKFILL_STATE_COMPLETED,
                   "cancelled": backfill_service_pb2.BACKFILL_STATE_CANCELLED}
BACKFILL_ACTIONS = {"create": backfill_service_pb2.BACKFILL_RUN_ACTION_CREATE,
                    "reprocess": backfill_service_pb2.BACKFILL_RUN_ACTION_REPROCESS,
                    "skip": backfill_service_pb2.BACKFILL_RUN_ACTION_SKIP}


def reprocess_from_proto(value: int) -> str:
    """The reprocess behaviour's name; unspecified means none."""
    for name, number in REPROCESS.items():
        if number == value:
            return name
    if value == backfill_service_pb2.REPROCESS_BEHAVIOR_UNSPECIFIED:
        return "none"
    raise InvalidArgumentError(f"Unknown reprocess_behavior {value}.", field="reprocess_behavior")


def backfill_to_proto(row: Any) -> backfill_service_pb2.Backfill:
    return backfill_service_pb2.Backfill(
        id=row.id, dag_id=row.dag_id, from_date=timestamp(row.from_date),
        to_date=timestamp(row.to_date), reprocess_behavior=REPROCESS.get(
            row.reprocess_behavior, 0), max_active_runs=row.max_active_runs,
        state=BACKFILL_STATES.get(row.state, 0), created_at=timestamp(row.created_at),
        completed_at=timestamp(row.completed_at), dag_run_conf=struct(row.dag_run_conf))


def backfill_run_to_proto(planned: Any) -> backfill_service_pb2.BackfillRun:
    return backfill_service_pb2.BackfillRun(
        logical_date=timestamp(planned.logical_date), action=BACKFILL_ACTIONS[planned.action],
        run_id=planned.run_id, reason=planned.reason)


def ti_to_proto(ti: Any) -> common_pb2.TaskInstance:
    """From a TaskInstance row (ORM or a RETURNING row)."""
    return common_pb2.TaskInstance(
        key=common_pb2.TaskInstanceKey(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id,
                                       map_index=ti.map_index, try_number=ti.try_number),
        state=ti_state_to_proto(TaskInstanceState(ti.state)), operator=ti.operator,
        queue=ti.queue, start_date=timestamp(ti.start_date), end_date=timestamp(ti.end_date),
        duration=ti.duration or 0.0, hostname=ti.hostname or "", max_tries=ti.max_tries,
        pool=ti.pool, queued_at=timestamp(ti.queued_at), pool_slots=ti.pool_slots)


def dag_to_proto(dag: Any, serialized: str | None = None) -> common_pb2.Dag:
    """From a Dag row; `serialized` (the stored JSON) fills the tasks."""
    out = common_pb2.Dag(
        dag_id=dag.dag_id, fileloc=dag.fileloc, description=dag.description or "",
        is_paused=dag.is_paused, is_active=dag.is_active, schedule=dag.schedule or "None",
        tags=list(dag.tags or []), owners=list(dag.owners or []),
        last_parsed_time=timestamp(dag.last_parsed_time), doc_md=dag.doc_md or "",
        next_dagrun=timestamp(dag.next_dagrun),
        next_dagrun_data_interval_start=timestamp(dag.next_dagrun_data_interval_start),
        next_dagrun_data_interval_end=timestamp(dag.next_dagrun_data_interval_end),
        next_dagrun_create_after=timestamp(dag.next_dagrun_create_after))
    if serialized:
        spec = DagSpec.from_json(serialized)
        out.timezone, out.catchup = spec.timezone, spec.catchup
        out.max_active_runs = spec.max_active_runs
        docs = {t["task_id"]: t.get("doc_md") or "" for t in json.loads(serialized)["tasks"]}
        for task in spec.tasks.values():
            out.tasks.append(common_pb2.Task(
                task_id=task.task_id, operator=task.operator,
                upstream_task_ids=list(task.upstream), downstream_task_ids=list(task.downstream),
                trigger_rule=task.trigger_rule, queue=task.queue, retries=task.retries,
                pool=task.pool, is_mapped=task.map_sources is not None,
                doc_md=docs.get(task.task_id, "")))
        out.params.CopyFrom(struct(spec.params))
    return out


def import_error_to_proto(row: Any) -> common_pb2.ImportError:
    return common_pb2.ImportError(filename=row.filename, stacktrace=row.stacktrace,
                                  timestamp=timestamp(row.timestamp))


def change_to_proto(change: Change) -> common_pb2.StateChange:
    out = common_pb2.StateChange(dag_id=change.dag_id, run_id=change.run_id,
                                 dag_run_state=run_state_to_proto(change.run_state),
                                 timestamp=timestamp(change.timestamp))
    if change.key is not None:
        out.task_instance_key.CopyFrom(key_to_proto(change.key, change.try_number))
        out.task_instance_state = ti_state_to_proto(change.ti_state)
    return out


def dispatch_to_proto(dispatch: Dispatch) -> dispatch_pb2.TaskDispatch:
    out = dispatch_pb2.TaskDispatch(
        key=key_to_proto(dispatch.key, dispatch.try_number), fileloc=dispatch.fileloc,
        queue=dispatch.queue, execution_timeout_seconds=dispatch.execution_timeout or 0.0,
        queued_at=timestamp(dispatch.queued_at), logical_date=timestamp(dispatch.logical_date),
        conf_json=json.dumps(dispatch.conf), max_tries=dispatch.max_tries)
    out.rescheduled = dispatch.rescheduled
    if dispatch.callback:
        out.dag_callback.CopyFrom(dispatch_pb2.DagCallbackRequest(
            callback=dispatch.callback, reason=dispatch.callback_reason))
    return out


def event_to_result(event: dispatch_pb2.TaskEvent) -> TaskResult:
    """A TaskEvent from the results stream; ValueError when it is not a usable event."""
    state = ti_state_from_proto(event.state)
    if state not in (TaskInstanceState.SUCCESS, TaskInstanceState.FAILED,
                     TaskInstanceState.SKIPPED, TaskInstanceState.UP_FOR_RESCHEDULE):
        raise ValueError(f"task event with state {state}")
    reschedule = from_timestamp(event.reschedule_date, event.HasField("reschedule_date"))
    if state == TaskInstanceState.UP_FOR_RESCHEDULE and reschedule is None:
        raise ValueError("task event up_for_reschedule without a reschedule_date")
    if not (event.key.dag_id and event.key.run_id and event.key.task_id):
        raise ValueError("task event without a complete key")
    error = ""
    if event.HasField("error") and (event.error.type or event.error.message):
        error = f"{event.error.type}: {event.error.message}".strip(": ")
        if event.error.traceback:
            error = f"{event.error.traceback.rstrip()}\n{error}"
    return TaskResult(
        key=key_from_proto(event.key), try_number=event.key.try_number, state=state,
        start_date=from_timestamp(event.start_date, event.HasField("start_date")),
        end_date=from_timestamp(event.end_date, event.HasField("end_date")),
        worker_id=event.worker_id, error=error,
        non_retryable=event.HasField("error") and event.error.non_retryable,
        skip_task_ids=tuple(event.skip_task_ids) if state == TaskInstanceState.SUCCESS else (),
        rendered_fields=_json_object(event.rendered_fields_json),
        reschedule_date=reschedule)


def _json_object(text: str) -> dict[str, Any] | None:
    """A JSON object from a worker, or None when empty or not an object."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def page(size: int, token: str, *, default: int = 100, maximum: int = 1000) -> tuple[int, int]:
    """(offset, limit) from a request's page_size and opaque page_token."""
    if size < 0:
        raise InvalidArgumentError("page_size must not be negative.", field="page_size")
    offset = 0
    if token:
        try:
            offset = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("o:"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidArgumentError("page_token is not one this service issued.",
                                       field="page_token") from exc
    return offset, min(size or default, maximum)


def next_token(offset: int, limit: int, returned: int) -> str:
    if returned < limit:
        return ""
    return base64.urlsafe_b64encode(f"o:{offset + returned}".encode()).decode()


def variable_to_proto(record: Any) -> variable_service_pb2.Variable:
    return variable_service_pb2.Variable(key=record.key, value=record.value,
                                         description=record.description)


def variable_from_proto(message: variable_service_pb2.Variable) -> VariableRecord:
    return VariableRecord(message.key, message.value, message.description)


def connection_to_proto(record: Any) -> connection_service_pb2.Connection:
    return connection_service_pb2.Connection(
        conn_id=record.conn_id, conn_type=record.conn_type, description=record.description,
        host=record.host, schema=record.schema, login=record.login, password=record.password,
        port=record.port or 0, extra=record.extra)


def connection_from_proto(message: connection_service_pb2.Connection) -> ConnectionRecord:
    return ConnectionRecord(
        conn_id=message.conn_id, conn_type=message.conn_type, description=message.description,
        host=message.host, schema=message.schema, login=message.login,
        password=message.password, port=message.port or None, extra=message.extra)


def xcom_to_proto(row: Any) -> xcom_service_pb2.XComEntry:
    return xcom_service_pb2.XComEntry(
        dag_id=row.dag_id, run_id=row.run_id, task_id=row.task_id, map_index=row.map_index,
        key=row.key, value=row.value, content_type=row.content_type,
        timestamp=timestamp(row.timestamp))
