"""The task context: what `**context` and get_current_context() give a running task."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

Context = dict[str, Any]
_current: list[Context] = []


def get_current_context() -> Context:
    """The context of the task running in this process.

    Raises:
        RuntimeError: when called outside a running task.
    """
    if not _current:
        raise RuntimeError(
            "get_current_context() was called outside a running task; call it from inside a "
            "task's callable."
        )
    return _current[-1]


@contextlib.contextmanager
def set_current_context(context: Context) -> Iterator[Context]:
    """Make `context` the current one while a task executes (used by the task runner)."""
    _current.append(context)
    try:
        yield context
    finally:
        _current.pop()
