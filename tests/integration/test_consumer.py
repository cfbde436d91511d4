"""The worker's QueueConsumer against a real nats-server: fetches within the free slots, and
a busy worker gathers a few free slots for one fetch (services/worker/consumer.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from flow.bus import subjects
from flow.bus.jetstream import ensure_streams, queue_subscription
from flow.config import NatsConfig
from services.worker.consumer import DeferredAcks, QueueConsumer, batch_goal

pytestmark = pytest.mark.integration


class Recorder:
    """Counts the consumer's fetches; each handler holds its slot until released."""

    def __init__(self, sub: Any) -> None:
        self.sub = sub
        self.fetches: list[int] = []
        self.started: list[bytes] = []
        self.release: dict[bytes, asyncio.Event] = {}
        self.stopping = asyncio.Event()

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:  # noqa: ASYNC109 - as nats-py
        msgs: list[Msg] = await self.sub.fetch(batch, timeout=timeout)
        self.fetches.append(len(msgs))
        return msgs

    async def handle(self, msg: Msg, queue: str) -> None:
        self.started.append(msg.data)
        event = self.release.setdefault(msg.data, asyncio.Event())
        await event.wait()
        await msg.ack()

    def finish(self, count: int) -> None:
        for data in [d for d in self.started if not self.release[d].is_set()][:count]:
            self.release[data].set()


async def _until(check: Any, what: str) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.asynccontextmanager
async def consuming(js: JetStreamContext, config: NatsConfig, *, messages: int, slots: int,
                    linger: float) -> AsyncIterator[Recorder]:
    """A QueueConsumer (batch goal 4) running over `messages` queued task messages."""
    await ensure_streams(js, config)
    for n in range(messages):
        await js.publish(subjects.task_subject("default"), f"m{n:02d}".encode())
    recorder = Recorder(await queue_subscription(js, "default", config))
    consumer = QueueConsumer("default", recorder, asyncio.Semaphore(slots),  # type: ignore[arg-type]
                             recorder.handle, fetch_timeout=1.0, batch_goal=4, linger=linger)
    recorder.stopping = asyncio.Event()
    running = asyncio.create_task(consumer.run(recorder.stopping))
    try:
        yield recorder
        await asyncio.wait_for(running, 5)
    finally:
        recorder.stopping.set()
        recorder.finish(messages)
        await asyncio.gather(*consumer.tasks)
        running.cancel()


async def test_a_busy_worker_gathers_free_slots_for_one_fetch(
        js: JetStreamContext, nats_config: NatsConfig) -> None:
    async with consuming(js, nats_config, messages=20, slots=8, linger=30.0) as recorder:
        await _until(lambda: len(recorder.started) == 8, "the first eight")
        assert recorder.fetches == [8]  # idle: every free slot at once, no waiting
        recorder.finish(3)
        await asyncio.sleep(0.3)
        assert recorder.fetches == [8]  # three free of eight: it waits for a fourth...
        recorder.finish(1)
        await _until(lambda: len(recorder.started) == 12, "the next four")
        assert recorder.fetches == [8, 4]  # ...and fetches four with one request
        recorder.stopping.set()  # a consumer waiting for slots stops at once
        recorder.finish(1)


async def test_a_short_linger_fetches_what_is_free(
        js: JetStreamContext, nats_config: NatsConfig) -> None:
    """The wait for more slots is bounded: after it, the free slot alone is fetched for."""
    async with consuming(js, nats_config, messages=6, slots=4, linger=0.05) as recorder:
        await _until(lambda: len(recorder.started) == 4, "the first four")
        recorder.finish(1)
        await _until(lambda: len(recorder.started) == 5, "the fifth, after the linger")
        assert recorder.fetches[:2] == [4, 1]
        recorder.stopping.set()


def test_the_batch_goal_is_a_quarter_of_the_slots() -> None:
    assert [batch_goal(n) for n in (1, 4, 7, 8, 16, 32)] == [1, 1, 1, 2, 4, 8]


async def test_deferred_acks_leave_together_and_are_flushed_on_demand(
        js: JetStreamContext, nats_config: NatsConfig) -> None:
    await ensure_streams(js, nats_config)
    for n in range(5):
        await js.publish(subjects.task_subject("default"), f"m{n}".encode())
    sub = await queue_subscription(js, "default", nats_config)
    msgs = await sub.fetch(5, timeout=2)

    async def unacked() -> int:
        info = await js.consumer_info(subjects.TASKS_STREAM, subjects.consumer_name("default"))
        return int(info.num_ack_pending)

    held = DeferredAcks(delay=30.0)
    for msg in msgs[:3]:
        held.ack(msg)
    await asyncio.sleep(0.2)
    assert await unacked() == 5  # held until the delay ends...
    await held.flush()  # ...or a flush (the worker's shutdown) sends them
    await _until_async(unacked, 2)

    soon = DeferredAcks(delay=0.05)
    for msg in msgs[3:]:
        soon.ack(msg)
    await _until_async(unacked, 0)  # the delay's end sends them on its own


async def _until_async(value: Any, expected: int) -> None:
    for _ in range(300):
        if await value() == expected:
            return
        await asyncio.sleep(0.01)
    assert await value() == expected
