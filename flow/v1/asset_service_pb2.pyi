import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Asset(_message.Message):
    __slots__ = ("uri", "consuming_dag_ids", "last_updated")
    URI_FIELD_NUMBER: _ClassVar[int]
    CONSUMING_DAG_IDS_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATED_FIELD_NUMBER: _ClassVar[int]
    uri: str
    consuming_dag_ids: _containers.RepeatedScalarFieldContainer[str]
    last_updated: _timestamp_pb2.Timestamp
    def __init__(self, uri: _Optional[str] = ..., consuming_dag_ids: _Optional[_Iterable[str]] = ..., last_updated: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AssetEvent(_message.Message):
    __slots__ = ("id", "uri", "source_dag_id", "source_run_id", "source_task_id", "source_map_index", "timestamp")
    ID_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    SOURCE_DAG_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    id: int
    uri: str
    source_dag_id: str
    source_run_id: str
    source_task_id: str
    source_map_index: int
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., uri: _Optional[str] = ..., source_dag_id: _Optional[str] = ..., source_run_id: _Optional[str] = ..., source_task_id: _Optional[str] = ..., source_map_index: _Optional[int] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAssetsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "uri_pattern")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    URI_PATTERN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    uri_pattern: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., uri_pattern: _Optional[str] = ...) -> None: ...

class ListAssetsResponse(_message.Message):
    __slots__ = ("assets", "next_page_token")
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[Asset]
    next_page_token: str
    def __init__(self, assets: _Optional[_Iterable[_Union[Asset, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListAssetEventsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "uri", "source_dag_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    SOURCE_DAG_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    uri: str
    source_dag_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., uri: _Optional[str] = ..., source_dag_id: _Optional[str] = ...) -> None: ...

class ListAssetEventsResponse(_message.Message):
    __slots__ = ("asset_events", "next_page_token")
    ASSET_EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    asset_events: _containers.RepeatedCompositeFieldContainer[AssetEvent]
    next_page_token: str
    def __init__(self, asset_events: _Optional[_Iterable[_Union[AssetEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
