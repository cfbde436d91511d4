from flow.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetDagSourceRequest(_message.Message):
    __slots__ = ("dag_id",)
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    def __init__(self, dag_id: _Optional[str] = ...) -> None: ...

class GetDagSourceResponse(_message.Message):
    __slots__ = ("fileloc", "content")
    FILELOC_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    fileloc: str
    content: str
    def __init__(self, fileloc: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class DeleteDagRequest(_message.Message):
    __slots__ = ("dag_id",)
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    def __init__(self, dag_id: _Optional[str] = ...) -> None: ...

class DeleteDagResponse(_message.Message):
    __slots__ = ("deleted_runs",)
    DELETED_RUNS_FIELD_NUMBER: _ClassVar[int]
    deleted_runs: int
    def __init__(self, deleted_runs: _Optional[int] = ...) -> None: ...

class ListDagsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "dag_id_pattern", "include_inactive")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DAG_ID_PATTERN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    dag_id_pattern: str
    include_inactive: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., dag_id_pattern: _Optional[str] = ..., include_inactive: _Optional[bool] = ...) -> None: ...

class ListDagsResponse(_message.Message):
    __slots__ = ("dags", "next_page_token")
    DAGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dags: _containers.RepeatedCompositeFieldContainer[_common_pb2.Dag]
    next_page_token: str
    def __init__(self, dags: _Optional[_Iterable[_Union[_common_pb2.Dag, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDagRequest(_message.Message):
    __slots__ = ("dag_id",)
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    def __init__(self, dag_id: _Optional[str] = ...) -> None: ...

class GetDagResponse(_message.Message):
    __slots__ = ("dag",)
    DAG_FIELD_NUMBER: _ClassVar[int]
    dag: _common_pb2.Dag
    def __init__(self, dag: _Optional[_Union[_common_pb2.Dag, _Mapping]] = ...) -> None: ...

class ListImportErrorsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListImportErrorsResponse(_message.Message):
    __slots__ = ("import_errors", "next_page_token")
    IMPORT_ERRORS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    import_errors: _containers.RepeatedCompositeFieldContainer[_common_pb2.ImportError]
    next_page_token: str
    def __init__(self, import_errors: _Optional[_Iterable[_Union[_common_pb2.ImportError, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateDagRequest(_message.Message):
    __slots__ = ("dag_id", "is_paused")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    IS_PAUSED_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    is_paused: bool
    def __init__(self, dag_id: _Optional[str] = ..., is_paused: _Optional[bool] = ...) -> None: ...

class UpdateDagResponse(_message.Message):
    __slots__ = ("dag",)
    DAG_FIELD_NUMBER: _ClassVar[int]
    dag: _common_pb2.Dag
    def __init__(self, dag: _Optional[_Union[_common_pb2.Dag, _Mapping]] = ...) -> None: ...
