from flow.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WriteLogRequest(_message.Message):
    __slots__ = ("key", "content", "final")
    KEY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    content: bytes
    final: bool
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., content: _Optional[bytes] = ..., final: _Optional[bool] = ...) -> None: ...

class WriteLogResponse(_message.Message):
    __slots__ = ("size",)
    SIZE_FIELD_NUMBER: _ClassVar[int]
    size: int
    def __init__(self, size: _Optional[int] = ...) -> None: ...

class WriteLogsRequest(_message.Message):
    __slots__ = ("key", "content", "final")
    KEY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    content: bytes
    final: bool
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., content: _Optional[bytes] = ..., final: _Optional[bool] = ...) -> None: ...

class WriteLogBatchesRequest(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[WriteLogsRequest]
    def __init__(self, entries: _Optional[_Iterable[_Union[WriteLogsRequest, _Mapping]]] = ...) -> None: ...

class WriteLogBatchesResponse(_message.Message):
    __slots__ = ("key", "size", "error")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    size: int
    error: str
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., size: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class WriteLogsResponse(_message.Message):
    __slots__ = ("key", "size", "error")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    size: int
    error: str
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., size: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class ReadLogRequest(_message.Message):
    __slots__ = ("key", "offset", "limit")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    offset: int
    limit: int
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., offset: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ReadLogResponse(_message.Message):
    __slots__ = ("content", "next_offset", "complete", "exists")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    NEXT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    next_offset: int
    complete: bool
    exists: bool
    def __init__(self, content: _Optional[bytes] = ..., next_offset: _Optional[int] = ..., complete: _Optional[bool] = ..., exists: _Optional[bool] = ...) -> None: ...

class FollowLogRequest(_message.Message):
    __slots__ = ("key", "offset")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    offset: int
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., offset: _Optional[int] = ...) -> None: ...

class FollowLogResponse(_message.Message):
    __slots__ = ("content", "next_offset")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    NEXT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    next_offset: int
    def __init__(self, content: _Optional[bytes] = ..., next_offset: _Optional[int] = ...) -> None: ...
