import datetime

from flow.v1 import common_pb2 as _common_pb2
from flow.v1 import dag_run_service_pb2 as _dag_run_service_pb2
from flow.v1 import connection_service_pb2 as _connection_service_pb2
from flow.v1 import dag_pb2 as _dag_pb2
from flow.v1 import variable_service_pb2 as _variable_service_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClaimAttemptRequest(_message.Message):
    __slots__ = ("key", "worker_id", "hostname")
    KEY_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    worker_id: str
    hostname: str
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., worker_id: _Optional[str] = ..., hostname: _Optional[str] = ...) -> None: ...

class ClaimAttemptResponse(_message.Message):
    __slots__ = ("dag_run", "task_instance", "dag_spec")
    DAG_RUN_FIELD_NUMBER: _ClassVar[int]
    TASK_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    DAG_SPEC_FIELD_NUMBER: _ClassVar[int]
    dag_run: _common_pb2.DagRun
    task_instance: _common_pb2.TaskInstance
    dag_spec: _dag_pb2.DagSpec
    def __init__(self, dag_run: _Optional[_Union[_common_pb2.DagRun, _Mapping]] = ..., task_instance: _Optional[_Union[_common_pb2.TaskInstance, _Mapping]] = ..., dag_spec: _Optional[_Union[_dag_pb2.DagSpec, _Mapping]] = ...) -> None: ...

class ClaimAttemptsRequest(_message.Message):
    __slots__ = ("claims",)
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    claims: _containers.RepeatedCompositeFieldContainer[ClaimAttemptRequest]
    def __init__(self, claims: _Optional[_Iterable[_Union[ClaimAttemptRequest, _Mapping]]] = ...) -> None: ...

class ClaimAttemptsResponse(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[ClaimOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[ClaimOutcome, _Mapping]]] = ...) -> None: ...

class ClaimOutcome(_message.Message):
    __slots__ = ("claim", "error")
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    claim: ClaimAttemptResponse
    error: ClaimError
    def __init__(self, claim: _Optional[_Union[ClaimAttemptResponse, _Mapping]] = ..., error: _Optional[_Union[ClaimError, _Mapping]] = ...) -> None: ...

class ClaimError(_message.Message):
    __slots__ = ("code", "message", "reason")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    reason: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PushXComRequest(_message.Message):
    __slots__ = ("key", "xcom_key", "value", "content_type")
    KEY_FIELD_NUMBER: _ClassVar[int]
    XCOM_KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    xcom_key: str
    value: bytes
    content_type: str
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., xcom_key: _Optional[str] = ..., value: _Optional[bytes] = ..., content_type: _Optional[str] = ...) -> None: ...

class PushXComResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PullXComRequest(_message.Message):
    __slots__ = ("key", "xcom_key", "all_map_indexes")
    KEY_FIELD_NUMBER: _ClassVar[int]
    XCOM_KEY_FIELD_NUMBER: _ClassVar[int]
    ALL_MAP_INDEXES_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    xcom_key: str
    all_map_indexes: bool
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., xcom_key: _Optional[str] = ..., all_map_indexes: _Optional[bool] = ...) -> None: ...

class PullXComResponse(_message.Message):
    __slots__ = ("found", "value", "content_type")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    found: bool
    value: bytes
    content_type: str
    def __init__(self, found: _Optional[bool] = ..., value: _Optional[bytes] = ..., content_type: _Optional[str] = ...) -> None: ...

class GetTaskVariableRequest(_message.Message):
    __slots__ = ("key", "variable_key")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VARIABLE_KEY_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    variable_key: str
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., variable_key: _Optional[str] = ...) -> None: ...

class GetTaskVariableResponse(_message.Message):
    __slots__ = ("variable",)
    VARIABLE_FIELD_NUMBER: _ClassVar[int]
    variable: _variable_service_pb2.Variable
    def __init__(self, variable: _Optional[_Union[_variable_service_pb2.Variable, _Mapping]] = ...) -> None: ...

class SetTaskVariableRequest(_message.Message):
    __slots__ = ("key", "variable")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VARIABLE_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    variable: _variable_service_pb2.Variable
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., variable: _Optional[_Union[_variable_service_pb2.Variable, _Mapping]] = ...) -> None: ...

class SetTaskVariableResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetTaskConnectionRequest(_message.Message):
    __slots__ = ("key", "conn_id")
    KEY_FIELD_NUMBER: _ClassVar[int]
    CONN_ID_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    conn_id: str
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ..., conn_id: _Optional[str] = ...) -> None: ...

class GetTaskConnectionResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _connection_service_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_connection_service_pb2.Connection, _Mapping]] = ...) -> None: ...

class GetRenderedFieldsRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.TaskInstanceKey
    def __init__(self, key: _Optional[_Union[_common_pb2.TaskInstanceKey, _Mapping]] = ...) -> None: ...

class GetRenderedFieldsResponse(_message.Message):
    __slots__ = ("found", "rendered_fields_json", "try_number")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    RENDERED_FIELDS_JSON_FIELD_NUMBER: _ClassVar[int]
    TRY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    found: bool
    rendered_fields_json: str
    try_number: int
    def __init__(self, found: _Optional[bool] = ..., rendered_fields_json: _Optional[str] = ..., try_number: _Optional[int] = ...) -> None: ...

class GetExternalTaskStatesRequest(_message.Message):
    __slots__ = ("dag_id", "logical_date", "task_ids")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_DATE_FIELD_NUMBER: _ClassVar[int]
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    logical_date: _timestamp_pb2.Timestamp
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, dag_id: _Optional[str] = ..., logical_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., task_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetExternalTaskStatesResponse(_message.Message):
    __slots__ = ("found", "run_id", "run_state", "task_states")
    class TaskStatesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.TaskInstanceState
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.TaskInstanceState, str]] = ...) -> None: ...
    FOUND_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_STATE_FIELD_NUMBER: _ClassVar[int]
    TASK_STATES_FIELD_NUMBER: _ClassVar[int]
    found: bool
    run_id: str
    run_state: _common_pb2.DagRunState
    task_states: _containers.ScalarMap[str, _common_pb2.TaskInstanceState]
    def __init__(self, found: _Optional[bool] = ..., run_id: _Optional[str] = ..., run_state: _Optional[_Union[_common_pb2.DagRunState, str]] = ..., task_states: _Optional[_Mapping[str, _common_pb2.TaskInstanceState]] = ...) -> None: ...
