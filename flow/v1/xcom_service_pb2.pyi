import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class XComEntry(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_id", "map_index", "key", "value", "content_type", "timestamp")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    key: str
    value: bytes
    content_type: str
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_id: _Optional[str] = ..., map_index: _Optional[int] = ..., key: _Optional[str] = ..., value: _Optional[bytes] = ..., content_type: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetXComRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_id", "key", "map_index")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_id: str
    key: str
    map_index: int
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_id: _Optional[str] = ..., key: _Optional[str] = ..., map_index: _Optional[int] = ...) -> None: ...

class GetXComResponse(_message.Message):
    __slots__ = ("xcom",)
    XCOM_FIELD_NUMBER: _ClassVar[int]
    xcom: XComEntry
    def __init__(self, xcom: _Optional[_Union[XComEntry, _Mapping]] = ...) -> None: ...

class ListXComsRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_id", "page_size", "page_token")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_id: str
    page_size: int
    page_token: str
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListXComsResponse(_message.Message):
    __slots__ = ("xcoms", "next_page_token")
    XCOMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    xcoms: _containers.RepeatedCompositeFieldContainer[XComEntry]
    next_page_token: str
    def __init__(self, xcoms: _Optional[_Iterable[_Union[XComEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
