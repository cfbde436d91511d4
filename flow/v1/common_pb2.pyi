import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskInstanceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_INSTANCE_STATE_UNSPECIFIED: _ClassVar[TaskInstanceState]
    TASK_INSTANCE_STATE_NONE: _ClassVar[TaskInstanceState]
    TASK_INSTANCE_STATE_SCHEDULED: _ClassVar[TaskInstanceState]
    TASK_INSTANCE_STATE_QUEUED: _ClassVar[TaskInstanceState]
    TASK_INSTANCE_STATE_RUNNING: _ClassVar[TaskInstanceState]
    TASK_INSTANCE_STATE_SUCCESS: _ClassVar[TaskInstanceState]
    TASK_INSTANCE_STATE_FAILED: _ClassVar[TaskInstanceState]
    TASK_INSTANCE_STATE_UP_FOR_RETRY: _ClassVar[TaskInstanceState]
    TASK_INSTANCE_STATE_UP_FOR_RESCHEDULE: _ClassVar[TaskInstanceState]
    TASK_INSTANCE_STATE_UPSTREAM_FAILED: _ClassVar[TaskInstanceState]
    TASK_INSTANCE_STATE_SKIPPED: _ClassVar[TaskInstanceState]
    TASK_INSTANCE_STATE_REMOVED: _ClassVar[TaskInstanceState]

class DagRunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DAG_RUN_STATE_UNSPECIFIED: _ClassVar[DagRunState]
    DAG_RUN_STATE_QUEUED: _ClassVar[DagRunState]
    DAG_RUN_STATE_RUNNING: _ClassVar[DagRunState]
    DAG_RUN_STATE_SUCCESS: _ClassVar[DagRunState]
    DAG_RUN_STATE_FAILED: _ClassVar[DagRunState]

class DagRunType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DAG_RUN_TYPE_UNSPECIFIED: _ClassVar[DagRunType]
    DAG_RUN_TYPE_MANUAL: _ClassVar[DagRunType]
    DAG_RUN_TYPE_SCHEDULED: _ClassVar[DagRunType]
    DAG_RUN_TYPE_BACKFILL: _ClassVar[DagRunType]
    DAG_RUN_TYPE_ASSET_TRIGGERED: _ClassVar[DagRunType]
TASK_INSTANCE_STATE_UNSPECIFIED: TaskInstanceState
TASK_INSTANCE_STATE_NONE: TaskInstanceState
TASK_INSTANCE_STATE_SCHEDULED: TaskInstanceState
TASK_INSTANCE_STATE_QUEUED: TaskInstanceState
TASK_INSTANCE_STATE_RUNNING: TaskInstanceState
TASK_INSTANCE_STATE_SUCCESS: TaskInstanceState
TASK_INSTANCE_STATE_FAILED: TaskInstanceState
TASK_INSTANCE_STATE_UP_FOR_RETRY: TaskInstanceState
TASK_INSTANCE_STATE_UP_FOR_RESCHEDULE: TaskInstanceState
TASK_INSTANCE_STATE_UPSTREAM_FAILED: TaskInstanceState
TASK_INSTANCE_STATE_SKIPPED: TaskInstanceState
TASK_INSTANCE_STATE_REMOVED: TaskInstanceState
DAG_RUN_STATE_UNSPECIFIED: DagRunState
DAG_RUN_STATE_QUEUED: DagRunState
DAG_RUN_STATE_RUNNING: DagRunState
DAG_RUN_STATE_SUCCESS: DagRunState
DAG_RUN_STATE_FAILED: DagRunState
DAG_RUN_TYPE_UNSPECIFIED: DagRunType
DAG_RUN_TYPE_MANUAL: DagRunType
DAG_RUN_TYPE_SCHEDULED: DagRunType
DAG_RUN_TYPE_BACKFILL: DagRunType
DAG_RUN_TYPE_ASSET_TRIGGERED: DagRunType

class TaskInstanceKey(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_id", "map_index", "try_number")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    TRY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_id: _Optional[str] = ..., map_index: _Optional[int] = ..., try_number: _Optional[int] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("task_id", "operator", "upstream_task_ids", "downstream_task_ids", "trigger_rule", "queue", "retries", "pool", "is_mapped", "doc_md")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    DOWNSTREAM_TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_RULE_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    IS_MAPPED_FIELD_NUMBER: _ClassVar[int]
    DOC_MD_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    operator: str
    upstream_task_ids: _containers.RepeatedScalarFieldContainer[str]
    downstream_task_ids: _containers.RepeatedScalarFieldContainer[str]
    trigger_rule: str
    queue: str
    retries: int
    pool: str
    is_mapped: bool
    doc_md: str
    def __init__(self, task_id: _Optional[str] = ..., operator: _Optional[str] = ..., upstream_task_ids: _Optional[_Iterable[str]] = ..., downstream_task_ids: _Optional[_Iterable[str]] = ..., trigger_rule: _Optional[str] = ..., queue: _Optional[str] = ..., retries: _Optional[int] = ..., pool: _Optional[str] = ..., is_mapped: _Optional[bool] = ..., doc_md: _Optional[str] = ...) -> None: ...

class Dag(_message.Message):
    __slots__ = ("dag_id", "fileloc", "description", "is_paused", "is_active", "schedule", "tags", "owners", "last_parsed_time", "tasks", "doc_md", "next_dagrun", "next_dagrun_data_interval_start", "next_dagrun_data_interval_end", "next_dagrun_create_after", "timezone", "catchup", "max_active_runs", "params")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    FILELOC_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    IS_PAUSED_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    OWNERS_FIELD_NUMBER: _ClassVar[int]
    LAST_PARSED_TIME_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    DOC_MD_FIELD_NUMBER: _ClassVar[int]
    NEXT_DAGRUN_FIELD_NUMBER: _ClassVar[int]
    NEXT_DAGRUN_DATA_INTERVAL_START_FIELD_NUMBER: _ClassVar[int]
    NEXT_DAGRUN_DATA_INTERVAL_END_FIELD_NUMBER: _ClassVar[int]
    NEXT_DAGRUN_CREATE_AFTER_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    CATCHUP_FIELD_NUMBER: _ClassVar[int]
    MAX_ACTIVE_RUNS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    fileloc: str
    description: str
    is_paused: bool
    is_active: bool
    schedule: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    owners: _containers.RepeatedScalarFieldContainer[str]
    last_parsed_time: _timestamp_pb2.Timestamp
    tasks: _containers.RepeatedCompositeFieldContainer[Task]
    doc_md: str
    next_dagrun: _timestamp_pb2.Timestamp
    next_dagrun_data_interval_start: _timestamp_pb2.Timestamp
    next_dagrun_data_interval_end: _timestamp_pb2.Timestamp
    next_dagrun_create_after: _timestamp_pb2.Timestamp
    timezone: str
    catchup: bool
    max_active_runs: int
    params: _struct_pb2.Struct
    def __init__(self, dag_id: _Optional[str] = ..., fileloc: _Optional[str] = ..., description: _Optional[str] = ..., is_paused: _Optional[bool] = ..., is_active: _Optional[bool] = ..., schedule: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., owners: _Optional[_Iterable[str]] = ..., last_parsed_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tasks: _Optional[_Iterable[_Union[Task, _Mapping]]] = ..., doc_md: _Optional[str] = ..., next_dagrun: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_dagrun_data_interval_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_dagrun_data_interval_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_dagrun_create_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., timezone: _Optional[str] = ..., catchup: _Optional[bool] = ..., max_active_runs: _Optional[int] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class DagRun(_message.Message):
    __slots__ = ("dag_id", "run_id", "state", "run_type", "logical_date", "queued_at", "start_date", "end_date", "conf", "data_interval_start", "data_interval_end", "backfill_id")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RUN_TYPE_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_DATE_FIELD_NUMBER: _ClassVar[int]
    QUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    CONF_FIELD_NUMBER: _ClassVar[int]
    DATA_INTERVAL_START_FIELD_NUMBER: _ClassVar[int]
    DATA_INTERVAL_END_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    state: DagRunState
    run_type: DagRunType
    logical_date: _timestamp_pb2.Timestamp
    queued_at: _timestamp_pb2.Timestamp
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    conf: _struct_pb2.Struct
    data_interval_start: _timestamp_pb2.Timestamp
    data_interval_end: _timestamp_pb2.Timestamp
    backfill_id: int
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., state: _Optional[_Union[DagRunState, str]] = ..., run_type: _Optional[_Union[DagRunType, str]] = ..., logical_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., queued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., conf: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., data_interval_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_interval_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., backfill_id: _Optional[int] = ...) -> None: ...

class TaskInstance(_message.Message):
    __slots__ = ("key", "state", "operator", "queue", "start_date", "end_date", "duration", "hostname", "max_tries", "pool", "queued_at", "pool_slots")
    KEY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    MAX_TRIES_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    QUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    POOL_SLOTS_FIELD_NUMBER: _ClassVar[int]
    key: TaskInstanceKey
    state: TaskInstanceState
    operator: str
    queue: str
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    duration: float
    hostname: str
    max_tries: int
    pool: str
    queued_at: _timestamp_pb2.Timestamp
    pool_slots: int
    def __init__(self, key: _Optional[_Union[TaskInstanceKey, _Mapping]] = ..., state: _Optional[_Union[TaskInstanceState, str]] = ..., operator: _Optional[str] = ..., queue: _Optional[str] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[float] = ..., hostname: _Optional[str] = ..., max_tries: _Optional[int] = ..., pool: _Optional[str] = ..., queued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pool_slots: _Optional[int] = ...) -> None: ...

class ImportError(_message.Message):
    __slots__ = ("filename", "stacktrace", "timestamp")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    STACKTRACE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    filename: str
    stacktrace: str
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, filename: _Optional[str] = ..., stacktrace: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StateChange(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_instance_key", "task_instance_state", "dag_run_state", "timestamp")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_INSTANCE_KEY_FIELD_NUMBER: _ClassVar[int]
    TASK_INSTANCE_STATE_FIELD_NUMBER: _ClassVar[int]
    DAG_RUN_STATE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_instance_key: TaskInstanceKey
    task_instance_state: TaskInstanceState
    dag_run_state: DagRunState
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_instance_key: _Optional[_Union[TaskInstanceKey, _Mapping]] = ..., task_instance_state: _Optional[_Union[TaskInstanceState, str]] = ..., dag_run_state: _Optional[_Union[DagRunState, str]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
