"""SkipMixin and BranchMixin: how a task skips tasks downstream of it (Airflow's semantics).

A task records the task ids to skip on its task instance; the worker reports them with the
task's result (TaskEvent.skip_task_ids) and the scheduler marks them skipped in the same unit
of work, before it evaluates the downstream tasks. Trigger rules then propagate the skips.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flow.sdk.context import Context

if TYPE_CHECKING:
    from flow.sdk.baseoperator import BaseOperator


def flat_downstream_ids(task: BaseOperator) -> set[str]:
    """Every task downstream of `task`, directly or not."""
    assert task.dag is not None
    found: set[str] = set()
    stack = list(task.downstream_task_ids)
    while stack:
        task_id = stack.pop()
        if task_id not in found:
            found.add(task_id)
            stack.extend(task.dag.task_dict[task_id].downstream_task_ids)
    return found


class SkipMixin:
    """Lets an operator skip tasks of its run (they must not have started)."""

    def skip(self, context: Context, tasks: Iterable[Any]) -> None:
        """Mark `tasks` (operators or task ids) skipped when this task's result is stored."""
        ids = sorted({t if isinstance(t, str) else t.task_id for t in tasks})
        if not ids:
            return
        print(f"Skipping tasks {ids}", flush=True)
        context["ti"].skip_task_ids.extend(i for i in ids if i not in context["ti"].skip_task_ids)

    def skip_all_except(self, context: Context, branch_task_ids: str | Iterable[str] | None,
                        ) -> None:
        """Skip every direct downstream task except `branch_task_ids` (and the tasks that are
        downstream of those: a `branch >> join` edge beside `branch >> a >> join` keeps join)."""
        task: BaseOperator = context["task"]
        assert task.dag is not None
        dag = task.dag
        if branch_task_ids is None:
            follow: set[str] = set()
        elif isinstance(branch_task_ids, str):
            follow = {branch_task_ids}
        else:
            follow = set(branch_task_ids)
            if not all(isinstance(t, str) for t in follow):
                raise TypeError(
                    f"'branch_task_ids' must be either None, a task ID, or an Iterable of IDs, "
                    f"but got {branch_task_ids!r}")
        invalid = sorted(follow - set(dag.task_dict))
        if invalid:
            raise ValueError(
                f"'branch_task_ids' must contain only valid task_ids. Invalid tasks found: "
                f"{invalid}.")
        for branch_id in list(follow):
            follow |= flat_downstream_ids(dag.task_dict[branch_id])
        downstream = sorted(task.downstream_task_ids)
        self.skip(context, [t for t in downstream if t not in follow])


class BranchMixin(SkipMixin):
    """do_branch(): follow the returned task ids (or task group ids), skip the rest."""

    def do_branch(self, context: Context, branches_to_execute: Any) -> Any:
        print(f"Branch into {branches_to_execute}", flush=True)
        task: BaseOperator = context["task"]
        assert task.dag is not None
        expanded = self._expand_task_groups(task, branches_to_execute)
        print(f"Following branch {sorted(expanded)}", flush=True)
        self.skip_all_except(context, expanded)
        return branches_to_execute

    @staticmethod
    def _expand_task_groups(task: BaseOperator, branches: Any) -> set[str]:
        """Task ids, with a task group id replaced by the ids of the group's root tasks."""
        if branches is None:
            return set()
        items = [branches] if isinstance(branches, str) else list(branches)
        assert task.dag is not None
        ids: set[str] = set()
        for item in items:
            group = task.dag.task_groups.get(item) if isinstance(item, str) else None
            if group is not None:
                ids |= {t.task_id for t in group.get_roots()}
            else:
                ids.add(item)
        return ids
