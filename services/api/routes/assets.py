"""REST routes of AssetService: Airflow's /assets and /assets/events (data-aware scheduling)."""

from __future__ import annotations

from flow.v1 import asset_service_pb2 as pb
from services.api.routes.common import Operation

OPERATIONS = (
    Operation(
        "GET", "/assets", "listAssets",
        "Lists the assets DAGs are scheduled on or tasks updated, with the DAGs scheduled on "
        "each and its last update.",
        pb.ListAssetsRequest, pb.ListAssetsResponse,
        call=lambda core, req: core.list_assets(req),
        query=("page_size", "page_token", "uri_pattern"), tags=("Asset",)),
    Operation(
        "GET", "/assetEvents", "listAssetEvents",
        "Lists asset updates, newest first, by asset or by the DAG whose task made them.",
        pb.ListAssetEventsRequest, pb.ListAssetEventsResponse,
        call=lambda core, req: core.list_asset_events(req),
        query=("page_size", "page_token", "uri", "source_dag_id"), tags=("Asset",)),
)
