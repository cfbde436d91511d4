"""PythonOperator and its branching kinds: BranchPythonOperator, ShortCircuitOperator."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection, Mapping
from typing import Any

from flow.sdk.baseoperator import BaseOperator
from flow.sdk.context import Context, get_current_context
from flow.sdk.skipping import BranchMixin, SkipMixin, flat_downstream_ids


@functools.lru_cache(maxsize=4096)
def callable_signature(func: Callable[..., Any]) -> inspect.Signature:
    """`func`'s signature, computed once per process (a worker's DAG template computes its
    tasks' before it forks, so no task process has to)."""
    return inspect.signature(func)


def determine_kwargs(func: Callable[..., Any], args: Collection[Any],
                     kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The context keys `func` names (or all of them when it takes **kwargs), as in Airflow."""
    try:
        signature = callable_signature(func)
    except TypeError:  # an unhashable callable
        signature = inspect.signature(func)
    params = list(signature.parameters.values())
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return dict(kwargs)
    positional = {p.name for p in params[: len(args)]}
    return {k: v for k, v in kwargs.items() if k in signature.parameters and k not in positional}


__all__ = ["BranchPythonOperator", "PythonOperator", "ShortCircuitOperator",
           "get_current_context"]


class PythonOperator(BaseOperator):
    """Call `python_callable(*op_args, **op_kwargs)`; its return value is the XCom.

    Context entries (ti, ds, params, ...) are passed when the callable names them or takes
    **kwargs.
    """

    template_fields = ("templates_dict", "op_args", "op_kwargs")
    ui_color = "#ffefeb"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        templates_exts: list[str] | None = None,
        show_return_value_in_logs: bool = True,
        **kwargs: Any,
    ) -> None:
        if not callable(python_callable):
            raise TypeError("`python_callable` param must be callable")
        super().__init__(**kwargs)
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict
        self.templates_exts = templates_exts
        self.show_return_value_in_logs = show_return_value_in_logs

    def execute(self, context: Context) -> Any:
        context_kwargs = dict(context)
        context_kwargs["templates_dict"] = self.templates_dict
        kwargs = {**determine_kwargs(self.python_callable, self.op_args, context_kwargs),
                  **self.op_kwargs}
        result = self.execute_callable(kwargs)
        if self.show_return_value_in_logs:
            print(f"Done. Returned value was: {result!r}", flush=True)
        return result

    def execute_callable(self, kwargs: dict[str, Any]) -> Any:
        return self.python_callable(*self.op_args, **kwargs)


class BranchPythonOperator(PythonOperator, BranchMixin):
    """A PythonOperator whose callable returns the task_id(s) (or task group ids) to follow.

    Direct downstream tasks not followed are skipped; the returned value is the XCom.
    """

    def execute(self, context: Context) -> Any:
        return self.do_branch(context, super().execute(context))


class ShortCircuitOperator(PythonOperator, SkipMixin):
    """Continue only when the callable returns a truthy value; else skip downstream tasks.

    Args:
        ignore_downstream_trigger_rules: True (default) skips every downstream task, whatever
            its trigger rule; False skips only the direct downstream tasks and lets the
            trigger rules of the tasks further down decide.
    """

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules

    def execute(self, context: Context) -> Any:
        condition = super().execute(context)
        print(f"Condition result is {condition}", flush=True)
        if condition:
            print("Proceeding with downstream tasks...", flush=True)
            return condition
        if not self.downstream_task_ids:
            print("No downstream tasks; nothing to do.", flush=True)
            return condition
        to_skip = (flat_downstream_ids(self) if self.ignore_downstream_trigger_rules
                   else set(self.downstream_task_ids))
        print("Skipping downstream tasks", flush=True)
        self.skip(context, to_skip)
        print("Done.", flush=True)
        return condition
