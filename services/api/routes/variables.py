"""REST routes of VariableService: Airflow's /variables."""

from __future__ import annotations

from flow.v1 import variable_service_pb2 as pb
from services.api.routes.common import Operation

OPERATIONS = (
    Operation(
        "GET", "/variables", "listVariables", "Lists variables, ordered by key.",
        pb.ListVariablesRequest, pb.ListVariablesResponse,
        call=lambda core, req: core.list_variables(req),
        query=("page_size", "page_token"), tags=("Variable",)),
    Operation(
        "GET", "/variables/{key}", "getVariable", "Gets one variable.",
        pb.GetVariableRequest, pb.GetVariableResponse,
        call=lambda core, req: core.get_variable(req), tags=("Variable",)),
    Operation(
        "POST", "/variables", "setVariable",
        "Creates or replaces a variable. Body: {\"key\", \"value\", \"description\"}.",
        pb.SetVariableRequest, pb.SetVariableResponse,
        call=lambda core, req: core.set_variable(req), body=True, body_field="variable",
        tags=("Variable",)),
    Operation(
        "DELETE", "/variables/{key}", "deleteVariable", "Deletes a variable.",
        pb.DeleteVariableRequest, pb.DeleteVariableResponse,
        call=lambda core, req: core.delete_variable(req), tags=("Variable",)),
)
