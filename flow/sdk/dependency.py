"""`>>` and `<<` for everything that takes part in dependencies (tasks, task groups, XComArgs),
over its set_upstream / set_downstream, as Airflow's DependencyMixin."""

from __future__ import annotations

from typing import Any, Self


class DependencyMixin:
    """`a >> b` makes b run after a and returns b; `[a, b] >> c` works through `__rrshift__`."""

    def set_upstream(self, other: Any) -> None:
        raise NotImplementedError

    def set_downstream(self, other: Any) -> None:
        raise NotImplementedError

    def __rshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Any) -> Self:
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> Self:
        self.set_downstream(other)
        return self
