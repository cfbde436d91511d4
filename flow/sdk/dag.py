"""DAG: a named graph of tasks, used as a context manager or through @dag (as in Airflow)."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flow.sdk.exceptions import DagCycleError, DuplicateTaskIdFound
from flow.sdk.timetables import ScheduleError, timezone_name, validate_dag_schedule

if TYPE_CHECKING:
    from flow.sdk.baseoperator import BaseOperator
    from flow.sdk.task_group import TaskGroup

_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]+$")
_dag_stack: list[DAG] = []
# Every DAG created while a file is being imported; the loader reads and clears it.
_created: list[DAG] = []


def current_dag() -> DAG | None:
    """The DAG of the innermost `with DAG(...)` block, if any."""
    return _dag_stack[-1] if _dag_stack else None


def validate_id(kind: str, value: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 250 or not _ID_PATTERN.match(value):
        raise ValueError(
            f"{kind} {value!r} is invalid: use 1 to 250 letters, digits, '_', '-' or '.'"
        )
    return value


class DAG:
    """A workflow: tasks and the dependencies between them.

    Example:
        with DAG("etl", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)):
            extract >> transform >> load
    """

    def __init__(
        self,
        dag_id: str,
        description: str | None = None,
        schedule: str | timedelta | Iterable[Any] | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        catchup: bool = False,
        default_args: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        max_active_runs: int = 16,
        max_active_tasks: int | None = None,
        dagrun_timeout: timedelta | None = None,
        doc_md: str | None = None,
        on_success_callback: Callable[..., Any] | None = None,
        on_failure_callback: Callable[..., Any] | None = None,
        owner_links: dict[str, str] | None = None,
        render_template_as_native_obj: bool = False,
        template_searchpath: str | Iterable[str] | None = None,
        user_defined_macros: dict[str, Any] | None = None,
        user_defined_filters: dict[str, Any] | None = None,
        is_paused_upon_creation: bool | None = None,
        dag_display_name: str | None = None,
        fileloc: str | None = None,
        schedule_interval: str | timedelta | None = None,
    ) -> None:
        self.dag_id = validate_id("dag_id", dag_id)
        self.description = description
        # Airflow 2's name for `schedule`, still common in DAG files to port.
        self.schedule = schedule if schedule is not None else schedule_interval
        self.start_date = start_date
        self.end_date = end_date
        self.catchup = catchup
        self.default_args: dict[str, Any] = dict(default_args or {})
        self.params: dict[str, Any] = dict(params or {})
        self.tags: list[str] = list(tags or [])
        self.max_active_runs = max_active_runs
        # None: the scheduler's FLOW_CORE__MAX_ACTIVE_TASKS_PER_DAG (Airflow reads the same
        # setting as the default when the DAG is built; Flow's DAG files read no config).
        self.max_active_tasks = max_active_tasks
        self.dagrun_timeout = dagrun_timeout
        self.doc_md = doc_md
        self.on_success_callback = on_success_callback
        self.on_failure_callback = on_failure_callback
        self.owner_links = dict(owner_links or {})
        self.render_template_as_native_obj = render_template_as_native_obj
        self.template_searchpath = template_searchpath
        self.user_defined_macros = dict(user_defined_macros or {})
        self.user_defined_filters = dict(user_defined_filters or {})
        self.is_paused_upon_creation = is_paused_upon_creation
        try:
            validate_dag_schedule(self.schedule, start_date, end_date, max_active_runs)
        except ScheduleError as exc:  # raised here, so the import error names the DAG's line
            raise ValueError(f"DAG '{dag_id}': {exc}") from None
        # As Airflow: the DAG's timezone is its start_date's (UTC when naive or absent).
        self.timezone = timezone_name(start_date)
        self.dag_display_name = dag_display_name or dag_id
        caller_file, self.lineno = _caller()
        self.fileloc = fileloc or caller_file
        self.task_dict: dict[str, BaseOperator] = {}
        self.task_groups: dict[str, TaskGroup] = {}
        _created.append(self)

    def __repr__(self) -> str:
        return f"<DAG: {self.dag_id}>"

    def __enter__(self) -> DAG:
        _dag_stack.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _dag_stack.pop()

    @property
    def tasks(self) -> list[BaseOperator]:
        return list(self.task_dict.values())

    @property
    def task_group_ids(self) -> set[str]:
        return set(self.task_groups)

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    @property
    def owner(self) -> str:
        return ", ".join(sorted({t.owner for t in self.tasks})) or "flow"

    def add_task(self, task: BaseOperator) -> None:
        """Attach a task; a second task with the same id is an error, as in Airflow."""
        if task.task_id in self.task_groups:
            raise DuplicateTaskIdFound(
                f"Task id '{task.task_id}' is already the id of a task group of the DAG "
                f"'{self.dag_id}'")
        if task.task_id in self.task_dict and self.task_dict[task.task_id] is not task:
            raise DuplicateTaskIdFound(
                f"Task id '{task.task_id}' has already been added to the DAG '{self.dag_id}'"
            )
        self.task_dict[task.task_id] = task

    def get_task(self, task_id: str) -> BaseOperator:
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise KeyError(f"Task {task_id!r} not found in DAG {self.dag_id!r}") from None

    def has_task(self, task_id: str) -> bool:
        return task_id in self.task_dict

    def check_cycle(self) -> None:
        """Raise DagCycleError naming a task on a cycle, if the dependencies form one."""
        visiting: set[str] = set()
        done: set[str] = set()
        for start in self.task_dict:
            if start in done:
                continue
            stack: list[tuple[str, Iterable[str]]] = [(start, iter(self._downstream(start)))]
            visiting.add(start)
            while stack:
                node, children = stack[-1]
                child = next(iter(children), None)  # type: ignore[call-overload]
                if child is None:
                    stack.pop()
                    visiting.discard(node)
                    done.add(node)
                    continue
                if child in visiting:
                    raise DagCycleError(
                        f"Cycle detected in DAG '{self.dag_id}': task '{child}' depends on itself"
                        f" through '{node}'"
                    )
                if child not in done:
                    visiting.add(child)
                    stack.append((child, iter(self._downstream(child))))

    def _downstream(self, task_id: str) -> list[str]:
        return sorted(self.task_dict[task_id].downstream_task_ids)

    def topological_sort(self) -> list[BaseOperator]:
        """Tasks ordered so that every task comes after its upstream tasks."""
        self.check_cycle()
        indegree = {tid: len(t.upstream_task_ids) for tid, t in self.task_dict.items()}
        ready = [tid for tid, n in indegree.items() if n == 0]
        order: list[BaseOperator] = []
        while ready:
            tid = ready.pop(0)
            order.append(self.task_dict[tid])
            for child in self._downstream(tid):
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
        return order


def _caller() -> tuple[str, int]:
    """File and line of the first frame outside flow.sdk: where the DAG was defined."""
    frame = inspect.currentframe()
    while frame is not None:
        filename = frame.f_code.co_filename
        if "/flow/sdk/" not in filename.replace("\\", "/"):
            return filename, frame.f_lineno
        frame = frame.f_back
    return "", 0


def dag(
    dag_id: str | Callable[..., Any] | None = None, **dag_kwargs: Any
) -> Any:
    """Decorate a function that builds tasks; calling it returns the DAG (Airflow's @dag).

    The function's name is the dag_id unless given; its docstring becomes doc_md.
    """

    def wrap(func: Callable[..., Any]) -> Callable[..., DAG]:
        @functools.wraps(func)
        def factory(*args: Any, **kwargs: Any) -> DAG:
            kw = dict(dag_kwargs)
            kw.setdefault("doc_md", func.__doc__)
            kw.setdefault("fileloc", inspect.getsourcefile(func) or "")
            with DAG(dag_id if isinstance(dag_id, str) else func.__name__, **kw) as new_dag:
                func(*args, **kwargs)
            return new_dag

        return factory

    if callable(dag_id):
        return wrap(dag_id)
    return wrap
