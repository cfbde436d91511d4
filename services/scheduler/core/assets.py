"""Data-aware scheduling, as Airflow's assets: a task's success updates the assets in its
outlets; a DAG scheduled on assets gets a run once every one of them was updated since its
last asset-triggered run.

An update is recorded (asset_event) and queued for each DAG scheduled on the asset
(asset_dag_run_queue) in the unit of work that applies the result; the DAG is then looked at
after the batch's operations (run_creation.schedule_dag), which creates the run (QUEUED, so
max_active_runs holds it) and takes the queued rows it consumed. A paused DAG keeps its queue
and runs when unpaused.
"""

from __future__ import annotations

import structlog
from sqlalchemy import delete, select

from flow.db.models import AssetDagRunQueue, AssetEvent, DagScheduleAsset
from services.scheduler.core.types import DagSpec, RunRecord, TIRecord
from services.scheduler.core.unit import UnitOfWork

log = structlog.get_logger(__name__)


async def record_updates(unit: UnitOfWork, run: RunRecord, ti: TIRecord,
                         uris: tuple[str, ...]) -> None:
    """The task instance succeeded: one event per asset of its outlets, and a queued update
    for every DAG scheduled on one of them (looked at after the batch's operations)."""
    if not uris:
        return
    session = unit.session
    session.add_all([AssetEvent(uri=uri, source_dag_id=run.dag_id, source_run_id=run.run_id,
                                source_task_id=ti.task_id, source_map_index=ti.map_index,
                                timestamp=unit.now) for uri in uris])
    consumers = (await session.execute(select(DagScheduleAsset).where(
        DagScheduleAsset.uri.in_(uris)))).scalars().all()
    for row in consumers:
        await session.merge(AssetDagRunQueue(target_dag_id=row.dag_id, uri=row.uri,
                                             created_at=unit.now))
        unit.asset_updated.add(row.dag_id)
    log.info("assets_updated", task_id=ti.task_id, uris=list(uris),
             consumers=sorted({r.dag_id for r in consumers}))


async def take_ready(unit: UnitOfWork, spec: DagSpec) -> bool:
    """Whether every asset of the DAG's schedule was updated since its last asset-triggered
    run; if so, those queued updates are consumed (the caller creates the run)."""
    if not spec.asset_schedule:
        return False
    queued = set((await unit.session.execute(select(AssetDagRunQueue.uri).where(
        AssetDagRunQueue.target_dag_id == spec.dag_id))).scalars().all())
    if not set(spec.asset_schedule) <= queued:
        return False
    await unit.session.execute(delete(AssetDagRunQueue).where(
        AssetDagRunQueue.target_dag_id == spec.dag_id,
        AssetDagRunQueue.uri.in_(list(spec.asset_schedule))))
    return True


async def store_schedule(unit: UnitOfWork, dag_id: str, uris: list[str]) -> None:
    """Keep the assets a (re)parsed DAG is scheduled on; updates queued for assets it no
    longer names are dropped."""
    session = unit.session
    await session.execute(delete(DagScheduleAsset).where(DagScheduleAsset.dag_id == dag_id))
    session.add_all([DagScheduleAsset(dag_id=dag_id, uri=uri) for uri in uris])
    stale = delete(AssetDagRunQueue).where(AssetDagRunQueue.target_dag_id == dag_id)
    if uris:
        stale = stale.where(AssetDagRunQueue.uri.not_in(uris))
    await session.execute(stale)
