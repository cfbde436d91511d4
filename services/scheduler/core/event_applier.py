"""The single writer: batches of operations in one transaction, then commit, then effects.

Every DB mutation of the scheduler goes through `SchedulingCore.submit`, serialized by one
asyncio.Lock. Operations that arrive while a batch runs (claims, events) share the next
batch's transaction. After the commit: retry timers, change notices, then dispatches.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flow.errors import FlowError, InvalidArgumentError, UnavailableError
from flow.sdk.mapped import MAX_MAP_LENGTH
from flow.states import DagRunState, TaskInstanceState
from services.scheduler import store
from services.scheduler.core import backfills, commands, operations, run_creation, run_operations
from services.scheduler.core.admission import Admission
from services.scheduler.core.loading import load_index
from services.scheduler.core.timers import DeadlineTimer
from services.scheduler.core.types import Change, Dispatch, RunRecord, TaskResult, TIKey
from services.scheduler.core.unit import RunIndex, UnitOfWork

log = structlog.get_logger(__name__)
T = TypeVar("T")
Op = Callable[[UnitOfWork], Awaitable[Any]]
Publish = Callable[[Sequence[Dispatch]], Awaitable[None]]
Notify = Callable[[Sequence[Change]], None]
# Asks the workers to stop attempts: (worker_id, attempt key) pairs; at most once.
Cancel = Callable[[Sequence[tuple[str, str]]], Awaitable[None]]


ClaimOutcome = tuple[RunRecord, Any] | FlowError


class ClaimOp:
    """Claims, as an op of their own kind so that a batch runs all its claims together; its
    result is one outcome per request: (run, row), or the error to answer for it."""

    def __init__(self, requests: Sequence[commands.ClaimRequest]) -> None:
        self.requests = requests

    async def __call__(self, unit: UnitOfWork) -> list[ClaimOutcome]:
        return await commands.claim_many(unit, self.requests)


class SchedulingCore:
    """Owns the run index, the write lock and the retry timers."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], publish: Publish,
                 notify: Notify, *, max_xcom_size: int = 1 << 20,
                 max_map_length: int = MAX_MAP_LENGTH,
                 cancel: Cancel | None = None, conf_overrides_params: bool = True,
                 admission: Admission | None = None) -> None:
        self.sessions = sessions
        self.admission = admission or Admission()
        self.index: RunIndex = {}
        self.timers: DeadlineTimer[TIKey] = DeadlineTimer()
        self.run_deadlines: DeadlineTimer[tuple[str, str]] = DeadlineTimer()  # dagrun_timeout
        # Each DAG's next cron tick (dag.next_dagrun_create_after in the DB).
        self.dag_ticks: DeadlineTimer[str] = DeadlineTimer()
        self.republish_needed = False
        self._publish, self._notify, self._cancel = publish, notify, cancel
        self._max_xcom_size = max_xcom_size
        self._max_map_length = max_map_length
        self._conf_overrides_params = conf_overrides_params
        self._lock = asyncio.Lock()
        self._pending: list[tuple[Op, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._stale = False

    async def submit(self, op: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run `op` in the next batch; returns once its batch committed and was published."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((op, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="core_flush")
        result: T = await future
        return result

    async def _flush(self) -> None:
        while self._pending:
            async with self._lock:
                batch, self._pending = self._pending, []
                await self._run_batch(batch)

    async def _run_batch(self, batch: list[tuple[Op, asyncio.Future[Any]]]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            if self._stale:
                await self._reload()
            async with self.sessions.begin() as session:
                unit = UnitOfWork(session, self.index, datetime.now(UTC),
                                  max_map_length=self._max_map_length)
                # The batch's claims go first, together: one statement per worker.
                claims = [(op, f) for op, f in batch if isinstance(op, ClaimOp)]
                if claims:
                    claimed = await commands.claim_many(
                        unit, [r for claim, _ in claims for r in claim.requests])
                    start = 0
                    for claim, future in claims:
                        end = start + len(claim.requests)
                        outcomes.append((future, claimed[start:end], None))
                        start = end
                for op, future in batch:
                    if isinstance(op, ClaimOp):
                        continue
                    try:
                        outcomes.append((future, await op(unit), None))
                    except FlowError as exc:
                        outcomes.append((future, None, exc))
                await self.admission.admit(unit)
                await unit.finish_runs()
                # Runs that ended free slots: start queued runs, create the next ones.
                await run_creation.schedule_freed(unit)
                await self.admission.admit(unit)  # the root tasks of runs started just now
                await unit.write_history()
        except Exception as exc:
            log.exception("batch_failed", operations=len(batch))
            self._stale = True  # the index may hold changes the DB rolled back
            with contextlib.suppress(Exception):
                await self._reload()
            # The driver's message can hold the statement and every parameter: keep it short.
            detail = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
            error = UnavailableError(
                f"The scheduler could not apply the change ({type(exc).__name__}: {detail}); "
                "retry.", reason="DB_BUSY")
            for _op, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        await self._after_commit(unit)
        for future, value, failure in outcomes:
            if future.done():
                continue
            if failure is not None:
                future.set_exception(failure)
            else:
                future.set_result(value)

    async def _after_commit(self, unit: UnitOfWork) -> None:
        for when, key in unit.retries:
            self.timers.add(when, key)
        for when, run_key in unit.run_deadlines:
            self.run_deadlines.add(when, run_key)
        for when, dag_id in unit.dag_ticks:
            self.dag_ticks.add(when, dag_id)
        if unit.changes:
            self._notify(unit.changes)
        if unit.cancels and self._cancel is not None:
            try:
                await self._cancel(unit.cancels)
            except Exception:  # the attempt then runs on; its late result is ignored
                log.exception("attempt_cancel_failed", count=len(unit.cancels))
        await self.publish(unit.dispatches)

    async def publish(self, dispatches: Sequence[Dispatch]) -> None:
        """Publish committed dispatches; on failure, the liveness loop re-publishes later."""
        if not dispatches:
            return
        try:
            await self._publish(dispatches)
        except Exception:
            log.exception("dispatch_publish_failed", count=len(dispatches))
            self.republish_needed = True
            return
        for d in dispatches:
            log.debug("task_dispatched", dag_id=d.key.dag_id, run_id=d.key.run_id,
                      task_id=d.key.task_id, try_number=d.try_number, queue=d.queue)

    async def _reload(self) -> None:
        """Rebuild the index from the DB. It is swapped in only when the DB answered; until
        then `_stale` makes every batch try again first, so no result is ever judged against
        an empty or rolled-back index."""
        fresh: RunIndex = {}
        async with self.sessions() as session:
            await load_index(session, fresh, self.timers, self.run_deadlines)
            pools = await store.load_pools(session)
        self.index.clear()
        self.index.update(fresh)
        self.admission.rebuild(self.index, pools)
        self._stale = False

    # --- start-up -------------------------------------------------------------------------

    async def load(self) -> None:
        """Load active runs into the index (and their retry timers) from the DB."""
        async with self._lock:
            await self._reload()
        log.info("run_index_loaded", runs=len(self.index))

    async def republish_queued(self) -> int:
        """Re-publish every attempt the DB says is queued (invariant 1: safe by dedup + claim)."""
        async with self._lock:
            self.republish_needed = False
            now = datetime.now(UTC)
            dispatches = [
                Dispatch(key=TIKey(run.dag_id, run.run_id, ti.task_id, ti.map_index),
                         try_number=ti.try_number,
                         fileloc=run.spec.fileloc, queue=run.spec.tasks[ti.task_id].queue,
                         max_tries=ti.max_tries, queued_at=now, logical_date=run.logical_date,
                         conf=run.conf,
                         execution_timeout=run.spec.tasks[ti.task_id].execution_timeout,
                         # a queued try that started already is a sensor's next poke: its
                         # first poke's message may still be in the duplicate window
                         rescheduled=ti.start_date is not None)
                for run in self.index.values() for ti in run.tis.values()
                if ti.state == TaskInstanceState.QUEUED and ti.task_id in run.spec.tasks]
        await self.publish(dispatches)
        log.info("queued_attempts_republished", count=len(dispatches))
        return len(dispatches)

    # --- commands -------------------------------------------------------------------------

    async def trigger_dag_run(self, dag_id: str, run_id: str = "",
                              conf: dict[str, Any] | None = None,
                              logical_date: datetime | None = None) -> RunRecord:
        if not dag_id:
            raise InvalidArgumentError("dag_id is required.", field="dag_id")
        return await self.submit(lambda unit: commands.trigger(
            unit, dag_id, run_id, dict(conf or {}), logical_date,
            conf_overrides_params=self._conf_overrides_params))

    async def clear_task_instances(self, request: operations.ClearRequest) -> list[str]:
        if not (request.dag_id and request.run_id):
            raise InvalidArgumentError("dag_id and run_id are required.", field="dag_id")
        return await self.submit(lambda unit: operations.clear(unit, request))

    async def mark_task_instances(self, request: operations.MarkRequest) -> list[str]:
        if not (request.dag_id and request.run_id and request.task_id):
            raise InvalidArgumentError("dag_id, run_id and task_id are required.",
                                       field="task_id")
        return await self.submit(lambda unit: operations.mark(unit, request))

    async def set_dag_run_state(self, dag_id: str, run_id: str, state: DagRunState | None, *,
                                cancel: bool = False) -> RunRecord:
        if not (dag_id and run_id):
            raise InvalidArgumentError("dag_id and run_id are required.", field="run_id")
        if state is None:
            raise InvalidArgumentError("state must be success or failed.", field="state")
        return await self.submit(lambda unit: run_operations.set_run_state(
            unit, dag_id, run_id, state, cancel=cancel))

    async def delete_dag_run(self, dag_id: str, run_id: str) -> None:
        if not (dag_id and run_id):
            raise InvalidArgumentError("dag_id and run_id are required.", field="run_id")
        await self.submit(lambda unit: run_operations.delete_run(unit, dag_id, run_id))

    async def delete_dag(self, dag_id: str) -> tuple[int, str]:
        """Delete a DAG's metadata: (runs deleted, its file)."""
        if not dag_id:
            raise InvalidArgumentError("dag_id is required.", field="dag_id")
        return await self.submit(lambda unit: run_operations.delete_dag(unit, dag_id))

    async def apply_results(self, results: Sequence[TaskResult]) -> None:
        await self.submit(lambda unit: commands.apply_results(unit, results))

    async def claim_attempt(self, request: commands.ClaimRequest) -> tuple[RunRecord, Any]:
        [outcome] = await self.claim_attempts([request])
        if isinstance(outcome, FlowError):
            raise outcome
        return outcome

    async def claim_attempts(self, requests: Sequence[commands.ClaimRequest],
                             ) -> list[ClaimOutcome]:
        """Claim each attempt (queued -> running for exactly its try) in one batch; an
        invalid request gets its error without holding up the others."""
        errors = [_invalid_claim(r) for r in requests]
        valid = [r for r, error in zip(requests, errors, strict=True) if error is None]
        claimed: Iterator[ClaimOutcome] = iter(await self.submit(ClaimOp(valid)) if valid else [])
        return [next(claimed) if error is None else error for error in errors]

    async def push_xcom(self, key: TIKey, xcom_key: str, value: bytes, content_type: str) -> None:
        if not (key.dag_id and key.run_id and key.task_id):
            raise InvalidArgumentError("key needs dag_id, run_id and task_id.", field="key")
        if not xcom_key:
            raise InvalidArgumentError("xcom_key is required.", field="xcom_key")
        if len(value) > self._max_xcom_size:
            raise InvalidArgumentError(
                f"XCom '{xcom_key}' of task '{key.task_id}' is {len(value)} bytes; the limit is "
                f"{self._max_xcom_size} bytes (FLOW_CORE__MAX_XCOM_SIZE). Store large data "
                "elsewhere and push a reference.", field="value", reason="XCOM_TOO_LARGE")

        async def op(unit: UnitOfWork) -> None:
            await store.put_xcom(unit.session, key, xcom_key, value,
                                 content_type or "application/json", unit.now)

        await self.submit(op)

    async def requeue_due(self, keys: Sequence[TIKey]) -> None:
        """Timer callback: queue the next try of task instances whose delay passed."""
        await self.submit(lambda unit: commands.requeue(unit, keys))

    async def time_out_due(self, runs: Sequence[tuple[str, str]]) -> None:
        """Timer callback: fail the runs whose dagrun_timeout passed."""
        await self.submit(lambda unit: commands.time_out_runs(unit, runs))

    async def schedule_due(self, dag_ids: Sequence[str]) -> None:
        """Timer callback: create the runs of DAGs whose next tick came."""
        await self.submit(lambda unit: run_creation.schedule_all(unit, list(dag_ids)))

    async def schedule_all(self) -> None:
        """At start: schedule every active DAG (its tick from the DB, missed ones at once;
        queued runs started as limits allow)."""
        await self.submit(lambda unit: run_creation.schedule_all(unit))

    async def set_dag_paused(self, dag_id: str, paused: bool) -> Any:
        if not dag_id:
            raise InvalidArgumentError("dag_id is required.", field="dag_id")
        return await self.submit(lambda unit: run_creation.set_paused(unit, dag_id, paused))

    async def create_backfill(self, request: backfills.BackfillRequest
                              ) -> tuple[Any, list[backfills.PlannedRun]]:
        if not request.dag_id:
            raise InvalidArgumentError("dag_id is required.", field="dag_id")
        return await self.submit(lambda unit: backfills.create(unit, request))

    async def cancel_backfill(self, backfill_id: int) -> Any:
        if backfill_id <= 0:
            raise InvalidArgumentError("backfill_id is required.", field="backfill_id")
        return await self.submit(lambda unit: backfills.cancel(unit, backfill_id))

    async def run_timers(self) -> None:
        """Retry delays, dagrun timeouts and cron ticks: one mechanism (DeadlineTimer), each
        on its own heap; every due time is also in the DB, so a restart re-arms them all."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.timers.run(self.requeue_due), name="retry_delays")
            tg.create_task(self.run_deadlines.run(self.time_out_due), name="dagrun_timeouts")
            tg.create_task(self.dag_ticks.run(self.schedule_due), name="dag_ticks")

    async def fail_zombies(self, is_running: Callable[[str, str], bool],
                           ttl_seconds: float) -> int:
        older_than = datetime.now(UTC) - timedelta(seconds=ttl_seconds)
        found = await self.submit(
            lambda unit: commands.fail_zombies(unit, is_running, older_than))
        return len(found)


def _invalid_claim(request: commands.ClaimRequest) -> InvalidArgumentError | None:
    key = request.key
    if not (key.dag_id and key.run_id and key.task_id):
        return InvalidArgumentError("key needs dag_id, run_id and task_id.", field="key")
    if request.try_number < 1:
        return InvalidArgumentError("key.try_number must be 1 or more.", field="key.try_number")
    if not request.worker_id:
        return InvalidArgumentError("worker_id is required.", field="worker_id")
    return None
