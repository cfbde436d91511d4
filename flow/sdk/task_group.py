"""TaskGroup and @task_group: tasks grouped under a prefixed id, linked as one (Airflow's).

A task created inside `with TaskGroup("extract"):` gets the id `extract.<task_id>` (unless
`prefix_group_id=False`); `group >> task` links the group's leaves to the task, and
`task >> group` links the task to the group's roots, at the time of the call, as in Airflow.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from flow.sdk.dag import DAG, current_dag, validate_id
from flow.sdk.dependency import DependencyMixin
from flow.sdk.exceptions import DuplicateTaskIdFound

if TYPE_CHECKING:
    from flow.sdk.baseoperator import BaseOperator

_group_stack: list[TaskGroup] = []


def current_task_group() -> TaskGroup | None:
    """The group of the innermost `with TaskGroup(...)` block, if any."""
    return _group_stack[-1] if _group_stack else None


class TaskGroup(DependencyMixin):
    """A named group of tasks inside a DAG.

    Args:
        group_id: the group's id; tasks inside get `<group_id>.<task_id>` as their id.
        prefix_group_id: prefix the ids of tasks (and subgroups) with the group id.
        parent_group: the enclosing group; by default the one of the enclosing `with` block.
        dag: the DAG; by default the one of the enclosing `with DAG(...)` block.
        default_args: defaults for the group's tasks, over the DAG's default_args.
        tooltip: shown in the UI.
        add_suffix_on_collision: append `__1`, `__2`, ... when the id is taken (as
            @task_group does) instead of raising DuplicateTaskIdFound.

    Example:
        with TaskGroup("extract") as extract:
            EmptyOperator(task_id="a")       # id "extract.a"
        start >> extract >> end
    """

    def __init__(
        self,
        group_id: str,
        prefix_group_id: bool = True,
        parent_group: TaskGroup | None = None,
        dag: DAG | None = None,
        default_args: dict[str, Any] | None = None,
        tooltip: str = "",
        ui_color: str = "CornflowerBlue",
        ui_fgcolor: str = "#000",
        add_suffix_on_collision: bool = False,
        group_display_name: str | None = None,
    ) -> None:
        self.parent_group = parent_group or current_task_group()
        self.dag: DAG | None = dag or (self.parent_group.dag if self.parent_group else None) \
            or current_dag()
        if self.dag is None:
            raise RuntimeError(f"TaskGroup {group_id!r} must be created inside a DAG")
        self._group_id = validate_id("group_id", group_id)
        self.prefix_group_id = prefix_group_id
        self.default_args: dict[str, Any] = dict(default_args or {})
        self.tooltip = tooltip
        self.ui_color = ui_color
        self.ui_fgcolor = ui_fgcolor
        self.group_display_name = group_display_name or group_id
        self.children: dict[str, BaseOperator | TaskGroup] = {}
        used = self.dag.task_group_ids | set(self.dag.task_dict)
        if self.group_id in used:
            if not add_suffix_on_collision:
                raise DuplicateTaskIdFound(
                    f"group_id '{self.group_id}' has already been added to the DAG")
            base = self._group_id
            pattern = re.compile(rf"^{re.escape(base)}__(\d+)$")
            taken = [int(m.group(1)) for gid in used
                     if (m := pattern.match(gid.rsplit(".", 1)[-1]))]
            self._group_id = f"{base}__{max(taken, default=0) + 1}"
        self.dag.task_groups[self.group_id] = self
        if self.parent_group is not None:
            self.parent_group.children[self.group_id] = self

    def __repr__(self) -> str:
        return f"<TaskGroup: {self.group_id}>"

    @property
    def group_id(self) -> str:
        """The full id: prefixed with the parent's id when the parent prefixes."""
        parent = self.parent_group
        if parent is not None and parent.prefix_group_id:
            return f"{parent.group_id}.{self._group_id}"
        return self._group_id

    @property
    def label(self) -> str:
        return self._group_id

    def child_id(self, label: str) -> str:
        """The id a task or subgroup labelled `label` gets inside this group."""
        return f"{self.group_id}.{label}" if self.prefix_group_id else label

    def merged_default_args(self) -> dict[str, Any]:
        """default_args of the enclosing groups, the inner ones winning."""
        merged = self.parent_group.merged_default_args() if self.parent_group else {}
        merged.update(self.default_args)
        return merged

    def add(self, task: BaseOperator) -> None:
        self.children[task.task_id] = task

    def __enter__(self) -> TaskGroup:
        _group_stack.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _group_stack.pop()

    def iter_tasks(self) -> Iterator[BaseOperator]:
        """Every task of this group and of its subgroups."""
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                yield from child.iter_tasks()
            else:
                yield child

    def has_task(self, task_id: str) -> bool:
        return any(t.task_id == task_id for t in self.iter_tasks())

    def get_roots(self) -> list[BaseOperator]:
        """Tasks of the group with no upstream task inside the group."""
        ids = {t.task_id for t in self.iter_tasks()}
        return [t for t in self.iter_tasks() if not (t.upstream_task_ids & ids)]

    def get_leaves(self) -> list[BaseOperator]:
        """Tasks of the group with no downstream task inside the group."""
        ids = {t.task_id for t in self.iter_tasks()}
        return [t for t in self.iter_tasks() if not (t.downstream_task_ids & ids)]

    @property
    def roots(self) -> list[BaseOperator]:
        return self.get_roots()

    @property
    def leaves(self) -> list[BaseOperator]:
        return self.get_leaves()

    def set_downstream(self, other: Any) -> None:
        for leaf in self.get_leaves():
            leaf.set_downstream(other)

    def set_upstream(self, other: Any) -> None:
        for root in self.get_roots():
            root.set_upstream(other)


class _TaskGroupFactory:
    """What @task_group returns: calling it builds the group by calling the function."""

    def __init__(self, func: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self.function = func
        self.kwargs = kwargs
        functools.update_wrapper(self, func)

    def override(self, **kwargs: Any) -> _TaskGroupFactory:
        return _TaskGroupFactory(self.function, {**self.kwargs, **kwargs})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        options = dict(self.kwargs)
        group_id = options.pop("group_id", None) or self.function.__name__
        options.setdefault("add_suffix_on_collision", True)
        with TaskGroup(group_id, **options) as group:
            if self.function.__doc__ and not group.tooltip:
                group.tooltip = self.function.__doc__
            result = self.function(*args, **kwargs)
        # As Airflow: a function that returns a task (or XComArg) forwards it, so that
        # dependencies bind to it; otherwise the group stands for all its tasks.
        return result if result is not None else group


def task_group(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """Decorate a function that creates tasks; each call creates a TaskGroup around them.

    Accepts TaskGroup's arguments (group_id defaults to the function's name).

    Example:
        @task_group
        def transform(value):
            return double(add_one(value))
    """
    if python_callable is not None:
        return _TaskGroupFactory(python_callable, kwargs)
    return lambda func: _TaskGroupFactory(func, kwargs)
