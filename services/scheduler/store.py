"""Queries and guarded writes the scheduler needs. Each takes a session and never commits.

Every state write is `UPDATE ... WHERE state IN allowed_sources(target)`; callers check the
returned row count (DESIGN invariant 4).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ClauseElement

from flow.db.models import (
    AssetEvent,
    Backfill,
    Dag,
    DagRun,
    DagScheduleAsset,
    ImportError_,
    Pool,
    RenderedTaskInstanceFields,
    SerializedDag,
    TaskInstance,
    TaskInstanceHistory,
    XCom,
)
from flow.errors import NotFoundError, did_you_mean
from flow.states import DagRunState, DagRunType, TaskInstanceState
from services.scheduler.core.scheduling import task_state
from services.scheduler.core.state_machine import allowed_sources, run_allowed_sources
from services.scheduler.core.types import TIKey

TI = TaskInstance


async def core(session: AsyncSession) -> AsyncConnection:
    """The session's connection, for the hot batch writes: they need none of the ORM's
    per-statement work (identity map, ORM results), which cost more CPU than the SQL itself.
    Pending ORM changes are flushed first, as `session.execute` would autoflush them."""
    await session.flush()
    return await session.connection()


def _ti_where(key: TIKey) -> tuple[Any, ...]:
    return (TI.dag_id == key.dag_id, TI.run_id == key.run_id, TI.task_id == key.task_id,
            TI.map_index == key.map_index)


async def transition_tis(
    session: AsyncSession, dag_id: str, run_id: str, refs: Sequence[tuple[str, int]],
    target: TaskInstanceState, values: dict[str, Any] | None = None,
    *, try_number: int | None = None,
    sources: frozenset[TaskInstanceState] | None = None,
) -> int:
    """Move task instances, each (task_id, map_index), to `target` where the table allows it
    (or, for operator commands, from `sources` of the state machine's mark table); returns
    the row count."""
    values = values or {}
    bound = {name: value for name, value in values.items()
             if not isinstance(value, ClauseElement)}
    computed = tuple(sorted((name, value) for name, value in values.items()
                            if name not in bound))
    unmapped = all(map_index == -1 for _, map_index in refs)  # the common case
    stmt = _transition_statement(target, tuple(sorted(bound)), computed, sources,
                                 try_number is not None, unmapped)
    params: dict[str, Any] = {"b_dag_id": dag_id, "b_run_id": run_id,
                              **{f"v_{name}": value for name, value in bound.items()}}
    if try_number is not None:
        params["b_try_number"] = try_number
    if unmapped:
        params["b_task_ids"] = [t for t, _ in refs]
    else:
        stmt = stmt.where(tuple_(TI.task_id, TI.map_index).in_(list(refs)))
    result = await (await core(session)).execute(stmt, params)
    return int(result.rowcount)


# A new try's number, computed by the database (a shared expression: transition_tis keeps
# one statement per expression it is given).
NEXT_TRY = TI.try_number + 1


@functools.lru_cache(maxsize=256)
def _transition_statement(target: TaskInstanceState, value_names: tuple[str, ...],
                          computed: tuple[tuple[str, Any], ...],
                          sources: frozenset[TaskInstanceState] | None, with_try: bool,
                          unmapped: bool) -> Update:
    """transition_tis' UPDATE for one shape of call, built once (the run, the task ids and
    the values are parameters; SQL expressions among the values, such as NEXT_TRY, are part
    of the statement): building a statement and its cache key cost more CPU than running
    it. For mapped instances the caller adds its (task_id, map_index) condition."""
    stmt = update(TI).where(
        TI.dag_id == bindparam("b_dag_id"), TI.run_id == bindparam("b_run_id"),
        TI.state.in_(sorted(allowed_sources(target) if sources is None else sources)),
    ).values(state=target, **{name: bindparam(f"v_{name}") for name in value_names},
             **dict(computed))
    if with_try:
        stmt = stmt.where(TI.try_number == bindparam("b_try_number"))
    if unmapped:
        stmt = stmt.where(TI.task_id.in_(bindparam("b_task_ids", expanding=True)),
                          TI.map_index == -1)
    return stmt


async def finish_tries(
    session: AsyncSession, target: TaskInstanceState, rows: Sequence[dict[str, Any]],
) -> int:
    """Move many running tries to `target` in one executemany; each row names its TI
    (b_dag_id, b_run_id, b_task_id, b_map_index, b_try_number) and its start_date, end_date,
    duration and next_retry_at. Returns the total row count."""
    if not rows:
        return 0
    result = await (await core(session)).execute(_finish_statement(target), list(rows))
    return int(result.rowcount)


@functools.cache
def _finish_statement(target: TaskInstanceState) -> Update:
    """finish_tries' UPDATE, built once per target state."""
    return update(TI).where(
        TI.dag_id == bindparam("b_dag_id"), TI.run_id == bindparam("b_run_id"),
        TI.task_id == bindparam("b_task_id"), TI.map_index == bindparam("b_map_index"),
        TI.try_number == bindparam("b_try_number"),
        # spelled out: an expanding IN cannot go into an executemany
        or_(*(TI.state == source for source in sorted(allowed_sources(target)))),
    ).values(state=target,
             # The start its claim wrote wins: for a sensor poking again after a reschedule,
             # its first poke's start (see claim_tis).
             start_date=func.coalesce(TI.start_date, bindparam("b_start_date")),
             end_date=bindparam("b_end_date"), duration=bindparam("b_duration"),
             next_retry_at=bindparam("b_next_retry_at"))


async def transition_run(
    session: AsyncSession, run_pk: int, target: DagRunState, values: dict[str, Any] | None = None,
    *, sources: frozenset[DagRunState] | None = None,
) -> int:
    """Move a DAG run to `target` where the table allows it (or, for an operator's mark, from
    `sources` of the state machine's run mark table); returns the row count."""
    result = await (await core(session)).execute(
        update(DagRun).where(DagRun.id == run_pk, DagRun.state.in_(
            run_allowed_sources(target) if sources is None else sources))
        .values(state=target, **(values or {})).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def claim_tis(session: AsyncSession, tries: Sequence[tuple[TIKey, int]],
                    now: datetime, hostname: str, worker_id: str) -> list[Row[Any]]:
    """queued -> running for each (key, try_number) that is still claimable, in one
    statement; the updated rows (those missing were not claimable). The start is `now`,
    unless the try started already: a sensor poking again after a reschedule keeps the
    start of its first poke (a new try has none)."""
    if not tries:
        return []
    result = await (await core(session)).execute(_claim_statement(), {
        "b_tries": [(k.dag_id, k.run_id, k.task_id, k.map_index, n) for k, n in tries],
        "b_now": now, "b_hostname": hostname, "b_worker_id": worker_id})
    return list(result.all())


@functools.cache
def _claim_statement() -> Update:
    """claim_tis' UPDATE, built once."""
    return update(TI).where(
        tuple_(TI.dag_id, TI.run_id, TI.task_id, TI.map_index, TI.try_number).in_(
            bindparam("b_tries", expanding=True)),
        TI.state.in_(sorted(allowed_sources(TaskInstanceState.RUNNING))),
    ).values(state=TaskInstanceState.RUNNING,
             start_date=func.coalesce(TI.start_date, bindparam("b_now")),
             hostname=bindparam("b_hostname"), worker_id=bindparam("b_worker_id"),
             ).returning(*TI.__table__.columns)


async def delete_runs(session: AsyncSession, dag_id: str, run_ids: Sequence[str] | None,
                      ) -> int:
    """Delete runs of `dag_id` (all of them when `run_ids` is None) with their task
    instances, tries, XComs and rendered fields; returns how many runs were deleted."""
    counted = 0
    for table in (TaskInstance, TaskInstanceHistory, XCom, RenderedTaskInstanceFields, DagRun):
        stmt = delete(table).where(table.dag_id == dag_id)
        if run_ids is not None:
            stmt = stmt.where(table.run_id.in_(list(run_ids)))
        result = await session.execute(stmt.execution_options(synchronize_session=False))
        counted = int(result.rowcount)  # type: ignore[attr-defined]  # the last: DagRun
    return counted


async def delete_dag(session: AsyncSession, dag_id: str) -> None:
    """Delete a DAG's own rows (its runs go with delete_runs)."""
    for table in (SerializedDag, Dag):
        await session.execute(delete(table).where(table.dag_id == dag_id)
                              .execution_options(synchronize_session=False))


async def list_tries(session: AsyncSession, key: TIKey, offset: int, limit: int,
                     ) -> Sequence[TaskInstanceHistory]:
    H = TaskInstanceHistory
    return (await session.execute(select(H).where(
        H.dag_id == key.dag_id, H.run_id == key.run_id, H.task_id == key.task_id,
        H.map_index == key.map_index).order_by(H.try_number).offset(offset).limit(limit))
    ).scalars().all()


async def get_ti(session: AsyncSession, key: TIKey) -> TaskInstance | None:
    return await session.get(TI, (key.dag_id, key.run_id, key.task_id, key.map_index))


async def drop_unexpanded_ti(session: AsyncSession, dag_id: str, run_id: str,
                             task_id: str) -> int:
    """Delete a mapped task's placeholder instance (map_index -1, never run) when its
    instances 0..n-1 are created; returns the row count."""
    result = await session.execute(
        delete(TI).where(TI.dag_id == dag_id, TI.run_id == run_id, TI.task_id == task_id,
                         TI.map_index == -1,
                         TI.state.in_([TaskInstanceState.NONE, TaskInstanceState.SCHEDULED]))
        .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def insert_tis(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await (await core(session)).execute(insert(TI), rows)


async def add_history(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await (await core(session)).execute(insert(TaskInstanceHistory), rows)


async def find_run(session: AsyncSession, dag_id: str, run_id: str) -> DagRun | None:
    stmt = select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def active_runs(session: AsyncSession) -> Sequence[DagRun]:
    return (await session.execute(
        select(DagRun).where(DagRun.state.in_([DagRunState.QUEUED, DagRunState.RUNNING]))
        .order_by(DagRun.id))).scalars().all()


async def tis_of_runs(session: AsyncSession, run_ids: Iterable[tuple[str, str]]) -> list[TI]:
    found: list[TI] = []
    for dag_id, run_id in run_ids:
        found.extend((await session.execute(
            select(TI).where(TI.dag_id == dag_id, TI.run_id == run_id))).scalars().all())
    return found


async def serialized(session: AsyncSession, dag_id: str) -> SerializedDag | None:
    return await session.get(SerializedDag, dag_id)


async def delete_xcoms(session: AsyncSession, key: TIKey) -> None:
    await session.execute(delete(XCom).where(
        XCom.dag_id == key.dag_id, XCom.run_id == key.run_id, XCom.task_id == key.task_id,
        XCom.map_index == key.map_index))


async def put_xcom(session: AsyncSession, key: TIKey, xcom_key: str, value: bytes,
                   content_type: str, now: datetime) -> None:
    """Store one XCom, replacing the same key of the same task instance."""
    await session.execute(delete(XCom).where(
        XCom.dag_id == key.dag_id, XCom.run_id == key.run_id, XCom.task_id == key.task_id,
        XCom.map_index == key.map_index, XCom.key == xcom_key))
    session.add(XCom(dag_id=key.dag_id, run_id=key.run_id, task_id=key.task_id,
                     map_index=key.map_index, key=xcom_key, value=value,
                     content_type=content_type, timestamp=now))


async def get_xcom(session: AsyncSession, key: TIKey, xcom_key: str) -> XCom | None:
    return await session.get(XCom, (key.dag_id, key.run_id, key.task_id, key.map_index, xcom_key))


async def mapped_xcoms(session: AsyncSession, dag_id: str, run_id: str, task_id: str,
                       xcom_key: str) -> Sequence[XCom]:
    """The XComs under `xcom_key` of every instance of a mapped task, in map_index order."""
    return (await session.execute(
        select(XCom).where(XCom.dag_id == dag_id, XCom.run_id == run_id,
                           XCom.task_id == task_id, XCom.key == xcom_key, XCom.map_index >= 0)
        .order_by(XCom.map_index))).scalars().all()


async def list_xcoms(session: AsyncSession, dag_id: str, run_id: str, task_id: str,
                     offset: int, limit: int) -> Sequence[XCom]:
    stmt = (select(XCom).where(XCom.dag_id == dag_id, XCom.run_id == run_id)
            .order_by(XCom.task_id, XCom.map_index, XCom.key).offset(offset).limit(limit))
    if task_id:
        stmt = stmt.where(XCom.task_id == task_id)
    return (await session.execute(stmt)).scalars().all()


async def put_rendered_fields(session: AsyncSession,
                              rows: Sequence[tuple[TIKey, int, dict[str, Any]]]) -> None:
    """Keep the rendered template fields of each task instance's latest try: one delete and
    one insert for a batch of results."""
    if not rows:
        return
    R = RenderedTaskInstanceFields
    keys = [(k.dag_id, k.run_id, k.task_id, k.map_index) for k, _, _ in rows]
    await session.execute(delete(R).where(
        tuple_(R.dag_id, R.run_id, R.task_id, R.map_index).in_(keys)))
    await session.execute(insert(R), [
        {"dag_id": k.dag_id, "run_id": k.run_id, "task_id": k.task_id,
         "map_index": k.map_index, "try_number": n, "rendered_fields": fields}
        for k, n, fields in rows])


async def get_rendered_fields(session: AsyncSession,
                              key: TIKey) -> RenderedTaskInstanceFields | None:
    return await session.get(RenderedTaskInstanceFields,
                             (key.dag_id, key.run_id, key.task_id, key.map_index))


# --- DAGs and import errors -------------------------------------------------------------


async def get_dag(session: AsyncSession, dag_id: str) -> Dag | None:
    return await session.get(Dag, dag_id)


async def dags_by_file(session: AsyncSession) -> dict[str, list[Dag]]:
    by_file: dict[str, list[Dag]] = {}
    for dag in (await session.execute(select(Dag))).scalars():
        by_file.setdefault(dag.fileloc, []).append(dag)
    return by_file


async def set_import_error(session: AsyncSession, filename: str, text: str,
                           now: datetime) -> None:
    row = (await session.execute(
        select(ImportError_).where(ImportError_.filename == filename))).scalar_one_or_none()
    if row is None:
        session.add(ImportError_(filename=filename, stacktrace=text, timestamp=now))
    else:
        row.stacktrace, row.timestamp = text, now


async def clear_import_errors(session: AsyncSession, filenames: Iterable[str]) -> None:
    names = list(filenames)
    if names:
        await session.execute(delete(ImportError_).where(ImportError_.filename.in_(names)))


# --- reads for the control plane ---------------------------------------------------------


async def dag_not_found(session: AsyncSession, dag_id: str) -> NotFoundError:
    """The NOT_FOUND error for an unknown DAG id, naming the nearest known one."""
    known = (await session.execute(select(Dag.dag_id))).scalars().all()
    return NotFoundError(f"DAG '{dag_id}' not found{did_you_mean(dag_id, known) or '.'} See the "
                         "known DAGs with 'flowcli dags list'.", reason="DAG_NOT_FOUND",
                         metadata={"dag_id": dag_id})


async def list_dags(session: AsyncSession, pattern: str, include_inactive: bool,
                    offset: int, limit: int) -> Sequence[Dag]:
    stmt = select(Dag).order_by(Dag.dag_id).offset(offset).limit(limit)
    if pattern:
        stmt = stmt.where(Dag.dag_id.contains(pattern, autoescape=True))
    if not include_inactive:
        stmt = stmt.where(Dag.is_active.is_(True))
    return (await session.execute(stmt)).scalars().all()


async def list_import_errors(session: AsyncSession, offset: int,
                             limit: int) -> Sequence[ImportError_]:
    return (await session.execute(select(ImportError_).order_by(ImportError_.filename)
                                  .offset(offset).limit(limit))).scalars().all()


async def list_runs(session: AsyncSession, dag_id: str, states: Sequence[DagRunState],
                    offset: int, limit: int) -> Sequence[DagRun]:
    stmt = (select(DagRun).where(DagRun.dag_id == dag_id)
            .order_by(DagRun.logical_date.desc(), DagRun.id.desc()).offset(offset).limit(limit))
    if states:
        stmt = stmt.where(DagRun.state.in_(list(states)))
    return (await session.execute(stmt)).scalars().all()


async def list_tis(session: AsyncSession, dag_id: str, run_id: str, offset: int,
                   limit: int) -> Sequence[TI]:
    return (await session.execute(
        select(TI).where(TI.dag_id == dag_id, TI.run_id == run_id)
        .order_by(TI.task_id, TI.map_index).offset(offset).limit(limit))).scalars().all()


async def count_tis(session: AsyncSession, dag_id: str, run_id: str) -> int:
    return int((await session.execute(select(func.count()).select_from(TI).where(
        TI.dag_id == dag_id, TI.run_id == run_id))).scalar_one())


async def clear_vanished_import_errors(session: AsyncSession, present: set[str]) -> None:
    """Drop the import errors of files no longer in the DAG folder."""
    rows = (await session.execute(select(ImportError_.filename))).scalars().all()
    await clear_import_errors(session, [name for name in rows if name not in present])


# --- schedules and backfills -------------------------------------------------------------

AUTOMATED_RUN_TYPES = (DagRunType.SCHEDULED, DagRunType.BACKFILL)


async def last_scheduled_run(session: AsyncSession, dag_id: str) -> DagRun | None:
    """The scheduled run with the latest logical date: the next scheduled interval follows
    it. Backfill runs do not move the schedule (intervals they hold are skipped)."""
    return (await session.execute(
        select(DagRun).where(DagRun.dag_id == dag_id,
                             DagRun.run_type == DagRunType.SCHEDULED)
        .order_by(DagRun.logical_date.desc()).limit(1))).scalar_one_or_none()


async def automated_runs_at(session: AsyncSession, dag_id: str,
                            dates: Sequence[datetime]) -> dict[datetime, DagRun]:
    """The scheduled or backfill runs of `dag_id` at these logical dates."""
    found: dict[datetime, DagRun] = {}
    for start in range(0, len(dates), 500):
        chunk = list(dates[start:start + 500])
        rows = (await session.execute(select(DagRun).where(
            DagRun.dag_id == dag_id, DagRun.run_type.in_(AUTOMATED_RUN_TYPES),
            DagRun.logical_date.in_(chunk)))).scalars().all()
        found.update({row.logical_date: row for row in rows})
    return found


async def scheduled_dags(session: AsyncSession) -> Sequence[Dag]:
    """Active DAGs, for the start-up pass that arms their ticks and starts queued runs."""
    return (await session.execute(select(Dag).where(Dag.is_active.is_(True))
                                  .order_by(Dag.dag_id))).scalars().all()


async def get_backfill(session: AsyncSession, backfill_id: int) -> Backfill | None:
    return await session.get(Backfill, backfill_id)


async def running_backfill(session: AsyncSession, dag_id: str) -> Backfill | None:
    return (await session.execute(select(Backfill).where(
        Backfill.dag_id == dag_id, Backfill.state == "running").limit(1))).scalar_one_or_none()


async def list_backfills(session: AsyncSession, dag_id: str, offset: int,
                         limit: int) -> Sequence[Backfill]:
    stmt = select(Backfill).order_by(Backfill.id.desc()).offset(offset).limit(limit)
    if dag_id:
        stmt = stmt.where(Backfill.dag_id == dag_id)
    return (await session.execute(stmt)).scalars().all()
# --- pools and depends_on_past ------------------------------------------------------------


async def load_pools(session: AsyncSession) -> dict[str, tuple[int, str]]:
    """Every pool: name -> (slots, description)."""
    return {row.pool: (row.slots, row.description or "")
            for row in (await session.execute(select(Pool))).scalars()}


async def previous_run_id(session: AsyncSession, dag_id: str,
                          logical_date: datetime) -> str | None:
    """The run of `dag_id` just before `logical_date`, if any."""
    return (await session.execute(
        select(DagRun.run_id).where(DagRun.dag_id == dag_id,
                                    DagRun.logical_date < logical_date)
        .order_by(DagRun.logical_date.desc()).limit(1))).scalar_one_or_none()


async def run_at(session: AsyncSession, dag_id: str, logical_date: datetime) -> DagRun | None:
    """The run of `dag_id` at exactly `logical_date` (the latest one if several)."""
    return (await session.execute(
        select(DagRun).where(DagRun.dag_id == dag_id, DagRun.logical_date == logical_date)
        .order_by(DagRun.id.desc()).limit(1))).scalar_one_or_none()


async def ti_states(session: AsyncSession, dag_id: str, run_id: str,
                    task_ids: Sequence[str]) -> dict[str, TaskInstanceState]:
    """Each task's state in a run; a mapped task's from its instances (admission.task_state)."""
    rows = (await session.execute(select(TI.task_id, TI.state).where(
        TI.dag_id == dag_id, TI.run_id == run_id, TI.task_id.in_(list(task_ids)))
        .order_by(TI.task_id, TI.map_index))).all()
    found: dict[str, list[TaskInstanceState]] = {}
    for task_id, state in rows:
        found.setdefault(task_id, []).append(TaskInstanceState(state))
    return {task_id: task_state(states) for task_id, states in found.items()}


# --- assets --------------------------------------------------------------------------------


async def list_assets(session: AsyncSession, pattern: str, offset: int, limit: int,
                      ) -> list[tuple[str, list[str], datetime | None]]:
    """Assets named by a DAG's schedule or an update event, ordered by uri: (uri, the DAGs
    scheduled on it, its last update)."""
    uris = union(select(DagScheduleAsset.uri), select(AssetEvent.uri)).subquery()
    stmt = select(uris.c.uri).order_by(uris.c.uri).offset(offset).limit(limit)
    if pattern:
        stmt = stmt.where(uris.c.uri.contains(pattern, autoescape=True))
    page = list((await session.execute(stmt)).scalars().all())
    consumers: dict[str, list[str]] = {}
    for dag_id, uri in (await session.execute(
            select(DagScheduleAsset.dag_id, DagScheduleAsset.uri)
            .where(DagScheduleAsset.uri.in_(page)).order_by(DagScheduleAsset.dag_id))).all():
        consumers.setdefault(uri, []).append(dag_id)
    last = dict((await session.execute(
        select(AssetEvent.uri, func.max(AssetEvent.timestamp))
        .where(AssetEvent.uri.in_(page)).group_by(AssetEvent.uri))).all())
    return [(uri, consumers.get(uri, []), last.get(uri)) for uri in page]


async def list_asset_events(session: AsyncSession, uri: str, source_dag_id: str, offset: int,
                            limit: int) -> Sequence[AssetEvent]:
    stmt = select(AssetEvent).order_by(AssetEvent.id.desc()).offset(offset).limit(limit)
    if uri:
        stmt = stmt.where(AssetEvent.uri == uri)
    if source_dag_id:
        stmt = stmt.where(AssetEvent.source_dag_id == source_dag_id)
    return (await session.execute(stmt)).scalars().all()
