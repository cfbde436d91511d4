import datetime

from flow.v1 import common_pb2 as _common_pb2
from flow.v1 import dag_pb2 as _dag_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DagSpecVersion(_message.Message):
    __slots__ = ("dag_id", "version", "created_at", "spec_hash")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SPEC_HASH_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    version: int
    created_at: _timestamp_pb2.Timestamp
    spec_hash: str
    def __init__(self, dag_id: _Optional[str] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., spec_hash: _Optional[str] = ...) -> None: ...

class SubmitDagSpecRequest(_message.Message):
    __slots__ = ("spec",)
    SPEC_FIELD_NUMBER: _ClassVar[int]
    spec: _dag_pb2.DagSpec
    def __init__(self, spec: _Optional[_Union[_dag_pb2.DagSpec, _Mapping]] = ...) -> None: ...

class SubmitDagSpecResponse(_message.Message):
    __slots__ = ("version", "created", "dag")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    DAG_FIELD_NUMBER: _ClassVar[int]
    version: DagSpecVersion
    created: bool
    dag: _common_pb2.Dag
    def __init__(self, version: _Optional[_Union[DagSpecVersion, _Mapping]] = ..., created: _Optional[bool] = ..., dag: _Optional[_Union[_common_pb2.Dag, _Mapping]] = ...) -> None: ...

class GetDagSpecRequest(_message.Message):
    __slots__ = ("dag_id", "version")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    version: int
    def __init__(self, dag_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetDagSpecResponse(_message.Message):
    __slots__ = ("spec", "version")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    spec: _dag_pb2.DagSpec
    version: DagSpecVersion
    def __init__(self, spec: _Optional[_Union[_dag_pb2.DagSpec, _Mapping]] = ..., version: _Optional[_Union[DagSpecVersion, _Mapping]] = ...) -> None: ...

class ListDagSpecVersionsRequest(_message.Message):
    __slots__ = ("dag_id", "page_size", "page_token")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    page_size: int
    page_token: str
    def __init__(self, dag_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDagSpecVersionsResponse(_message.Message):
    __slots__ = ("versions", "next_page_token")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[DagSpecVersion]
    next_page_token: str
    def __init__(self, versions: _Optional[_Iterable[_Union[DagSpecVersion, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SubmitTaskRequest(_message.Message):
    __slots__ = ("task", "conf")
    TASK_FIELD_NUMBER: _ClassVar[int]
    CONF_FIELD_NUMBER: _ClassVar[int]
    task: _dag_pb2.TaskSpec
    conf: _struct_pb2.Struct
    def __init__(self, task: _Optional[_Union[_dag_pb2.TaskSpec, _Mapping]] = ..., conf: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SubmitTaskResponse(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_id", "version")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_id: str
    version: int
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...
