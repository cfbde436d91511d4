"""REST routes of PoolService: Airflow's /pools, with each pool's occupancy."""

from __future__ import annotations

from typing import Any

from flow.v1 import pool_service_pb2 as pb
from services.api.routes.common import Operation


def _named(params: dict[str, Any]) -> dict[str, Any]:
    """PATCH /pools/{name}: the path names the pool of the body."""
    rest = {k: v for k, v in params.items() if k != "name"}
    return {**rest, "pool": {"name": params["name"]}}


OPERATIONS = (
    Operation(
        "GET", "/pools", "listPools", "Lists pools, ordered by name, with their occupancy.",
        pb.ListPoolsRequest, pb.ListPoolsResponse,
        call=lambda core, req: core.list_pools(req),
        query=("page_size", "page_token"), tags=("Pool",)),
    Operation(
        "GET", "/pools/{name}", "getPool", "Gets one pool with its occupancy.",
        pb.GetPoolRequest, pb.GetPoolResponse,
        call=lambda core, req: core.get_pool(req), tags=("Pool",)),
    Operation(
        "POST", "/pools", "createPool",
        "Creates a pool. Body: {\"name\", \"slots\", \"description\"}.",
        pb.CreatePoolRequest, pb.CreatePoolResponse,
        call=lambda core, req: core.create_pool(req), body=True, body_field="pool",
        tags=("Pool",)),
    Operation(
        "PATCH", "/pools/{name}", "updatePool",
        "Changes a pool's slots and description. Body: {\"slots\", \"description\"}; "
        "?allow_missing=true creates it when missing.",
        pb.UpdatePoolRequest, pb.UpdatePoolResponse,
        call=lambda core, req: core.update_pool(req), body=True, body_field="pool",
        shape=_named, query=("allow_missing",), tags=("Pool",)),
    Operation(
        "DELETE", "/pools/{name}", "deletePool", "Deletes a pool (not default_pool).",
        pb.DeletePoolRequest, pb.DeletePoolResponse,
        call=lambda core, req: core.delete_pool(req), tags=("Pool",)),
)
