"""BaseOperator: one task of a DAG, with Airflow's arguments, relationships and templating."""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any

import jinja2

from flow.sdk.context import Context
from flow.sdk.dag import DAG, current_dag, validate_id
from flow.sdk.dependency import DependencyMixin
from flow.sdk.task_group import TaskGroup, current_task_group
from flow.sdk.templating import jsonable, render_string, template_env
from flow.sdk.trigger_rule import TriggerRule
from flow.sdk.xcom_arg import XComArg, find_xcom_args

DEFAULT_QUEUE = "default"
DEFAULT_POOL = "default_pool"
WEIGHT_RULES = ("downstream", "upstream", "absolute")  # Airflow's WeightRule values
_applying_defaults: list[bool] = []
_detached: list[bool] = []


@functools.cache
def default_jinja_env() -> jinja2.Environment:
    """The template environment of tasks that bring none (built once per process)."""
    return jinja2.Environment(  # noqa: S701 - output is not HTML
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


_ACCEPTED: dict[type, frozenset[str]] = {}


def accepted_params(cls: type) -> frozenset[str]:
    """Keyword arguments the constructors of `cls` accept (computed once per class)."""
    known = _ACCEPTED.get(cls)
    if known is not None:
        return known
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for name, param in inspect.signature(init).parameters.items():
            if param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL) and name != "self":
                names.add(name)
    _ACCEPTED[cls] = frozenset(names)
    return _ACCEPTED[cls]


def defaults_for(cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """`kwargs` completed from the default_args that apply (those `cls` accepts). Airflow's
    order: the DAG's default_args, then the groups', then the task's own."""
    dag = kwargs.get("dag") or current_dag()
    group = kwargs.get("task_group") or current_task_group()
    defaults = dict(dag.default_args) if dag is not None else {}
    if group is not None:
        defaults.update(group.merged_default_args())
    kwargs = dict(kwargs)
    defaults.update(kwargs.pop("default_args", None) or {})
    accepted = accepted_params(cls)
    for key, value in defaults.items():
        if key not in kwargs and key in accepted:
            kwargs[key] = value
    return kwargs


@contextlib.contextmanager
def detached() -> Iterator[None]:
    """Build operators outside any DAG: their XComArgs set no relationships (used to build
    a mapped task's instance on the worker, a copy of a task the DAG already has)."""
    _detached.append(True)
    try:
        yield
    finally:
        _detached.pop()


def _apply_defaults(init: Callable[..., None]) -> Callable[..., None]:
    """Fill arguments not passed explicitly from the DAG's default_args (apply_defaults)."""

    @functools.wraps(init)
    def wrapper(self: BaseOperator, *args: Any, **kwargs: Any) -> None:
        if _applying_defaults and _applying_defaults[-1]:
            init(self, *args, **kwargs)  # an inner super().__init__(): defaults already applied
            return
        kwargs = defaults_for(type(self), kwargs)
        _applying_defaults.append(True)
        try:
            init(self, *args, **kwargs)
        finally:
            _applying_defaults.pop()
        self._finish_init()

    wrapper.__wrapped_by_flow__ = True  # type: ignore[attr-defined]
    return wrapper


class BaseOperator(DependencyMixin):
    """Base of every operator. Subclasses implement `execute(context)`.

    Args mirror Airflow's BaseOperator: task_id, owner, email, email_on_failure,
    email_on_retry, retries, retry_delay, retry_exponential_backoff, max_retry_delay,
    execution_timeout, trigger_rule, queue, pool, pool_slots, priority_weight, weight_rule,
    do_xcom_push, params, doc_md, task_group and the on_execute/on_success/on_failure/
    on_retry/on_skipped callbacks (a function or a list). An argument that no class of the
    operator accepts raises TypeError with Airflow's message. docs/airflow-compatibility.md
    says which arguments are accepted without effect yet.
    """

    template_fields: Sequence[str] = ()
    template_ext: Sequence[str] = ()
    ui_color: str = "#fff"
    # A MappedOperator: one task instance per element of what it maps over.
    is_mapped: bool = False

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:
        """The arguments every instance of a mapped task shares; `.expand(...)` or
        `.expand_kwargs(...)` on the result adds the task (Airflow's dynamic task mapping)."""
        from flow.sdk.mapped import OperatorPartial

        return OperatorPartial(cls, kwargs)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "__wrapped_by_flow__", False):
            cls.__init__ = _apply_defaults(init)  # type: ignore[method-assign]

    def __init__(
        self,
        *,
        task_id: str,
        owner: str = "flow",
        email: str | Iterable[str] | None = None,
        email_on_retry: bool = True,
        email_on_failure: bool = True,
        retries: int = 0,
        retry_delay: timedelta | float = timedelta(seconds=300),
        retry_exponential_backoff: bool = False,
        max_retry_delay: timedelta | float | None = None,
        execution_timeout: timedelta | float | None = None,
        trigger_rule: str = TriggerRule.ALL_SUCCESS,
        depends_on_past: bool = False,
        wait_for_downstream: bool = False,
        queue: str = DEFAULT_QUEUE,
        pool: str = DEFAULT_POOL,
        pool_slots: int = 1,
        priority_weight: int = 1,
        weight_rule: str = "downstream",
        do_xcom_push: bool = True,
        multiple_outputs: bool = False,
        params: dict[str, Any] | None = None,
        doc_md: str | None = None,
        doc: str | None = None,
        on_execute_callback: Callable[..., Any] | None = None,
        on_success_callback: Callable[..., Any] | None = None,
        on_failure_callback: Callable[..., Any] | None = None,
        on_retry_callback: Callable[..., Any] | None = None,
        on_skipped_callback: Callable[..., Any] | None = None,
        max_active_tis_per_dag: int | None = None,
        max_active_tis_per_dagrun: int | None = None,
        executor_config: dict[str, Any] | None = None,
        sla: timedelta | None = None,
        inlets: Any = None,
        outlets: Any = None,
        doc_json: str | None = None,
        doc_yaml: str | None = None,
        doc_rst: str | None = None,
        start_date: Any = None,
        end_date: Any = None,
        dag: DAG | None = None,
        task_group: TaskGroup | None = None,
        task_display_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            # Airflow's message for arguments no class in the operator's chain accepts.
            raise TypeError(
                f"Invalid arguments were passed to {type(self).__name__} (task_id: {task_id}). "
                f"Invalid arguments were:\n**kwargs: {kwargs}")
        validate_id("task_id", task_id)
        group = task_group or current_task_group()
        self.task_group: TaskGroup | None = group
        self.task_id = group.child_id(task_id) if group is not None else task_id
        self.owner = owner
        self.email = email
        self.email_on_retry = email_on_retry
        self.email_on_failure = email_on_failure
        self.retries = int(retries or 0)
        self.retry_delay = _as_timedelta(retry_delay) or timedelta(0)
        self.retry_exponential_backoff = retry_exponential_backoff
        self.max_retry_delay = _as_timedelta(max_retry_delay)
        self.execution_timeout = _as_timedelta(execution_timeout)
        if not TriggerRule.is_valid(str(trigger_rule)):
            raise ValueError(
                f"The trigger_rule must be one of {[r.value for r in TriggerRule]}; "
                f"'{task_id}' has '{trigger_rule}'"
            )
        self.trigger_rule = TriggerRule(str(trigger_rule))
        # As Airflow: waiting for the previous run's downstream implies depends_on_past.
        self.depends_on_past = depends_on_past or wait_for_downstream
        self.wait_for_downstream = wait_for_downstream
        self.queue = queue
        self.pool = pool
        self.pool_slots = pool_slots
        self.priority_weight = priority_weight
        if weight_rule not in WEIGHT_RULES:
            raise ValueError(f"The weight_rule must be one of {list(WEIGHT_RULES)}; "
                             f"'{task_id}' has '{weight_rule}'")
        self.weight_rule = weight_rule
        self.do_xcom_push = do_xcom_push
        self.multiple_outputs = multiple_outputs
        self.params: dict[str, Any] = dict(params or {})
        self.doc_md = doc_md or doc
        self.on_execute_callback = on_execute_callback
        self.on_success_callback = on_success_callback
        self.on_failure_callback = on_failure_callback
        self.on_retry_callback = on_retry_callback
        self.on_skipped_callback = on_skipped_callback
        self.max_active_tis_per_dag = max_active_tis_per_dag
        # Instances of this task in one run (mapped ones) queued or running at once.
        self.max_active_tis_per_dagrun = max_active_tis_per_dagrun
        self.executor_config = dict(executor_config or {})
        self.sla = sla
        self.inlets = inlets
        self.outlets = outlets
        self.doc_json, self.doc_yaml, self.doc_rst = doc_json, doc_yaml, doc_rst
        self.start_date = start_date
        self.end_date = end_date
        self.task_display_name = task_display_name or task_id
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        self.dag: DAG | None = None
        target = dag or (group.dag if group is not None else None) or current_dag()
        if target is not None:
            self.dag = target
            target.add_task(self)
        if group is not None:
            group.add(self)

    def _finish_init(self) -> None:
        """After the whole __init__ chain: template fields holding XComArgs become upstreams."""
        if _detached:
            return
        for name in self.template_fields:
            for arg in find_xcom_args(getattr(self, name, None)):
                self.set_upstream(arg.operator)

    def __repr__(self) -> str:
        return f"<Task({type(self).__name__}): {self.task_id}>"

    @property
    def operator_name(self) -> str:
        return type(self).__name__

    @property
    def output(self) -> XComArg:
        """This task's return value, as an XComArg for other tasks."""
        return XComArg(self)

    # -- relationships -------------------------------------------------------------------
    def _relate(self, other: Any, *, upstream: bool) -> None:
        items = other if isinstance(other, list | tuple | set) else [other]
        for item in items:
            if isinstance(item, TaskGroup):  # a group: its leaves upstream, its roots downstream
                self._relate(item.get_leaves() if upstream else item.get_roots(),
                             upstream=upstream)
                continue
            task = item.operator if isinstance(item, XComArg) else item
            if not isinstance(task, BaseOperator):
                raise TypeError(f"Relationships are between tasks; got {type(item).__name__}")
            if self.dag is None and task.dag is not None:
                self.dag = task.dag
                task.dag.add_task(self)
            elif task.dag is None and self.dag is not None:
                task.dag = self.dag
                self.dag.add_task(task)
            elif task.dag is not self.dag:
                raise ValueError(
                    f"Tasks '{self.task_id}' and '{task.task_id}' belong to different DAGs")
            if upstream:
                self.upstream_task_ids.add(task.task_id)
                task.downstream_task_ids.add(self.task_id)
            else:
                self.downstream_task_ids.add(task.task_id)
                task.upstream_task_ids.add(self.task_id)

    def set_upstream(self, other: Any) -> None:
        self._relate(other, upstream=True)

    def set_downstream(self, other: Any) -> None:
        self._relate(other, upstream=False)

    @property
    def upstream_list(self) -> list[BaseOperator]:
        assert self.dag is not None
        return [self.dag.task_dict[t] for t in sorted(self.upstream_task_ids)]

    @property
    def downstream_list(self) -> list[BaseOperator]:
        assert self.dag is not None
        return [self.dag.task_dict[t] for t in sorted(self.downstream_task_ids)]

    # -- execution -----------------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        """Do the task's work; the return value is pushed as the `return_value` XCom."""
        raise NotImplementedError(f"{type(self).__name__} must implement execute()")

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None,
                               ) -> None:
        """Resolve XComArgs and render Jinja templates in every template field, in place.

        Strings ending with one of `template_ext` (e.g. `.sh`) name template files, read
        relative to the DAG file's folder (and its template_searchpath), as in Airflow.

        Raises:
            TemplateRenderError: a syntax error, an undefined name or a missing file, naming
                the field and the task.
        """
        env = jinja_env or template_env(self.dag)
        for name in self.template_fields:
            value = getattr(self, name, None)
            setattr(self, name, self._render(value, context, env, name))

    def render_template(self, value: Any, context: Context, env: jinja2.Environment) -> Any:
        return self._render(value, context, env, "")

    def _render(self, value: Any, context: Context, env: jinja2.Environment, field: str) -> Any:
        if isinstance(value, XComArg):
            return value.resolve(context)
        if isinstance(value, str):
            return render_string(env, value, context, self.template_ext, field=field,
                                 task_id=self.task_id)
        if isinstance(value, list):
            return [self._render(v, context, env, field) for v in value]
        if isinstance(value, tuple):
            return tuple(self._render(v, context, env, field) for v in value)
        if isinstance(value, dict):
            return {k: self._render(v, context, env, field) for k, v in value.items()}
        return value

    def rendered_fields(self) -> dict[str, Any]:
        """The template fields' current (rendered) values, as JSON data."""
        return {name: jsonable(getattr(self, name, None)) for name in self.template_fields}


def _as_timedelta(value: timedelta | float | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=float(value))


def chain(*tasks: Any) -> None:
    """Set each element downstream of the previous one; lists are linked pairwise when equal in
    length, as in Airflow's chain()."""
    for left, right in itertools.pairwise(tasks):
        if isinstance(left, list | tuple) and isinstance(right, list | tuple):
            if len(left) != len(right):
                raise ValueError(
                    f"chain() needs lists of equal length to link pairwise; got {len(left)} and "
                    f"{len(right)}")
            for a, b in zip(left, right, strict=True):
                a >> b
        else:
            left >> right


def cross_downstream(from_tasks: Sequence[Any], to_tasks: Any) -> None:
    """Set every task of `to_tasks` downstream of every task of `from_tasks`."""
    for task in from_tasks:
        task >> list(to_tasks) if isinstance(to_tasks, list | tuple) else task >> to_tasks
