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

class ReprocessBehavior(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPROCESS_BEHAVIOR_UNSPECIFIED: _ClassVar[ReprocessBehavior]
    REPROCESS_BEHAVIOR_NONE: _ClassVar[ReprocessBehavior]
    REPROCESS_BEHAVIOR_FAILED: _ClassVar[ReprocessBehavior]
    REPROCESS_BEHAVIOR_COMPLETED: _ClassVar[ReprocessBehavior]

class BackfillState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKFILL_STATE_UNSPECIFIED: _ClassVar[BackfillState]
    BACKFILL_STATE_RUNNING: _ClassVar[BackfillState]
    BACKFILL_STATE_COMPLETED: _ClassVar[BackfillState]
    BACKFILL_STATE_CANCELLED: _ClassVar[BackfillState]

class BackfillRunAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKFILL_RUN_ACTION_UNSPECIFIED: _ClassVar[BackfillRunAction]
    BACKFILL_RUN_ACTION_CREATE: _ClassVar[BackfillRunAction]
    BACKFILL_RUN_ACTION_REPROCESS: _ClassVar[BackfillRunAction]
    BACKFILL_RUN_ACTION_SKIP: _ClassVar[BackfillRunAction]
REPROCESS_BEHAVIOR_UNSPECIFIED: ReprocessBehavior
REPROCESS_BEHAVIOR_NONE: ReprocessBehavior
REPROCESS_BEHAVIOR_FAILED: ReprocessBehavior
REPROCESS_BEHAVIOR_COMPLETED: ReprocessBehavior
BACKFILL_STATE_UNSPECIFIED: BackfillState
BACKFILL_STATE_RUNNING: BackfillState
BACKFILL_STATE_COMPLETED: BackfillState
BACKFILL_STATE_CANCELLED: BackfillState
BACKFILL_RUN_ACTION_UNSPECIFIED: BackfillRunAction
BACKFILL_RUN_ACTION_CREATE: BackfillRunAction
BACKFILL_RUN_ACTION_REPROCESS: BackfillRunAction
BACKFILL_RUN_ACTION_SKIP: BackfillRunAction

class Backfill(_message.Message):
    __slots__ = ("id", "dag_id", "from_date", "to_date", "reprocess_behavior", "max_active_runs", "state", "created_at", "completed_at", "dag_run_conf")
    ID_FIELD_NUMBER: _ClassVar[int]
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_DATE_FIELD_NUMBER: _ClassVar[int]
    TO_DATE_FIELD_NUMBER: _ClassVar[int]
    REPROCESS_BEHAVIOR_FIELD_NUMBER: _ClassVar[int]
    MAX_ACTIVE_RUNS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    DAG_RUN_CONF_FIELD_NUMBER: _ClassVar[int]
    id: int
    dag_id: str
    from_date: _timestamp_pb2.Timestamp
    to_date: _timestamp_pb2.Timestamp
    reprocess_behavior: ReprocessBehavior
    max_active_runs: int
    state: BackfillState
    created_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    dag_run_conf: _struct_pb2.Struct
    def __init__(self, id: _Optional[int] = ..., dag_id: _Optional[str] = ..., from_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., to_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reprocess_behavior: _Optional[_Union[ReprocessBehavior, str]] = ..., max_active_runs: _Optional[int] = ..., state: _Optional[_Union[BackfillState, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dag_run_conf: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class BackfillRun(_message.Message):
    __slots__ = ("logical_date", "action", "run_id", "reason")
    LOGICAL_DATE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    logical_date: _timestamp_pb2.Timestamp
    action: BackfillRunAction
    run_id: str
    reason: str
    def __init__(self, logical_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., action: _Optional[_Union[BackfillRunAction, str]] = ..., run_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CreateBackfillRequest(_message.Message):
    __slots__ = ("dag_id", "from_date", "to_date", "reprocess_behavior", "max_active_runs", "dry_run", "dag_run_conf")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_DATE_FIELD_NUMBER: _ClassVar[int]
    TO_DATE_FIELD_NUMBER: _ClassVar[int]
    REPROCESS_BEHAVIOR_FIELD_NUMBER: _ClassVar[int]
    MAX_ACTIVE_RUNS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    DAG_RUN_CONF_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    from_date: _timestamp_pb2.Timestamp
    to_date: _timestamp_pb2.Timestamp
    reprocess_behavior: ReprocessBehavior
    max_active_runs: int
    dry_run: bool
    dag_run_conf: _struct_pb2.Struct
    def __init__(self, dag_id: _Optional[str] = ..., from_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., to_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reprocess_behavior: _Optional[_Union[ReprocessBehavior, str]] = ..., max_active_runs: _Optional[int] = ..., dry_run: _Optional[bool] = ..., dag_run_conf: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class CreateBackfillResponse(_message.Message):
    __slots__ = ("backfill", "runs")
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    backfill: Backfill
    runs: _containers.RepeatedCompositeFieldContainer[BackfillRun]
    def __init__(self, backfill: _Optional[_Union[Backfill, _Mapping]] = ..., runs: _Optional[_Iterable[_Union[BackfillRun, _Mapping]]] = ...) -> None: ...

class ListBackfillsRequest(_message.Message):
    __slots__ = ("dag_id", "page_size", "page_token")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    page_size: int
    page_token: str
    def __init__(self, dag_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBackfillsResponse(_message.Message):
    __slots__ = ("backfills", "next_page_token")
    BACKFILLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    backfills: _containers.RepeatedCompositeFieldContainer[Backfill]
    next_page_token: str
    def __init__(self, backfills: _Optional[_Iterable[_Union[Backfill, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetBackfillRequest(_message.Message):
    __slots__ = ("backfill_id",)
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    backfill_id: int
    def __init__(self, backfill_id: _Optional[int] = ...) -> None: ...

class GetBackfillResponse(_message.Message):
    __slots__ = ("backfill",)
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    backfill: Backfill
    def __init__(self, backfill: _Optional[_Union[Backfill, _Mapping]] = ...) -> None: ...

class CancelBackfillRequest(_message.Message):
    __slots__ = ("backfill_id",)
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    backfill_id: int
    def __init__(self, backfill_id: _Optional[int] = ...) -> None: ...

class CancelBackfillResponse(_message.Message):
    __slots__ = ("backfill",)
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    backfill: Backfill
    def __init__(self, backfill: _Optional[_Union[Backfill, _Mapping]] = ...) -> None: ...
