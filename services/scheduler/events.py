"""In-process broadcaster of committed state changes, for WatchStateChanges.

Each subscriber has a bounded queue; one that falls behind is dropped (its stream ends with
UNAVAILABLE), so a slow client never blocks the scheduling core.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import structlog

from flow.errors import UnavailableError
from services.scheduler.core.types import Change

log = structlog.get_logger(__name__)
_DROPPED = None


class Subscription:
    def __init__(self, dag_id: str, run_id: str, size: int, runs_only: bool = False) -> None:
        self.dag_id, self.run_id, self.runs_only = dag_id, run_id, runs_only
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue(maxsize=size)

    def wants(self, change: Change) -> bool:
        return ((not self.dag_id or change.dag_id == self.dag_id)
                and (not self.run_id or change.run_id == self.run_id)
                and not (self.runs_only and change.key is not None))


class Broadcaster:
    """Fan-out of changes to subscribers; `publish` never waits."""

    def __init__(self, queue_size: int = 10_000) -> None:
        self._subscribers: set[Subscription] = set()
        self._size = queue_size

    def publish(self, changes: Sequence[Change]) -> None:
        for sub in list(self._subscribers):
            for change in changes:
                if not sub.wants(change):
                    continue
                try:
                    sub.queue.put_nowait(change)
                except asyncio.QueueFull:
                    self._drop(sub)
                    break

    def _drop(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.queue.put_nowait(_DROPPED)
        log.warning("watch_subscriber_dropped", dag_id=sub.dag_id, run_id=sub.run_id)

    def close(self) -> None:
        """End every stream (at shutdown)."""
        for sub in list(self._subscribers):
            self._drop(sub)

    async def subscribe(self, dag_id: str = "", run_id: str = "",
                        snapshot: Callable[[], Awaitable[Sequence[Change]]] | None = None,
                        *, runs_only: bool = False) -> AsyncIterator[Change]:
        """Yield matching changes until the subscriber is dropped (then UnavailableError);
        with `runs_only`, only the changes of runs themselves (no task instance's).

        `snapshot` is read after the subscription is registered and yielded first, so a
        watcher sees the current state and then every later change, with no gap between."""
        sub = Subscription(dag_id, run_id, self._size, runs_only)
        self._subscribers.add(sub)
        try:
            if snapshot is not None:
                for current in await snapshot():
                    yield current
            while True:
                change = await sub.queue.get()
                if change is None:  # _DROPPED
                    raise UnavailableError("The watch fell behind the scheduler; reconnect.",
                                           reason="WATCH_DROPPED")
                yield change
        finally:
            self._subscribers.discard(sub)
