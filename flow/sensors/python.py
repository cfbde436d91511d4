"""PythonSensor: poke with a Python callable (Airflow's `airflow.sensors.python`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flow.operators.python import determine_kwargs
from flow.sdk.context import Context
from flow.sensors.base import BaseSensorOperator, PokeReturnValue


class PythonSensor(BaseSensorOperator):
    """Done when `python_callable(*op_args, **op_kwargs)` returns a truthy value (or a
    PokeReturnValue whose is_done is true); the callable may take context keys by name."""

    template_fields = ("templates_dict", "op_args", "op_kwargs")

    def __init__(self, *, python_callable: Callable[..., Any],
                 op_args: Sequence[Any] | None = None,
                 op_kwargs: Mapping[str, Any] | None = None,
                 templates_dict: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(python_callable):
            raise TypeError("`python_callable` param must be callable")
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict

    def poke(self, context: Context) -> bool | PokeReturnValue:
        print(f"Poking callable: {getattr(self.python_callable, '__name__', '?')}", flush=True)
        context_kwargs = {**context, "templates_dict": self.templates_dict}
        kwargs = {**determine_kwargs(self.python_callable, self.op_args, context_kwargs),
                  **self.op_kwargs}
        result = self.python_callable(*self.op_args, **kwargs)
        if isinstance(result, PokeReturnValue):
            return result
        return bool(result)
