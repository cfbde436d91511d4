"""XComArg: a reference to another task's XCom, resolved when the consuming task runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flow.sdk.dependency import DependencyMixin

if TYPE_CHECKING:
    from flow.sdk.baseoperator import BaseOperator
    from flow.sdk.context import Context

XCOM_RETURN_KEY = "return_value"


class XComArg(DependencyMixin):
    """The output of `operator` under `key`; passing it to a task makes it a dependency."""

    def __init__(self, operator: BaseOperator, key: str = XCOM_RETURN_KEY) -> None:
        self.operator = operator
        self.key = key

    def __repr__(self) -> str:
        return f"XComArg({self.operator.task_id!r}, {self.key!r})"

    def __getitem__(self, key: str) -> XComArg:
        """`output["k"]`: the XCom pushed under key "k" (as with multiple_outputs)."""
        return XComArg(self.operator, key)

    def set_upstream(self, other: Any) -> None:
        self.operator.set_upstream(other)

    def set_downstream(self, other: Any) -> None:
        self.operator.set_downstream(other)

    def resolve(self, context: Context) -> Any:
        """Pull the value from the run's XComs (through the task's `ti`)."""
        return context["ti"].xcom_pull(task_ids=self.operator.task_id, key=self.key)


def find_xcom_args(value: Any) -> list[XComArg]:
    """Every XComArg inside nested lists, tuples, sets and dicts."""
    found: list[XComArg] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, XComArg):
            found.append(item)
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found
