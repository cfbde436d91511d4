"""REST routes of DagRunService: trigger, list and get runs, and the live event stream (SSE)."""

from __future__ import annotations

from typing import Any

from flow.v1 import dag_run_service_pb2 as pb
from services.api.routes.common import Operation


def _run_state_body(body: dict[str, Any]) -> dict[str, Any]:
    """Accept Airflow's {"state": "success"} as well as the proto enum name."""
    state = body.get("state")
    if isinstance(state, str) and not state.upper().startswith("DAG_RUN_STATE_"):
        body["state"] = f"DAG_RUN_STATE_{state.upper()}"
    return body


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
        "PATCH", "/dags/{dag_id}/dagRuns/{run_id}", "setDagRunState",
        "Marks a run success or failed (Airflow's PATCH dagRuns). Body: {\"state\": "
        "\"success\"|\"failed\"}.",
        pb.SetDagRunStateRequest, pb.SetDagRunStateResponse,
        call=lambda core, req: core.set_dag_run_state(req), body=True,
        prepare_body=_run_state_body, tags=("DAGRun",)),
    Operation(
        "POST", "/dags/{dag_id}/dagRuns/{run_id}/cancel", "cancelDagRun",
        "Cancels a queued or running run: it fails. 400 (FAILED_PRECONDITION) once it has "
        "finished.",
        pb.CancelDagRunRequest, pb.CancelDagRunResponse,
        call=lambda core, req: core.cancel_dag_run(req), tags=("DAGRun",)),
    Operation(
        "DELETE", "/dags/{dag_id}/dagRuns/{run_id}", "deleteDagRun",
        "Deletes a run with its task instances and XComs (an unfinished run is cancelled).",
        pb.DeleteDagRunRequest, pb.DeleteDagRunResponse,
        call=lambda core, req: core.delete_dag_run(req), tags=("DAGRun",)),
    Operation(
        "GET", "/events", "watchStateChanges",
        "Server-Sent Events: one `state_change` event (a WatchStateChangesResponse as JSON) "
        "per committed change of a run or task instance (with runs_only, of runs only).",
        pb.WatchStateChangesRequest, pb.WatchStateChangesResponse,
        stream=lambda core, req: core.watch_state_changes(req),
        query=("dag_id", "run_id", "runs_only"), event="state_change", tags=("DAGRun",)),
)
