"""Pull attempts from each queue's durable consumer, as many as there are free slots.

One semaphore of `concurrency` slots is shared by every queue. A fetch asks for at most the
free slots; a fetch timeout means "no messages" and the loop fetches again (a long poll, so
an idle worker does not spin).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext

log = structlog.get_logger(__name__)

Handler = Callable[[Msg, str], Awaitable[None]]


class QueueConsumer:
    """Feeds deliveries of one queue to `handler`, each in its own task, within the slots."""

    def __init__(self, queue: str, sub: JetStreamContext.PullSubscription,
                 slots: asyncio.Semaphore, handler: Handler, *, fetch_timeout: float = 5.0,
                 ) -> None:
        self.queue = queue
        self._sub = sub
        self._slots = slots
        self._handler = handler
        self._fetch_timeout = fetch_timeout
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Fetch and dispatch until `stopping` is set; running handlers are left to finish."""
        stop_wait: asyncio.Future[Any] = asyncio.ensure_future(stopping.wait())
        try:
            while not stopping.is_set():
                acquired = await self._acquire(stop_wait)
                if not acquired:
                    return
                msgs = await self._fetch(acquired, stop_wait)
                for _ in range(acquired - len(msgs)):
                    self._slots.release()
                for msg in msgs:
                    task = asyncio.create_task(self._handle(msg), name=f"attempt:{self.queue}")
                    self.tasks.add(task)
                    task.add_done_callback(self.tasks.discard)
        finally:
            stop_wait.cancel()

    async def _acquire(self, stop_wait: asyncio.Future[Any]) -> int:
        """Wait for one free slot, then take every other free one; 0 when stopping."""
        first: asyncio.Future[Any] = asyncio.ensure_future(self._slots.acquire())
        await asyncio.wait([first, stop_wait], return_when=asyncio.FIRST_COMPLETED)
        if not first.done():
            first.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await first
        if not first.done() or first.cancelled():
            return 0
        if stop_wait.done():
            self._slots.release()
            return 0
        count = 1
        while not self._slots.locked():
            await self._slots.acquire()
            count += 1
        return count

    async def _fetch(self, batch: int, stop_wait: asyncio.Future[Any]) -> list[Msg]:
        fetch: asyncio.Future[list[Msg]] = asyncio.ensure_future(
            self._sub.fetch(batch, timeout=self._fetch_timeout))
        await asyncio.wait([fetch, stop_wait], return_when=asyncio.FIRST_COMPLETED)
        if not fetch.done():
            fetch.cancel()
        try:
            return await fetch
        except (TimeoutError, asyncio.CancelledError):
            # nats-py raises nats.errors.TimeoutError or, from inside fetch, a bare one
            return []
        except nats.errors.Error as exc:  # connection trouble: back off briefly, then retry
            log.warning("fetch_failed", queue=self.queue, error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(stop_wait), 1.0)
            return []

    async def _handle(self, msg: Msg) -> None:
        try:
            await self._handler(msg, self.queue)
        except Exception:  # the outermost handler of one attempt: log, keep the worker up
            log.exception("attempt_handler_crashed", queue=self.queue)
        finally:
            self._slots.release()
