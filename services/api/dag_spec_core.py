"""The gateway's side of DagSpecService: checks the request, forwards to the scheduler.

The scheduler validates specs in full (services/scheduler/dag_specs.py, with the field at
fault); the gateway only refuses what is missing, so both transports answer the same.
"""

from __future__ import annotations

from typing import Any

from flow.errors import InvalidArgumentError
from services.api.core import _forward


def _required(present: bool, field: str) -> None:
    if not present:
        raise InvalidArgumentError(f"Field '{field}' is required.", field=field)


class DagSpecCore:
    """Submit, read and list DAG specs; submit ad-hoc tasks."""

    def __init__(self, stub: Any) -> None:
        self._stub = stub  # the scheduler's DagSpecServiceStub

    async def submit_dag_spec(self, request: Any) -> Any:
        _required(request.HasField("spec"), "spec")
        _required(bool(request.spec.dag_id), "spec.dag_id")
        return await _forward(self._stub.SubmitDagSpec(request))

    async def get_dag_spec(self, request: Any) -> Any:
        _required(bool(request.dag_id), "dag_id")
        return await _forward(self._stub.GetDagSpec(request))

    async def list_dag_spec_versions(self, request: Any) -> Any:
        _required(bool(request.dag_id), "dag_id")
        return await _forward(self._stub.ListDagSpecVersions(request))

    async def submit_task(self, request: Any) -> Any:
        _required(request.HasField("task"), "task")
        return await _forward(self._stub.SubmitTask(request))
