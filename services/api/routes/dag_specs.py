"""REST routes of DagSpecService: DAGs submitted as data, and ad-hoc tasks."""

from __future__ import annotations

from flow.v1 import dag_spec_service_pb2 as pb
from services.api.routes.common import Operation

OPERATIONS = (
    Operation(
        "POST", "/dagSpecs", "submitDagSpec",
        "Validates and stores a DAG defined as data (a DagSpec as JSON: {\"dag_id\", "
        "\"tasks\": [{\"task_id\", \"command\": {\"command\"}}, ...], ...}) as its next version; "
        "an unchanged spec answers its version with created=false. 400 names the field at "
        "fault.",
        pb.SubmitDagSpecRequest, pb.SubmitDagSpecResponse,
        call=lambda core, req: core.dag_specs.submit_dag_spec(req), body=True,
        body_field="spec", tags=("DagSpec",)),
    Operation(
        "GET", "/dagSpecs/{dag_id}", "getDagSpec",
        "Gets the latest version of a DAG's spec, or ?version=N.",
        pb.GetDagSpecRequest, pb.GetDagSpecResponse,
        call=lambda core, req: core.dag_specs.get_dag_spec(req), query=("version",),
        tags=("DagSpec",)),
    Operation(
        "GET", "/dagSpecs/{dag_id}/versions", "listDagSpecVersions",
        "Lists the stored versions of a DAG's spec, newest first.",
        pb.ListDagSpecVersionsRequest, pb.ListDagSpecVersionsResponse,
        call=lambda core, req: core.dag_specs.list_dag_spec_versions(req),
        query=("page_size", "page_token"), tags=("DagSpec",)),
    Operation(
        "POST", "/tasks", "submitTask",
        "Runs one task now (an ad-hoc DAG tagged \"adhoc\"). Body: {\"task\": {\"queue\", "
        "\"command\": {\"command\": \"...\"}} , \"conf\": {...}}. Answers the handle "
        "(dag_id, run_id, task_id) to watch and to read the log of.",
        pb.SubmitTaskRequest, pb.SubmitTaskResponse,
        call=lambda core, req: core.dag_specs.submit_task(req), body=True, tags=("DagSpec",)),
)
