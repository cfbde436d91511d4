"""EmptyOperator: a task that does nothing; the scheduler may finish it without a worker."""

from __future__ import annotations

from typing import Any

from flow.sdk.baseoperator import BaseOperator
from flow.sdk.context import Context


class EmptyOperator(BaseOperator):
    """Does nothing. Useful to group dependencies."""

    ui_color = "#e8f7e4"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def execute(self, context: Context) -> None:
        return None


DummyOperator = EmptyOperator
