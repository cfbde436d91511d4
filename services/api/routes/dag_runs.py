"""REST routes of DagRunService: trigger, list and get runs, and the live event stream (SSE)."""

from __future__ import annotations

from flow.v1 import dag_run_service_pb2 as pb
from services.api.routes.common import Operation

OPERATIONS = (
    Operation(
        "POST", "/dags/{dag_id}/dagRuns", "triggerDagRun",
        "Starts a run of a DAG now. Body: {\"conf\": {...}, \"run_id\": \"...\", "
        "\"logical_date\": \"...\"}, every key optional.",
        pb.TriggerDagRunRequest, pb.TriggerDagRunResponse,
        call=lambda core, req: core.trigger_dag_run(req), body=True, tags=("DAGRun",)),
    Operation(
        "GET", "/dags/{dag_id}/dagRuns", "listDagRuns", "Lists the runs of a DAG, newest first.",
        pb.ListDagRunsRequest, pb.ListDagRunsResponse,
        call=lambda core, req: core.list_dag_runs(req),
        query=("page_size", "page_token", "states"), tags=("DAGRun",)),
    Operation(
        "GET", "/dags/{dag_id}/dagRuns/{run_id}", "getDagRun", "Gets one run.",
        pb.GetDagRunRequest, pb.GetDagRunResponse,
        call=lambda core, req: core.get_dag_run(req), tags=("DAGRun",)),
    Operation(
        "GET", "/events", "watchStateChanges",
        "Server-Sent Events: one `state_change` event (a WatchStateChangesResponse as JSON) "
        "per committed change of a run or task instance.",
        pb.WatchStateChangesRequest, pb.WatchStateChangesResponse,
        stream=lambda core, req: core.watch_state_changes(req),
        query=("dag_id", "run_id"), event="state_change", tags=("DAGRun",)),
)
