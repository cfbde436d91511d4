"""Store parse results inside a core unit of work: DAG rows, serialized DAGs, import errors.

DAGs whose file vanished (or no longer defines them) are marked inactive; DAGs submitted as
data (fileloc "dagspec:<dag_id>", services/scheduler/dag_specs.py) have no file and stay.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from flow.db.models import Dag, SerializedDag
from flow.sdk.dagspec import is_spec_fileloc
from services.scheduler import store
from services.scheduler.core import assets, run_creation
from services.scheduler.core.unit import UnitOfWork


@dataclass
class ParseResult:
    path: str
    dags: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


async def upsert_dag(unit: UnitOfWork, data: dict[str, Any], paused_at_creation: bool) -> bool:
    """Store one parsed DAG; True when it is new, changed or came back to the folder."""
    session, dag_id = unit.session, data["dag_id"]
    dag = await session.get(Dag, dag_id)
    changed = dag is None or not dag.is_active
    if dag is None:
        chosen = data.get("is_paused_upon_creation")
        dag = Dag(dag_id=dag_id, is_paused=paused_at_creation if chosen is None else chosen)
        session.add(dag)
    dag.fileloc = data.get("fileloc") or ""
    dag.description = data.get("description")
    dag.schedule = data.get("schedule")
    dag.tags = list(data.get("tags") or [])
    dag.owners = list(data.get("owners") or [])
    dag.doc_md = data.get("doc_md")
    dag.is_active = True
    dag.last_parsed_time = unit.now
    await assets.store_schedule(unit, dag_id, list(data.get("asset_schedule") or []))
    text = json.dumps(data, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()
    row = await session.get(SerializedDag, dag_id)
    if row is None:
        session.add(SerializedDag(dag_id=dag_id, data=text, dag_hash=digest, updated_at=unit.now))
    elif row.dag_hash != digest:
        row.data, row.dag_hash, row.updated_at = text, digest, unit.now
        changed = True
    return changed


async def store_results(unit: UnitOfWork, results: list[ParseResult], present: set[str],
                        paused_at_creation: bool = False) -> None:
    """Apply one parsing round; `present` is every DAG file now in the folder. A new or
    changed DAG gets its next run computed (and created, when due) in the same unit."""
    session = unit.session
    to_schedule: list[str] = []
    by_file = await store.dags_by_file(session)
    for result in results:
        if result.error:
            await store.set_import_error(session, result.path, result.error, unit.now)
            continue
        await store.clear_import_errors(session, [result.path])
        seen = {d["dag_id"] for d in result.dags}
        for data in result.dags:
            if await upsert_dag(unit, data, paused_at_creation):
                to_schedule.append(data["dag_id"])  # noqa: PERF401 (an await in the loop)
        for old in by_file.get(result.path, []):
            if old.dag_id not in seen and old.fileloc == result.path:
                old.is_active = False
    for fileloc, dags in by_file.items():
        if fileloc not in present and not is_spec_fileloc(fileloc):
            for dag in dags:
                dag.is_active = False
    await store.clear_vanished_import_errors(session, present)
    await session.flush()
    for dag_id in to_schedule:
        await run_creation.schedule_dag(unit, dag_id)
