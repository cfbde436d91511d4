import datetime

from flow.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskDispatch(_message.Message):
    __slots__ = ("key", "fileloc", "queue", "execution_timeout_seconds", "queued_at", "logical_date", "conf_json", "max_tries", "dag_callback", "rescheduled")
    KEY_FIELD_NUMBER: _ClassVar[int]
    FILELOC_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    QUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_DATE_FIELD_NUMBER: _ClassVar[int]
    CONF_JSON_FIELD_NUMBER: _ClassVar[int]
    MAX_TRIES_FIELD_NUMBER: _ClassVar[int]
    DAG_CALLBACK_FIELD_NUMBER: _ClassVar[int]
    RESCHEDULED_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    fileloc: str
    queue: str
    execution_timeout_seconds: float
    queued_at: _timestamp_pb2.Timestamp
    logical_date: _timestamp_pb2.Timestamp
    conf_json: str
    max_tries: int
    dag_callback: DagCallbackRequest
    rescheduled: bool
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., fileloc: _Optional[str] = ..., queue: _Optional[str] = ..., execution_timeout_seconds: _Optional[float] = ..., queued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., logical_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., conf_json: _Optional[str] = ..., max_tries: _Optional[int] = ..., dag_callback: _Optional[_Union[DagCallbackRequest, _Mapping]] = ..., rescheduled: _Optional[bool] = ...) -> None: ...

class DagCallbackRequest(_message.Message):
    __slots__ = ("callback", "reason")
    CALLBACK_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    callback: str
    reason: str
    def __init__(self, callback: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class TaskError(_message.Message):
    __slots__ = ("type", "message", "traceback", "non_retryable")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TRACEBACK_FIELD_NUMBER: _ClassVar[int]
    NON_RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    type: str
    message: str
    traceback: str
    non_retryable: bool
    def __init__(self, type: _Optional[str] = ..., message: _Optional[str] = ..., traceback: _Optional[str] = ..., non_retryable: _Optional[bool] = ...) -> None: ...

class TaskEvent(_message.Message):
    __slots__ = ("key", "state", "start_date", "end_date", "worker_id", "error", "xcom_keys", "exit_code", "skip_task_ids", "rendered_fields_json", "reschedule_date")
    KEY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    XCOM_KEYS_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    SKIP_TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    RENDERED_FIELDS_JSON_FIELD_NUMBER: _ClassVar[int]
    RESCHEDULE_DATE_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    state: _common_pb2.TaskInstanceState
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    worker_id: str
    error: TaskError
    xcom_keys: _containers.RepeatedScalarFieldContainer[str]
    exit_code: int
    skip_task_ids: _containers.RepeatedScalarFieldContainer[str]
    rendered_fields_json: str
    reschedule_date: _timestamp_pb2.Timestamp
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., state: _Optional[_Union[_common_pb2.TaskInstanceState, str]] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., worker_id: _Optional[str] = ..., error: _Optional[_Union[TaskError, _Mapping]] = ..., xcom_keys: _Optional[_Iterable[str]] = ..., exit_code: _Optional[int] = ..., skip_task_ids: _Optional[_Iterable[str]] = ..., rendered_fields_json: _Optional[str] = ..., reschedule_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
