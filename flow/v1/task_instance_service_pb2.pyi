import datetime

from flow.v1 import common_pb2 as _common_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetRenderedTemplateFieldsRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ...) -> None: ...

class GetRenderedTemplateFieldsResponse(_message.Message):
    __slots__ = ("found", "rendered_fields", "try_number")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    RENDERED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    TRY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    found: bool
    rendered_fields: _struct_pb2.Struct
    try_number: int
    def __init__(self, found: _Optional[bool] = ..., rendered_fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., try_number: _Optional[int] = ...) -> None: ...

class ListTaskInstanceTriesRequest(_message.Message):
    __slots__ = ("key", "page_size", "page_token")
    KEY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    page_size: int
    page_token: str
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class TaskInstanceTry(_message.Message):
    __slots__ = ("key", "state", "start_date", "end_date", "duration", "worker_id", "error")
    KEY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    state: _common_pb2.TaskInstanceState
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    duration: float
    worker_id: str
    error: str
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., state: _Optional[_Union[_common_pb2.TaskInstanceState, str]] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[float] = ..., worker_id: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class ListTaskInstanceTriesResponse(_message.Message):
    __slots__ = ("tries", "next_page_token")
    TRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tries: _containers.RepeatedCompositeFieldContainer[TaskInstanceTry]
    next_page_token: str
    def __init__(self, tries: _Optional[_Iterable[_Union[TaskInstanceTry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListTaskInstancesRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "page_size", "page_token")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    page_size: int
    page_token: str
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTaskInstancesResponse(_message.Message):
    __slots__ = ("task_instances", "next_page_token")
    TASK_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    task_instances: _containers.RepeatedCompositeFieldContainer[_common_pb2.TaskInstance]
    next_page_token: str
    def __init__(self, task_instances: _Optional[_Iterable[_Union[_common_pb2.TaskInstance, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetTaskInstanceRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ...) -> None: ...

class GetTaskInstanceResponse(_message.Message):
    __slots__ = ("task_instance",)
    TASK_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    task_instance: _common_pb2.TaskInstance
    def __init__(self, task_instance: _Optional[_Union[_common_pb2.TaskInstance, _Mapping]] = ...) -> None: ...

class ReadTaskLogRequest(_message.Message):
    __slots__ = ("key", "offset", "limit")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    offset: int
    limit: int
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., offset: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ReadTaskLogResponse(_message.Message):
    __slots__ = ("content", "next_offset", "complete", "try_number")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    NEXT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    TRY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    next_offset: int
    complete: bool
    try_number: int
    def __init__(self, content: _Optional[bytes] = ..., next_offset: _Optional[int] = ..., complete: _Optional[bool] = ..., try_number: _Optional[int] = ...) -> None: ...

class FollowTaskLogRequest(_message.Message):
    __slots__ = ("key", "offset")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    offset: int
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., offset: _Optional[int] = ...) -> None: ...

class FollowTaskLogResponse(_message.Message):
    __slots__ = ("content", "next_offset")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    NEXT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    next_offset: int
    def __init__(self, content: _Optional[bytes] = ..., next_offset: _Optional[int] = ...) -> None: ...

class ClearTaskInstancesRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_regex", "include_downstream", "include_upstream", "only_failed", "dry_run")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_REGEX_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DOWNSTREAM_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_UPSTREAM_FIELD_NUMBER: _ClassVar[int]
    ONLY_FAILED_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_regex: str
    include_downstream: bool
    include_upstream: bool
    only_failed: bool
    dry_run: bool
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_regex: _Optional[str] = ..., include_downstream: _Optional[bool] = ..., include_upstream: _Optional[bool] = ..., only_failed: _Optional[bool] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ClearTaskInstancesResponse(_message.Message):
    __slots__ = ("task_instances",)
    TASK_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    task_instances: _containers.RepeatedCompositeFieldContainer[_common_pb2.TaskInstance]
    def __init__(self, task_instances: _Optional[_Iterable[_Union[_common_pb2.TaskInstance, _Mapping]]] = ...) -> None: ...

class SetTaskInstanceStateRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_id", "state", "include_upstream", "include_downstream", "dry_run")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_UPSTREAM_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DOWNSTREAM_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_id: str
    state: _common_pb2.TaskInstanceState
    include_upstream: bool
    include_downstream: bool
    dry_run: bool
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_id: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.TaskInstanceState, str]] = ..., include_upstream: _Optional[bool] = ..., include_downstream: _Optional[bool] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class SetTaskInstanceStateResponse(_message.Message):
    __slots__ = ("task_instances",)
    TASK_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    task_instances: _containers.RepeatedCompositeFieldContainer[_common_pb2.TaskInstance]
    def __init__(self, task_instances: _Optional[_Iterable[_Union[_common_pb2.TaskInstance, _Mapping]]] = ...) -> None: ...
