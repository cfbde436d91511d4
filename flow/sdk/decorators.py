"""TaskFlow: @task turns a function into a task factory; calling it returns an XComArg."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from flow.sdk.dag import current_dag
from flow.sdk.xcom_arg import XComArg


def _unique_task_id(base: str) -> str:
    """Airflow appends __1, __2, ... when a decorated function is called again in one DAG."""
    dag = current_dag()
    if dag is None or base not in dag.task_dict:
        return base
    pattern = re.compile(rf"^{re.escape(base)}__(\d+)$")
    used = [int(m.group(1)) for tid in dag.task_dict if (m := pattern.match(tid))]
    return f"{base}__{max(used, default=0) + 1}"


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

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        options = dict(self.kwargs)
        task_id = _unique_task_id(options.pop("task_id", None) or self.function.__name__)
        options.setdefault("doc_md", self.function.__doc__)
        op = self.operator_class(
            task_id=task_id, python_callable=self.function, op_args=list(args),
            op_kwargs=kwargs, **options)
        return XComArg(op)


@functools.cache
def _python_operator_class() -> type[Any]:
    from flow.operators.python import PythonOperator

    class _PythonDecoratedOperator(PythonOperator):
        """The operator behind @task; named after Airflow's for familiar logs."""

        def execute(self, context: Any) -> Any:
            result = super().execute(context)
            if self.multiple_outputs:
                if not isinstance(result, Mapping):
                    raise TypeError(
                        f"Returned output was type {type(result).__name__}; expected a dict "
                        "with multiple_outputs=True")
                ti = context["ti"]
                for key, value in result.items():
                    ti.xcom_push(key=str(key), value=value)
            return result

    return _PythonDecoratedOperator


class _TaskNamespace:
    """`task` itself: `@task`, `@task(...)`, `@task.python(...)`."""

    def __call__(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return self.python(python_callable, **kwargs)

    def python(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        operator_class = _python_operator_class()

        def wrap(func: Callable[..., Any]) -> _TaskDecorator:
            return _TaskDecorator(func, operator_class, kwargs)

        return wrap(python_callable) if python_callable is not None else wrap


task = _TaskNamespace()
