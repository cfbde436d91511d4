"""How SDK objects inside a task process ask the worker's supervisor for things.

The task runner installs a requester for the duration of an attempt (and the DAG processor's
parse child one for a DAG file's top-level code); Variable, Connection and the task
instance's XCom calls go through it, from the supervisor to the scheduler over gRPC. Nothing
here opens a database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Requester = Callable[[dict[str, Any]], dict[str, Any]]
_requesters: list[Requester] = []


class SupervisorRequestError(RuntimeError):
    """The supervisor could not answer (e.g. the scheduler is unreachable)."""


@contextmanager
def installed(requester: Requester) -> Iterator[None]:
    """Route SDK requests through `requester` while a task runs (used by the task runner)."""
    _requesters.append(requester)
    try:
        yield
    finally:
        _requesters.pop()


def request(op: str, **fields: Any) -> dict[str, Any]:
    """Send one request frame and return the supervisor's answer.

    Raises:
        RuntimeError: outside a running task.
        SupervisorRequestError: the supervisor answered with an error.
    """
    if not _requesters:
        raise RuntimeError(
            f"'{op}' needs a running task (or a DAG file being parsed by the scheduler): "
            "Variables, Connections and XComs are read through the worker or the scheduler, "
            "never the DB. Read it inside the task's callable or in a template "
            "('{{ var.value.key }}').")
    reply = _requesters[-1]({"op": op, **fields})
    if reply.get("error"):
        raise SupervisorRequestError(str(reply["error"]))
    return reply
