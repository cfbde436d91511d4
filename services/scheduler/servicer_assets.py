"""The control plane's asset reads: the assets DAGs are scheduled on or tasks updated, and
their update events. Thin: proto <-> store."""

from __future__ import annotations

from typing import Any

from flow.v1 import asset_service_pb2
from services.scheduler import convert, store
from services.scheduler.core.event_applier import SchedulingCore


class AssetServicerMixin:
    """Asset RPCs of SchedulerService."""

    _core: SchedulingCore

    async def ListAssets(self, request: Any, context: Any) -> Any:
        offset, limit = convert.page(request.page_size, request.page_token)
        async with self._core.sessions() as session:
            rows = await store.list_assets(session, request.uri_pattern, offset, limit)
        return asset_service_pb2.ListAssetsResponse(
            assets=[asset_service_pb2.Asset(uri=uri, consuming_dag_ids=dag_ids,
                                            last_updated=convert.timestamp(last))
                    for uri, dag_ids, last in rows],
            next_page_token=convert.next_token(offset, limit, len(rows)))

    async def ListAssetEvents(self, request: Any, context: Any) -> Any:
        offset, limit = convert.page(request.page_size, request.page_token)
        async with self._core.sessions() as session:
            rows = await store.list_asset_events(session, request.uri, request.source_dag_id,
                                                 offset, limit)
        return asset_service_pb2.ListAssetEventsResponse(
            asset_events=[asset_service_pb2.AssetEvent(
                id=row.id, uri=row.uri, source_dag_id=row.source_dag_id,
                source_run_id=row.source_run_id, source_task_id=row.source_task_id,
                source_map_index=row.source_map_index,
                timestamp=convert.timestamp(row.timestamp)) for row in rows],
            next_page_token=convert.next_token(offset, limit, len(rows)))
