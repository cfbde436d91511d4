"""Pull attempts from each queue's durable consumer, as many as there are free slots.

One semaphore of `concurrency` slots is shared by every queue. A fetch asks for at most the
free slots; a fetch timeout means "no messages" and the loop fetches again (a long poll, so
an idle worker does not spin). A busy worker waits a moment for a few slots to free up before
it fetches (`batch_goal`, `LINGER_SECONDS`), and `DeferredAcks` sends the acks of stored
results together: fewer round trips per attempt under load, no wait when idle.
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
LINGER_SECONDS = 0.02  # a busy worker waits this long at most for a bigger fetch
ACK_DELAY_SECONDS = 0.02  # an ack waits this long at most for others to leave with


def batch_goal(concurrency: int) -> int:
    """How many free slots a busy worker gathers for one fetch: a quarter of its slots."""
    return max(1, concurrency // 4)


class QueueConsumer:
    """Feeds deliveries of one queue to `handler`, each in its own task, within the slots."""

    def __init__(self, queue: str, sub: JetStreamContext.PullSubscription,
                 slots: asyncio.Semaphore, handler: Handler, *, fetch_timeout: float = 5.0,
                 batch_goal: int = 1, linger: float = LINGER_SECONDS) -> None:
        self.queue = queue
        self._sub = sub
        self._slots = slots
        self._handler = handler
        self._fetch_timeout = fetch_timeout
        self._batch_goal = batch_goal
        self._linger = linger
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
        count = 1 + await self._take_free()
        if count < self._batch_goal:
            count += await self._wait_for_more(count, stop_wait)
        return count

    async def _take_free(self) -> int:
        count = 0
        while not self._slots.locked():
            await self._slots.acquire()
            count += 1
        return count

    async def _wait_for_more(self, have: int, stop_wait: asyncio.Future[Any]) -> int:
        """With most slots busy, wait a moment (`linger`, at most) for more of them to free
        up, so that one fetch and one claim serve several attempts: under load each of those
        round trips costs more CPU than the wait costs time. An idle worker never waits."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._linger
        got = 0
        while have + got < self._batch_goal and not stop_wait.done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            more: asyncio.Future[Any] = asyncio.ensure_future(self._slots.acquire())
            await asyncio.wait([more, stop_wait], timeout=remaining,
                               return_when=asyncio.FIRST_COMPLETED)
            if not more.done():
                more.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await more
            if not more.done() or more.cancelled():
                break
            got += 1 + await self._take_free()
        return got

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


class DeferredAcks:
    """Acks of task messages whose results are stored, sent together: the acks gathered
    within `delay` leave in one write to NATS instead of one each (a write is the costliest
    step of an ack). Nothing waits for an ack: a lost one only means a redelivery after
    ack_wait, which the claim then refuses (the attempt has ended)."""

    def __init__(self, delay: float = ACK_DELAY_SECONDS) -> None:
        self._delay = delay
        self._msgs: list[Msg] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()

    def ack(self, msg: Msg) -> None:
        self._msgs.append(msg)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._delay, self._due)

    def _due(self) -> None:
        self._timer = None
        task = asyncio.create_task(self._send(), name="acks")
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def flush(self) -> None:
        """Send the gathered acks now, and wait for sends already under way."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await asyncio.gather(self._send(), *self._flushing, return_exceptions=True)

    async def _send(self) -> None:
        msgs, self._msgs = self._msgs, []
        results = await asyncio.gather(*(msg.ack() for msg in msgs), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            log.warning("acks_failed", count=len(failed), error=repr(failed[0]))
