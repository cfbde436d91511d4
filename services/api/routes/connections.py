"""REST routes of ConnectionService: Airflow's /connections. Passwords are never returned."""

from __future__ import annotations

from flow.v1 import connection_service_pb2 as pb
from services.api.routes.common import Operation

OPERATIONS = (
    Operation(
        "GET", "/connections", "listConnections",
        "Lists connections, ordered by conn_id; passwords are masked.",
        pb.ListConnectionsRequest, pb.ListConnectionsResponse,
        call=lambda core, req: core.list_connections(req),
        query=("page_size", "page_token"), tags=("Connection",)),
    Operation(
        "GET", "/connections/{conn_id}", "getConnection",
        "Gets one connection; its password is masked.",
        pb.GetConnectionRequest, pb.GetConnectionResponse,
        call=lambda core, req: core.get_connection(req), tags=("Connection",)),
    Operation(
        "POST", "/connections", "createConnection",
        "Creates a connection. Body: {\"conn_id\", \"conn_type\", \"host\", \"schema\", "
        "\"login\", \"password\", \"port\", \"extra\", \"description\"}.",
        pb.CreateConnectionRequest, pb.CreateConnectionResponse,
        call=lambda core, req: core.create_connection(req), body=True,
        body_field="connection", tags=("Connection",)),
    Operation(
        "PATCH", "/connections/{conn_id}", "updateConnection",
        "Updates a connection. Body: the fields to set; `update_mask` (repeatable) names the "
        "fields to replace, all of them when absent. A password of \"***\" keeps the stored "
        "one.",
        pb.UpdateConnectionRequest, pb.UpdateConnectionResponse,
        call=lambda core, req: core.update_connection(req), body=True,
        body_field="connection", query=("update_mask",), tags=("Connection",)),
    Operation(
        "DELETE", "/connections/{conn_id}", "deleteConnection", "Deletes a connection.",
        pb.DeleteConnectionRequest, pb.DeleteConnectionResponse,
        call=lambda core, req: core.delete_connection(req), tags=("Connection",)),
)
