"""BaseBranchOperator: subclass it and implement choose_branch(context) (Airflow's path)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flow.sdk.baseoperator import BaseOperator
from flow.sdk.context import Context
from flow.sdk.skipping import BranchMixin


class BaseBranchOperator(BaseOperator, BranchMixin):
    """A task that picks the downstream task_id(s) to follow; the others are skipped."""

    def choose_branch(self, context: Context) -> str | Iterable[str] | None:
        """The task_id(s), or task group id(s), to follow."""
        raise NotImplementedError(f"{type(self).__name__} must implement choose_branch()")

    def execute(self, context: Context) -> Any:
        return self.do_branch(context, self.choose_branch(context))
