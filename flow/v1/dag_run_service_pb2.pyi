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

class SetDagRunStateRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "state")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    state: _common_pb2.DagRunState
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.DagRunState, str]] = ...) -> None: ...

class SetDagRunStateResponse(_message.Message):
    __slots__ = ("dag_run",)
    DAG_RUN_FIELD_NUMBER: _ClassVar[int]
    dag_run: _common_pb2.DagRun
    def __init__(self, dag_run: _Optional[_Union[_common_pb2.DagRun, _Mapping]] = ...) -> None: ...

class CancelDagRunRequest(_message.Message):
    __slots__ = ("dag_id", "run_id")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class CancelDagRunResponse(_message.Message):
    __slots__ = ("dag_run",)
    DAG_RUN_FIELD_NUMBER: _ClassVar[int]
    dag_run: _common_pb2.DagRun
    def __init__(self, dag_run: _Optional[_Union[_common_pb2.DagRun, _Mapping]] = ...) -> None: ...

class DeleteDagRunRequest(_message.Message):
    __slots__ = ("dag_id", "run_id")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class DeleteDagRunResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TriggerDagRunRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "conf", "logical_date")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CONF_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_DATE_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    conf: _struct_pb2.Struct
    logical_date: _timestamp_pb2.Timestamp
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., conf: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., logical_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TriggerDagRunResponse(_message.Message):
    __slots__ = ("dag_run",)
    DAG_RUN_FIELD_NUMBER: _ClassVar[int]
    dag_run: _common_pb2.DagRun
    def __init__(self, dag_run: _Optional[_Union[_common_pb2.DagRun, _Mapping]] = ...) -> None: ...

class ListDagRunsRequest(_message.Message):
    __slots__ = ("dag_id", "page_size", "page_token", "states")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    page_size: int
    page_token: str
    states: _containers.RepeatedScalarFieldContainer[_common_pb2.DagRunState]
    def __init__(self, dag_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., states: _Optional[_Iterable[_Union[_common_pb2.DagRunState, str]]] = ...) -> None: ...

class ListDagRunsResponse(_message.Message):
    __slots__ = ("dag_runs", "next_page_token")
    DAG_RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dag_runs: _containers.RepeatedCompositeFieldContainer[_common_pb2.DagRun]
    next_page_token: str
    def __init__(self, dag_runs: _Optional[_Iterable[_Union[_common_pb2.DagRun, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDagRunRequest(_message.Message):
    __slots__ = ("dag_id", "run_id")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class GetDagRunResponse(_message.Message):
    __slots__ = ("dag_run",)
    DAG_RUN_FIELD_NUMBER: _ClassVar[int]
    dag_run: _common_pb2.DagRun
    def __init__(self, dag_run: _Optional[_Union[_common_pb2.DagRun, _Mapping]] = ...) -> None: ...

class WatchStateChangesRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "runs_only")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUNS_ONLY_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    runs_only: bool
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., runs_only: _Optional[bool] = ...) -> None: ...

class WatchStateChangesResponse(_message.Message):
    __slots__ = ("change",)
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    change: _common_pb2.StateChange
    def __init__(self, change: _Optional[_Union[_common_pb2.StateChange, _Mapping]] = ...) -> None: ...
