"""REST routes of DagService: the DAGs and the files that failed to import."""

from __future__ import annotations

from flow.v1 import dag_service_pb2 as pb
from services.api.routes.common import Operation

OPERATIONS = (
    Operation(
        "GET", "/dags", "listDags", "Lists DAGs, ordered by dag_id.",
        pb.ListDagsRequest, pb.ListDagsResponse,
        call=lambda core, req: core.list_dags(req),
        query=("page_size", "page_token", "dag_id_pattern", "include_inactive"), tags=("DAG",)),
    Operation(
        "GET", "/dags/{dag_id}", "getDag", "Gets one DAG with its tasks.",
        pb.GetDagRequest, pb.GetDagResponse,
        call=lambda core, req: core.get_dag(req), tags=("DAG",)),
    Operation(
        "GET", "/dags/{dag_id}/source", "getDagSource",
        "Gets the source code of the file the DAG was defined in: {fileloc, content}.",
        pb.GetDagSourceRequest, pb.GetDagSourceResponse,
        call=lambda core, req: core.get_dag_source(req), tags=("DAG",)),
    Operation(
        "DELETE", "/dags/{dag_id}", "deleteDag",
        "Deletes a DAG's metadata with its runs; a DAG whose file is still in the DAG folder "
        "comes back at the next parse, as in Airflow.",
        pb.DeleteDagRequest, pb.DeleteDagResponse,
        call=lambda core, req: core.delete_dag(req), tags=("DAG",)),
    Operation(
        "PATCH", "/dags/{dag_id}", "patchDag",
        "Pauses or unpauses a DAG (Airflow's PATCH /dags/{dag_id}). Body: {\"is_paused\": true}.",
        pb.UpdateDagRequest, pb.UpdateDagResponse,
        call=lambda core, req: core.update_dag(req), body=True, tags=("DAG",)),
    Operation(
        "GET", "/importErrors", "listImportErrors",
        "Lists the DAG files that failed to import, with their errors.",
        pb.ListImportErrorsRequest, pb.ListImportErrorsResponse,
        call=lambda core, req: core.list_import_errors(req),
        query=("page_size", "page_token"), tags=("DAG",)),
)
