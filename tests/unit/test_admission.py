"""The admission step alone (no DB, no services): which ready tasks it queues under pools,
priorities and limits, and that freed slots are taken again by priority."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from structlog.testing import capture_logs

from flow.states import DagRunState, TaskInstanceState
from services.scheduler.core.admission import Admission
from services.scheduler.core.types import Change, DagSpec, RunRecord, TaskSpec, TIKey, TIRecord

TI = TaskInstanceState
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeUnit:
    """What Admission.admit uses of a UnitOfWork: the index, the batch's changes and ready
    tasks, and the two writes (here: in memory only)."""

    def __init__(self, runs: Sequence[RunRecord]) -> None:
        self.index = {(r.dag_id, r.run_id): r for r in runs}
        self.changes: list[Change] = []
        self.ready: list[tuple[RunRecord, tuple[str, int]]] = []
        self.session: Any = None
        self.queued: list[tuple[str, str]] = []
        self.admission_seen = 0

    async def queue_now(self, run: RunRecord, refs: Sequence[tuple[str, int]]) -> None:
        for ref in refs:
            run.tis[ref].state = TI.QUEUED
            self.queued.append((run.run_id, ref[0]))

    async def set_state(self, run: RunRecord, refs: Sequence[tuple[str, int]],
                        target: TaskInstanceState, values: Any = None) -> None:
        for ref in refs:
            run.tis[ref].state = target


def _run(run_id: str, tasks: dict[str, dict[str, Any]], *, minutes: int = 0,
         max_active_tasks: int | None = None) -> RunRecord:
    specs = {t: TaskSpec(task_id=t, weight_rule="absolute", **kw) for t, kw in tasks.items()}
    spec = DagSpec("d", "", specs, max_active_tasks=max_active_tasks)
    return RunRecord(id=1, dag_id="d", run_id=run_id, state=DagRunState.RUNNING,
                     run_type="manual", logical_date=T0 + timedelta(minutes=minutes),
                     spec=spec, tis={(t, -1): TIRecord(t, TI.NONE, 0, 1) for t in tasks})


def _admit(admission: Admission, unit: FakeUnit, ready: Sequence[tuple[RunRecord, Any]] = (),
           ) -> list[tuple[str, str]]:
    unit.queued = []
    unit.ready.extend((run, t if isinstance(t, tuple) else (t, -1)) for run, t in ready)
    asyncio.run(admission.admit(unit))  # type: ignore[arg-type]
    unit.changes = []
    return unit.queued


def _finish(unit: FakeUnit, run: RunRecord, task_id: str) -> None:
    run.tis[(task_id, -1)].state = TI.SUCCESS
    unit.changes.append(Change(run.dag_id, run.run_id, run.state, T0,
                               TIKey(run.dag_id, run.run_id, task_id), 1, TI.SUCCESS))


def test_pool_slots_go_to_the_highest_weight_and_come_back_when_freed() -> None:
    """A pool of 2 and four ready tasks: the two heaviest are queued, the others wait as
    scheduled; each freed slot goes to the heaviest waiting one."""
    run = _run("r", {f"t{w}": {"pool": "p", "priority_weight": w} for w in (1, 2, 3, 4)})
    admission = Admission()
    admission.pools = {"p": (2, "")}
    unit = FakeUnit([run])
    assert sorted(_admit(admission, unit, [(run, t) for t in run.tis])) == [
        ("r", "t3"), ("r", "t4")]
    assert run.tis[("t1", -1)].state == run.tis[("t2", -1)].state == TI.SCHEDULED
    assert _admit(admission, unit) == []  # nothing freed: nothing moves
    _finish(unit, run, "t4")
    assert _admit(admission, unit) == [("r", "t2")]
    assert admission.usage("p") is not None and admission.usage("p").scheduled == 1


def test_equal_weights_go_by_logical_date() -> None:
    """Same weight: the older run's task first (Airflow's order)."""
    late, early = _run("late", {"t": {}}, minutes=5), _run("early", {"t": {}})
    admission = Admission()
    admission.pools = {"default_pool": (1, "")}
    unit = FakeUnit([late, early])
    assert _admit(admission, unit, [(late, "t"), (early, "t")]) == [("early", "t")]


def test_max_active_tasks_counts_per_run_and_parallelism_in_total() -> None:
    """max_active_tasks=1 lets one task per run through; parallelism=3 caps all runs."""
    runs = [_run(f"r{i}", {"a": {}, "b": {}}, minutes=i, max_active_tasks=1)
            for i in range(4)]
    admission = Admission(parallelism=3)
    admission.pools = {"default_pool": (128, "")}
    unit = FakeUnit(runs)
    queued = _admit(admission, unit, [(r, t) for r in runs for t in ("a", "b")])
    assert len(queued) == 3 and len({run_id for run_id, _ in queued}) == 3


def test_max_active_tis_per_dag_counts_across_runs() -> None:
    """max_active_tis_per_dag=1: one instance of the task at a time over all runs."""
    runs = [_run(f"r{i}", {"t": {"max_active_tis_per_dag": 1}}, minutes=i) for i in range(3)]
    admission = Admission()
    admission.pools = {"default_pool": (128, "")}
    unit = FakeUnit(runs)
    assert _admit(admission, unit, [(r, "t") for r in runs]) == [("r0", "t")]
    _finish(unit, runs[0], "t")
    assert _admit(admission, unit) == [("r1", "t")]


def test_unknown_pool_waits_with_a_warning_until_the_pool_exists() -> None:
    """A task naming no existing pool is left scheduled and logged once; once the pool
    exists (and the admission is marked dirty, as a pool change does) it is queued."""
    run = _run("r", {"t": {"pool": "nowhere"}})
    admission = Admission()
    unit = FakeUnit([run])
    with capture_logs() as logs:
        assert _admit(admission, unit, [(run, "t")]) == []
        _admit(admission, unit)
    assert [e["event"] for e in logs].count("task_pool_unknown") == 1
    assert run.tis[("t", -1)].state == TI.SCHEDULED
    admission.pools["nowhere"] = (1, "")
    admission.dirty = True
    assert _admit(admission, unit) == [("r", "t")]


def test_pool_slots_above_the_pool_size_never_run() -> None:
    """pool_slots=3 in a pool of 2 can never fit: it waits (logged), as in Airflow."""
    run = _run("r", {"big": {"pool": "p", "pool_slots": 3}, "small": {"pool": "p"}})
    admission = Admission()
    admission.pools = {"p": (2, "")}
    unit = FakeUnit([run])
    with capture_logs() as logs:
        assert _admit(admission, unit, [(run, "big"), (run, "small")]) == [("r", "small")]
    assert "task_pool_slots_exceed_pool" in [e["event"] for e in logs]


def test_a_run_knows_when_some_instance_is_unfinished() -> None:
    """RunRecord.has_unfinished, asked after each batch: right whichever instance finishes
    last, and after one is cleared again."""
    run = _run("r", {f"t{i}": {} for i in range(5)})
    order = ["t4", "t0", "t2", "t3", "t1"]
    for task_id in order:
        assert run.has_unfinished()
        run.tis[(task_id, -1)].state = TI.SUCCESS
    assert not run.has_unfinished()
    run.tis[("t2", -1)].state = TI.NONE  # cleared
    assert run.has_unfinished()
    run.tis[("t2", -1)].state = TI.SKIPPED
    assert not run.has_unfinished()
