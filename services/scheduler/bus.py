"""The scheduler's NATS adapters: publish dispatches, consume task events, watch heartbeats.

No policy here: what an event means is decided by the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Sequence
from typing import Any

import nats.errors
import structlog
from google.protobuf.message import DecodeError
from nats.js import JetStreamContext

from flow.bus import jetstream, subjects
from flow.config import NatsConfig
from flow.errors import FlowError
from flow.v1 import dispatch_pb2
from services.scheduler import convert
from services.scheduler.core.event_applier import SchedulingCore
from services.scheduler.core.types import Dispatch, TaskResult
from services.scheduler.fleet import Fleet, strings

log = structlog.get_logger(__name__)
FETCH_BATCH = 256
FETCH_TIMEOUT_SECONDS = 1.0


class DispatchPublisher:
    """Publishes committed dispatches concurrently; each waits for its PubAck."""

    def __init__(self, js: JetStreamContext) -> None:
        self._js = js

    async def __call__(self, dispatches: Sequence[Dispatch]) -> None:
        await asyncio.gather(*(jetstream.publish_dispatch(self._js, convert.dispatch_to_proto(d))
                               for d in dispatches))


class CancelPublisher:
    """Tells workers to stop attempts (core NATS: at most once, nothing to store)."""

    def __init__(self, nc: Any) -> None:
        self._nc = nc

    async def __call__(self, cancels: Sequence[tuple[str, str]]) -> None:
        for worker_id, attempt in cancels:
            await self._nc.publish(subjects.cancel_subject(worker_id), attempt.encode())
        await self._nc.flush()


async def consume_results(js: JetStreamContext, config: NatsConfig, core: SchedulingCore) -> None:
    """Fetch task events in batches, apply each batch in one transaction, then ack it."""
    sub = await jetstream.results_subscription(js, config)
    while True:
        try:
            msgs = await sub.fetch(FETCH_BATCH, timeout=FETCH_TIMEOUT_SECONDS)
        except TimeoutError:
            continue  # no messages (nats-py raises its own or a bare TimeoutError)
        except nats.errors.Error as exc:  # connection trouble: back off briefly, then retry
            log.warning("results_fetch_failed", error=repr(exc))
            await asyncio.sleep(0.5)
            continue
        results: list[TaskResult] = []
        good = []
        for msg in msgs:
            try:
                results.append(convert.event_to_result(dispatch_pb2.TaskEvent.FromString(msg.data)))
            except (DecodeError, ValueError) as exc:
                log.error("task_event_malformed", error=str(exc), subject=msg.subject)
                with contextlib.suppress(nats.errors.Error):
                    await msg.term()
                continue
            good.append(msg)
        try:
            await core.apply_results(results)
        except FlowError as exc:
            log.warning("task_events_not_applied", error=exc.message, count=len(good))
            await _settle(good, ack=False)
            continue
        await _settle(good, ack=True)


async def _settle(msgs: list[Any], *, ack: bool) -> None:
    """Ack (or nak) applied events; a failure only means a redelivery, which the state machine
    ignores, so it is logged rather than allowed to stop the loop."""
    try:
        await asyncio.gather(*(m.ack() if ack else m.nak(delay=1) for m in msgs))
    except nats.errors.Error as exc:
        log.warning("task_events_not_settled", ack=ack, error=repr(exc), count=len(msgs))


def _is_running(running: dict[str, frozenset[str]], worker_id: str, attempt: str) -> bool:
    """Whether `worker_id` heartbeats and lists `attempt` among its running ones."""
    return attempt in running.get(subjects.heartbeat_key(worker_id), frozenset())


def _running_by_worker(beats: dict[str, dict[str, Any]]) -> dict[str, frozenset[str]]:
    """Heartbeat key -> the attempts that worker says it runs, or finished lately (their
    results may still be in flight)."""
    return {key: frozenset(strings(beat.get("running")) + strings(beat.get("finished")))
            for key, beat in beats.items()}


async def watch_liveness(fleet: Fleet, config: NatsConfig, core: SchedulingCore,
                         interval: float = 5.0) -> None:
    """Every few seconds: fail over running attempts that no live worker lists as running
    (its worker stopped heartbeating, or lost the attempt); re-publish queued attempts if
    an earlier publish failed."""
    while True:
        await asyncio.sleep(interval)
        if core.republish_needed:
            await core.republish_queued()
        beats = await fleet.heartbeats()
        if beats is None:
            continue
        running = _running_by_worker(beats)
        try:
            await core.fail_zombies(functools.partial(_is_running, running),
                                    config.heartbeat_ttl_seconds)
        except FlowError as exc:
            log.warning("zombie_check_failed", error=exc.message)
