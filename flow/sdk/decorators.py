"""TaskFlow: @task turns a function into a task factory; calling it returns an XComArg."""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

from flow.sdk import mapped
from flow.sdk.baseoperator import defaults_for
from flow.sdk.dag import current_dag
from flow.sdk.task_group import current_task_group
from flow.sdk.xcom_arg import XComArg


def _unique_task_id(base: str) -> str:
    """Airflow appends __1, __2, ... when a decorated function is called again in one DAG
    (or group); the group's prefix is added later, by the operator."""
    group = current_task_group()
    dag = current_dag() or (group.dag if group is not None else None)
    full = group.child_id(base) if group is not None else base
    if dag is None or full not in dag.task_dict:
        return base
    pattern = re.compile(rf"^{re.escape(full)}__(\d+)$")
    used = [int(m.group(1)) for tid in dag.task_dict if (m := pattern.match(tid))]
    return f"{base}__{max(used, default=0) + 1}"


def _returns_dict(func: Callable[..., Any]) -> bool:
    """Whether `func` is annotated to return a dict: Airflow then infers multiple_outputs."""
    try:
        hint = typing.get_type_hints(func).get("return")
    except Exception:
        return False
    return hint is dict or typing.get_origin(hint) is dict or (
        isinstance(hint, type) and typing.is_typeddict(hint))


class _TaskDecorator:
    """The object `@task` returns: call it to add a task, or `.override(...)` its arguments."""

    def __init__(self, func: Callable[..., Any], operator_class: type[Any],
                 kwargs: Mapping[str, Any]) -> None:
        self.function = func
        self.operator_class = operator_class
        self.kwargs = dict(kwargs)
        functools.update_wrapper(self, func)

    def override(self, **kwargs: Any) -> _TaskDecorator:
        return _TaskDecorator(self.function, self.operator_class, {**self.kwargs, **kwargs})

    def _options(self) -> dict[str, Any]:
        """The operator's arguments: the decorator's, a unique task_id, the docstring."""
        options = dict(self.kwargs)
        options["task_id"] = _unique_task_id(options.pop("task_id", None)
                                             or self.function.__name__)
        options.setdefault("doc_md", self.function.__doc__)
        if "multiple_outputs" not in options and self.operator_class is _python_operator_class():
            options["multiple_outputs"] = _returns_dict(self.function)
        return options

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        op = self.operator_class(python_callable=self.function, op_args=list(args),
                                 op_kwargs=kwargs, **self._options())
        return XComArg(op)

    def partial(self, **kwargs: Any) -> _TaskPartial:
        """The function's arguments every mapped instance shares (dynamic task mapping)."""
        return _TaskPartial(self, kwargs)

    def expand(self, **mapped: Any) -> XComArg:
        """One task instance per element of `mapped` (their cross product for several)."""
        return self.partial().expand(**mapped)

    def expand_kwargs(self, value: Any) -> XComArg:
        """One task instance per dict of function arguments in `value`."""
        return self.partial().expand_kwargs(value)


class _TaskPartial:
    """`@task` function `.partial(...)`: the arguments the mapped instances share."""

    def __init__(self, decorator: _TaskDecorator, kwargs: dict[str, Any]) -> None:
        self.decorator = decorator
        self.kwargs = kwargs
        name = decorator.function.__name__
        accepts = mapped.function_accepts(decorator.function)
        unknown = sorted(k for k in kwargs if not accepts(k))
        if unknown:
            raise TypeError(f"{name}.partial() got unexpected keyword arguments {unknown}")

    def _create(self, expand_input: mapped.ExpandInput) -> XComArg:
        d = self.decorator
        kwargs = defaults_for(d.operator_class, {
            **d._options(), "python_callable": d.function, "op_args": [],
            "op_kwargs": dict(self.kwargs)})
        return mapped.MappedOperator(d.operator_class, kwargs, expand_input,
                                     expand_into="op_kwargs").output

    def expand(self, **values: Any) -> XComArg:
        d = self.decorator
        mapped.validate_expand(d.function.__name__, mapped.function_accepts(d.function),
                               self.kwargs, values)
        return self._create(mapped.DictOfListsExpandInput(dict(values)))

    def expand_kwargs(self, value: Any) -> XComArg:
        mapped.validate_expand_kwargs(self.decorator.function.__name__, value)
        return self._create(mapped.ListOfDictsExpandInput(value))


@functools.cache
def _python_operator_class() -> type[Any]:
    from flow.operators.python import PythonOperator

    class _PythonDecoratedOperator(PythonOperator):
        """The operator behind @task; named after Airflow's for familiar logs."""

        def execute(self, context: Any) -> Any:
            result = super().execute(context)
            if not self.multiple_outputs or result is None:
                return result
            if not isinstance(result, Mapping):
                raise TypeError(
                    f"Returned output was type {type(result)} expected dictionary for "
                    "multiple_outputs")
            for key in result:
                if not isinstance(key, str):
                    raise TypeError("Returned dictionary keys must be strings when using "
                                    f"multiple_outputs, found {key} ({type(key)}) instead")
            ti = context["ti"]
            for key, value in result.items():
                ti.xcom_push(key=key, value=value)
            # As Airflow: the whole dict is pushed as return_value too.
            return result

    return _PythonDecoratedOperator


@functools.cache
def _bash_operator_class() -> type[Any]:
    from flow.operators.bash import BashOperator
    from flow.operators.python import determine_kwargs

    class _BashDecoratedOperator(BashOperator):
        """The operator behind @task.bash: the function returns the command to run."""

        template_fields = (*BashOperator.template_fields, "op_args", "op_kwargs")

        def __init__(self, *, python_callable: Callable[..., Any], op_args: Any = None,
                     op_kwargs: Any = None, **kwargs: Any) -> None:
            super().__init__(bash_command="", **kwargs)
            self.python_callable = python_callable
            self.op_args = list(op_args or [])
            self.op_kwargs = dict(op_kwargs or {})

        def execute(self, context: Any) -> Any:
            kwargs = {**determine_kwargs(self.python_callable, self.op_args, context),
                      **self.op_kwargs}
            command = self.python_callable(*self.op_args, **kwargs)
            if not isinstance(command, str) or not command.strip():
                raise TypeError("The returned value from the TaskFlow callable must be a "
                                "non-empty string.")
            self.bash_command = self.render_template(command, context, _jinja_env())
            return super().execute(context)

    return _BashDecoratedOperator


def _jinja_env() -> Any:
    from flow.sdk.baseoperator import default_jinja_env

    return default_jinja_env()


class _TaskNamespace:
    """`task` itself: `@task`, `@task(...)`, `@task.python`, `@task.bash`, `@task.branch`,
    `@task.short_circuit`, `@task.sensor`."""

    def __call__(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return self.python(python_callable, **kwargs)

    @staticmethod
    def _decorate(operator_class: type[Any], python_callable: Callable[..., Any] | None,
                  kwargs: dict[str, Any]) -> Any:
        def wrap(func: Callable[..., Any]) -> _TaskDecorator:
            return _TaskDecorator(func, operator_class, kwargs)

        return wrap(python_callable) if python_callable is not None else wrap

    def python(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        """A Python task (the same as `@task`)."""
        return self._decorate(_python_operator_class(), python_callable, kwargs)

    def bash(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        """A Bash task: the function returns the command (Jinja-rendered, then run)."""
        return self._decorate(_bash_operator_class(), python_callable, kwargs)

    def branch(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        """A branch: the function returns the task_id(s) to follow; other direct downstream
        tasks are skipped."""
        from flow.operators.python import BranchPythonOperator

        return self._decorate(BranchPythonOperator, python_callable, kwargs)

    def short_circuit(self, python_callable: Callable[..., Any] | None = None,
                      **kwargs: Any) -> Any:
        """A short circuit: a falsy return value skips the downstream tasks."""
        from flow.operators.python import ShortCircuitOperator

        return self._decorate(ShortCircuitOperator, python_callable, kwargs)

    def sensor(self, python_callable: Callable[..., Any] | None = None,
               **kwargs: Any) -> Any:
        """A sensor: the function is poked until it returns True or a PokeReturnValue that
        is done (its xcom_value is the XCom); takes the sensor arguments (poke_interval,
        timeout, mode, soft_fail, exponential_backoff, max_wait)."""
        from flow.sensors.python import PythonSensor

        return self._decorate(PythonSensor, python_callable, kwargs)


task = _TaskNamespace()
