"""REST routes of BackfillService: Airflow 3's /backfills."""

from __future__ import annotations

from flow.v1 import backfill_service_pb2 as pb
from services.api.routes.common import Operation

OPERATIONS = (
    Operation(
        "POST", "/backfills", "createBackfill",
        "Creates a backfill (or with dry_run lists what it would do). Body: {\"dag_id\", "
        "\"from_date\", \"to_date\", \"reprocess_behavior\", \"max_active_runs\", "
        "\"dry_run\", \"dag_run_conf\"}.",
        pb.CreateBackfillRequest, pb.CreateBackfillResponse,
        call=lambda core, req: core.create_backfill(req), body=True, tags=("Backfill",)),
    Operation(
        "GET", "/backfills", "listBackfills", "Lists backfills, newest first.",
        pb.ListBackfillsRequest, pb.ListBackfillsResponse,
        call=lambda core, req: core.list_backfills(req),
        query=("dag_id", "page_size", "page_token"), tags=("Backfill",)),
    Operation(
        "GET", "/backfills/{backfill_id}", "getBackfill", "Gets one backfill.",
        pb.GetBackfillRequest, pb.GetBackfillResponse,
        call=lambda core, req: core.get_backfill(req), tags=("Backfill",)),
    Operation(
        "PUT", "/backfills/{backfill_id}/cancel", "cancelBackfill",
        "Cancels a backfill: its queued runs fail, running ones finish.",
        pb.CancelBackfillRequest, pb.CancelBackfillResponse,
        call=lambda core, req: core.cancel_backfill(req), tags=("Backfill",)),
)
