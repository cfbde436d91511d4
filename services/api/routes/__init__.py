"""REST routes under /api/v1, one module per resource; each module lists its Operations."""

from __future__ import annotations

from services.api.routes import (
    assets,
    backfills,
    connections,
    dag_runs,
    dag_specs,
    dags,
    pools,
    system,
    task_instances,
    users,
    variables,
    workers,
    xcom,
)
from services.api.routes.common import API_PREFIX, Operation

OPERATIONS: tuple[Operation, ...] = (
    *dags.OPERATIONS, *dag_runs.OPERATIONS, *task_instances.OPERATIONS, *xcom.OPERATIONS,
    *variables.OPERATIONS, *connections.OPERATIONS, *workers.OPERATIONS,
    *users.OPERATIONS, *backfills.OPERATIONS, *pools.OPERATIONS,
    *assets.OPERATIONS, *dag_specs.OPERATIONS, *system.OPERATIONS)

__all__ = ["API_PREFIX", "OPERATIONS", "Operation"]
