"""A heap of deadlines (retry delays); the loop waits on an event with a timeout, never polls."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import structlog

from flow.errors import FlowError

log = structlog.get_logger(__name__)
T = TypeVar("T")


class DeadlineTimer(Generic[T]):
    """Items that become due at a time; `run` hands the due ones to a callback in batches."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, T]] = []
        self._seq = itertools.count()
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, when: datetime, item: T) -> None:
        first = self._heap[0][0] if self._heap else None
        heapq.heappush(self._heap, (when, next(self._seq), item))
        if first is None or when < first:
            self._changed.set()

    def pop_due(self, now: datetime) -> list[T]:
        due: list[T] = []
        while self._heap and self._heap[0][0] <= now:
            due.append(heapq.heappop(self._heap)[2])
        return due

    def seconds_to_next(self, now: datetime) -> float | None:
        if not self._heap:
            return None
        return max(0.0, (self._heap[0][0] - now).total_seconds())

    async def run(self, callback: Callable[[list[T]], Awaitable[None]]) -> None:
        """Forever: sleep until the earliest deadline (or a new earlier one), then fire."""
        while True:
            timeout = self.seconds_to_next(datetime.now(UTC))
            self._changed.clear()
            if timeout is None or timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=timeout)
            due = self.pop_due(datetime.now(UTC))
            if not due:
                continue
            try:
                await callback(due)
            except FlowError as exc:  # e.g. the DB is briefly unavailable: fire them again
                log.warning("timers_not_applied", count=len(due), error=exc.message)
                retry_at = datetime.now(UTC) + timedelta(seconds=1)
                for item in due:
                    self.add(retry_at, item)
