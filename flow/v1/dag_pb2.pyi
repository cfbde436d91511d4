from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DagSpec(_message.Message):
    __slots__ = ("dag_id", "description", "schedule", "tags", "params", "tasks", "doc_md", "max_active_runs")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    DOC_MD_FIELD_NUMBER: _ClassVar[int]
    MAX_ACTIVE_RUNS_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    description: str
    schedule: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    params: _struct_pb2.Struct
    tasks: _containers.RepeatedCompositeFieldContainer[TaskSpec]
    doc_md: str
    max_active_runs: int
    def __init__(self, dag_id: _Optional[str] = ..., description: _Optional[str] = ..., schedule: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., tasks: _Optional[_Iterable[_Union[TaskSpec, _Mapping]]] = ..., doc_md: _Optional[str] = ..., max_active_runs: _Optional[int] = ...) -> None: ...

class TaskSpec(_message.Message):
    __slots__ = ("task_id", "upstream_task_ids", "trigger_rule", "retries", "retry_delay_seconds", "queue", "pool", "execution_timeout_seconds", "params", "command", "http", "python")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_RULE_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    RETRY_DELAY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    HTTP_FIELD_NUMBER: _ClassVar[int]
    PYTHON_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    upstream_task_ids: _containers.RepeatedScalarFieldContainer[str]
    trigger_rule: str
    retries: int
    retry_delay_seconds: float
    queue: str
    pool: str
    execution_timeout_seconds: float
    params: _struct_pb2.Struct
    command: CommandTask
    http: HttpTask
    python: PythonTask
    def __init__(self, task_id: _Optional[str] = ..., upstream_task_ids: _Optional[_Iterable[str]] = ..., trigger_rule: _Optional[str] = ..., retries: _Optional[int] = ..., retry_delay_seconds: _Optional[float] = ..., queue: _Optional[str] = ..., pool: _Optional[str] = ..., execution_timeout_seconds: _Optional[float] = ..., params: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., command: _Optional[_Union[CommandTask, _Mapping]] = ..., http: _Optional[_Union[HttpTask, _Mapping]] = ..., python: _Optional[_Union[PythonTask, _Mapping]] = ...) -> None: ...

class CommandTask(_message.Message):
    __slots__ = ("command", "env", "cwd")
    class EnvEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    CWD_FIELD_NUMBER: _ClassVar[int]
    command: str
    env: _containers.ScalarMap[str, str]
    cwd: str
    def __init__(self, command: _Optional[str] = ..., env: _Optional[_Mapping[str, str]] = ..., cwd: _Optional[str] = ...) -> None: ...

class HttpTask(_message.Message):
    __slots__ = ("method", "url", "headers", "body", "expected_status", "timeout_seconds")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    METHOD_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_STATUS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    method: str
    url: str
    headers: _containers.ScalarMap[str, str]
    body: str
    expected_status: _containers.RepeatedScalarFieldContainer[int]
    timeout_seconds: float
    def __init__(self, method: _Optional[str] = ..., url: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., body: _Optional[str] = ..., expected_status: _Optional[_Iterable[int]] = ..., timeout_seconds: _Optional[float] = ...) -> None: ...

class PythonTask(_message.Message):
    __slots__ = ("callable", "kwargs")
    CALLABLE_FIELD_NUMBER: _ClassVar[int]
    KWARGS_FIELD_NUMBER: _ClassVar[int]
    callable: str
    kwargs: _struct_pb2.Struct
    def __init__(self, callable: _Optional[str] = ..., kwargs: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
