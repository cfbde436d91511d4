"""DAGs submitted as data: validate, version and store a DagSpec, and make it a DAG.

A submission is validated outside the core (pure), built with flow.sdk objects (python
callables stay references: no user code runs here) and stored in one unit of work: the next
`dag_spec` version (none when the latest is the same spec), the DAG row with fileloc
`dagspec:<dag_id>` and its serialized structure, so it is listed, shown and run like a DAG
file's. Versions are immutable, so the claim path caches them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from google.protobuf import json_format
from sqlalchemy import func, select

from flow.db.models import Dag, DagSpecVersion
from flow.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from flow.sdk.dagspec import (
    build_dag,
    canonical_json,
    fileloc_of,
    is_spec_fileloc,
    reduced_to_task,
    spec_hash,
    validate_spec,
    validate_task,
)
from flow.sdk.serialization import serialize_dag
from flow.v1 import dag_pb2
from services.scheduler import store
from services.scheduler.core import run_creation
from services.scheduler.core.event_applier import SchedulingCore
from services.scheduler.core.types import RunRecord
from services.scheduler.core.unit import UnitOfWork
from services.scheduler.dag_processor.storing import upsert_dag

log = structlog.get_logger(__name__)
ADHOC_TAG = "adhoc"
ADHOC_PREFIX = "adhoc_"
_CACHE_LIMIT = 1024


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submission: the stored version and the DAG as it now is."""

    row: DagSpecVersion
    created: bool
    dag: Dag
    serialized: str


def _parse(text: str) -> Any:
    return json_format.Parse(text, dag_pb2.DagSpec())


def adhoc_spec(task: Any) -> Any:
    """The one-task DAG of an ad-hoc task: dag_id "adhoc_" + 12 hex digits of the task's
    digest (the same task reuses its DAG), tagged "adhoc", no schedule."""
    if task.upstream_task_ids:
        raise InvalidArgumentError("An ad-hoc task has no upstream tasks; remove "
                                   "task.upstream_task_ids.", field="task.upstream_task_ids")
    one = dag_pb2.TaskSpec()
    one.CopyFrom(task)
    one.task_id = one.task_id or "task"
    validate_task(one, "task")
    digest = hashlib.sha256(canonical_json(one).encode()).hexdigest()[:12]
    kind = one.WhichOneof("kind") or "task"
    return dag_pb2.DagSpec(dag_id=f"{ADHOC_PREFIX}{digest}", tags=[ADHOC_TAG],
                           description=f"Ad-hoc {kind} task", tasks=[one])


class DagSpecs:
    """Submissions, reads and the claim path's per-task specs."""

    def __init__(self, core: SchedulingCore) -> None:
        self._core = core
        self._cache: dict[tuple[str, int], Any] = {}

    async def submit(self, spec: Any, prefix: str = "spec") -> Submitted:
        """Validate and store `spec` as the DAG's next version (or find it unchanged)."""
        validate_spec(spec, prefix)
        text, digest = canonical_json(spec), spec_hash(spec)

        async def op(unit: UnitOfWork) -> Submitted:
            session = unit.session
            dag = await store.get_dag(session, spec.dag_id)
            if dag is not None and dag.is_active and not is_spec_fileloc(dag.fileloc):
                raise AlreadyExistsError(
                    f"DAG '{spec.dag_id}' is defined in {dag.fileloc}; pick another dag_id.",
                    reason="DAG_DEFINED_IN_FILE", metadata={"dag_id": spec.dag_id})
            latest = await _latest(session, spec.dag_id)
            created = latest is None or latest.spec_hash != digest
            row = latest
            if created:
                row = DagSpecVersion(dag_id=spec.dag_id,
                                     version=(latest.version + 1) if latest else 1,
                                     spec=text, spec_hash=digest, created_at=unit.now)
                session.add(row)
            assert row is not None
            first = await _first_created(session, spec.dag_id) or unit.now
            data = serialize_dag(build_dag(spec, resolve_callables=False, start_date=first))
            data["dag_spec_version"] = row.version
            # A spec's DAG starts unpaused unless it says otherwise, as a file's does by default.
            if await upsert_dag(unit, data, paused_at_creation=False):
                await session.flush()
                await run_creation.schedule_dag(unit, spec.dag_id)
            await session.flush()
            stored = await store.get_dag(session, spec.dag_id)
            serialized = await store.serialized(session, spec.dag_id)
            assert stored is not None and serialized is not None
            return Submitted(row, created, stored, serialized.data)

        result = await self._core.submit(op)
        log.info("dag_spec_submitted", dag_id=spec.dag_id, version=result.row.version,
                 created=result.created)
        return result

    async def get(self, dag_id: str, version: int) -> tuple[Any, DagSpecVersion]:
        """The spec of `version` (0: the latest) and its row; NotFoundError without one."""
        if not dag_id:
            raise InvalidArgumentError("Field 'dag_id' is required.", field="dag_id")
        if version < 0:
            raise InvalidArgumentError("Field 'version' must not be negative.", field="version")
        async with self._core.sessions() as session:
            row = (await session.get(DagSpecVersion, (dag_id, version)) if version
                   else await _latest(session, dag_id))
        if row is None:
            which = f"version {version}" if version else "a spec"
            raise NotFoundError(f"DAG '{dag_id}' has no {which}; list its versions with "
                                f"'flowcli dags spec {dag_id}'.", reason="DAG_SPEC_NOT_FOUND",
                                metadata={"dag_id": dag_id})
        return _parse(row.spec), row

    async def versions(self, dag_id: str, offset: int, limit: int) -> list[DagSpecVersion]:
        """The DAG's versions, newest first; NotFoundError when it has none."""
        if not dag_id:
            raise InvalidArgumentError("Field 'dag_id' is required.", field="dag_id")
        async with self._core.sessions() as session:
            rows = list((await session.scalars(
                select(DagSpecVersion).where(DagSpecVersion.dag_id == dag_id)
                .order_by(DagSpecVersion.version.desc()).offset(offset).limit(limit))).all())
        if not rows and offset == 0:
            raise NotFoundError(f"DAG '{dag_id}' was not submitted as a DagSpec.",
                                reason="DAG_SPEC_NOT_FOUND", metadata={"dag_id": dag_id})
        return rows

    async def task_spec(self, run: RunRecord, task_id: str) -> Any | None:
        """For the claim answer: the run's spec reduced to `task_id`, when its DAG was
        submitted as data (else None)."""
        if not is_spec_fileloc(run.spec.fileloc) or not run.spec.spec_version:
            return None
        key = (run.dag_id, run.spec.spec_version)
        spec = self._cache.get(key)
        if spec is None:
            spec, _row = await self.get(*key)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = spec
        return reduced_to_task(spec, task_id)


async def _latest(session: Any, dag_id: str) -> DagSpecVersion | None:
    row: DagSpecVersion | None = await session.scalar(
        select(DagSpecVersion).where(DagSpecVersion.dag_id == dag_id)
        .order_by(DagSpecVersion.version.desc()).limit(1))
    return row


async def _first_created(session: Any, dag_id: str) -> datetime | None:
    value: datetime | None = await session.scalar(
        select(func.min(DagSpecVersion.created_at)).where(DagSpecVersion.dag_id == dag_id))
    return value


__all__ = ["ADHOC_TAG", "DagSpecs", "Submitted", "adhoc_spec", "fileloc_of"]
