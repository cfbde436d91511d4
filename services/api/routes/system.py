"""REST route of SystemService: the version the gateway runs."""

from __future__ import annotations

from flow.v1 import system_service_pb2 as pb
from services.api.routes.common import Operation

OPERATIONS = (
    Operation(
        "GET", "/version", "getVersion", "Flow's version and the API version (v1).",
        pb.GetVersionRequest, pb.GetVersionResponse,
        call=lambda core, req: core.get_version(req), tags=("System",)),
)
