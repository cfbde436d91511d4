"""Connect to NATS, create streams/consumers/KV idempotently, publish protobuf bodies.

No policy lives here: whether to ack, retry or drop is decided by the worker and scheduler.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import nats
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    PubAck,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from flow.bus import subjects
from flow.config import NatsConfig
from flow.v1 import dispatch_pb2

log = structlog.get_logger(__name__)


@contextlib.asynccontextmanager
async def connect_bus(config: NatsConfig, name: str) -> AsyncIterator[Client]:
    """A NATS connection that reconnects forever; flushed and closed on exit.

    Not drained: a drain waits (up to 30 s) for subscriptions whose consumer task has already
    been cancelled. Nothing is lost by closing: every publish that matters awaited its PubAck,
    and unacked JetStream messages are redelivered."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats_error", error=str(exc))

    nc = await nats.connect(
        config.url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        error_cb=on_error,
        allow_reconnect=True,
    )
    try:
        yield nc
    finally:
        if not nc.is_closed:
            with contextlib.suppress(Exception):
                await nc.flush(timeout=2)
            await nc.close()


async def _ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except BadRequestError:
        # It exists with another configuration (e.g. an older duplicate window): update it.
        await js.update_stream(config)


async def ensure_streams(js: JetStreamContext, config: NatsConfig) -> None:
    """Create or update FLOW_TASKS, FLOW_RESULTS and the heartbeat bucket. Idempotent."""
    for name, subject in ((subjects.TASKS_STREAM, subjects.TASKS_SUBJECTS),
                          (subjects.RESULTS_STREAM, subjects.RESULTS_SUBJECTS)):
        await _ensure_stream(js, StreamConfig(
            name=name,
            subjects=[subject],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            num_replicas=config.replicas,
            duplicate_window=config.duplicate_window_seconds,
        ))
    await heartbeat_bucket(js, config)


async def heartbeat_bucket(js: JetStreamContext, config: NatsConfig) -> KeyValue:
    """The KV bucket of worker heartbeats; entries expire after the configured TTL."""
    try:
        return await js.key_value(subjects.HEARTBEAT_BUCKET)
    except (BucketNotFoundError, NotFoundError):
        return await js.create_key_value(
            bucket=subjects.HEARTBEAT_BUCKET,
            ttl=config.heartbeat_ttl_seconds,
            history=1,
            replicas=config.replicas,
            storage=StorageType.FILE,
        )


async def queue_subscription(
    js: JetStreamContext, queue: str, config: NatsConfig
) -> JetStreamContext.PullSubscription:
    """Bind to the durable pull consumer shared by every worker of `queue`."""
    return await js.pull_subscribe(
        subjects.task_subject(queue),
        durable=subjects.consumer_name(queue),
        stream=subjects.TASKS_STREAM,
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=config.ack_wait_seconds,
            max_deliver=config.max_deliver,
            max_ack_pending=-1,
            deliver_policy=DeliverPolicy.ALL,
        ),
    )


async def results_subscription(
    js: JetStreamContext, config: NatsConfig
) -> JetStreamContext.PullSubscription:
    """Bind to the scheduler's durable consumer of task events."""
    return await js.pull_subscribe(
        subjects.RESULTS_SUBJECTS,
        durable=subjects.RESULTS_CONSUMER,
        stream=subjects.RESULTS_STREAM,
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=config.ack_wait_seconds,
            max_ack_pending=-1,
            deliver_policy=DeliverPolicy.ALL,
        ),
    )


def _msg_id(key: object) -> str:
    return subjects.attempt_key(
        key.dag_id, key.run_id, key.task_id, key.map_index, key.try_number  # type: ignore[attr-defined]
    )


async def publish_dispatch(js: JetStreamContext, dispatch: dispatch_pb2.TaskDispatch) -> PubAck:
    """Publish one attempt to its queue; the attempt key deduplicates re-publishes."""
    return await js.publish(
        subjects.task_subject(dispatch.queue),
        dispatch.SerializeToString(),
        headers={subjects.MSG_ID_HEADER: subjects.poke_msg_id(
            _msg_id(dispatch.key), dispatch.queued_at.ToJsonString())
            if dispatch.rescheduled else _msg_id(dispatch.key)},
    )


async def publish_event(
    js: JetStreamContext, queue: str, event: dispatch_pb2.TaskEvent
) -> PubAck:
    """Publish how an attempt ended; returns once JetStream stored it (the PubAck)."""
    return await js.publish(
        subjects.result_subject(queue),
        event.SerializeToString(),
        headers={subjects.MSG_ID_HEADER: "result/" + (subjects.poke_msg_id(
            _msg_id(event.key), event.reschedule_date.ToJsonString())
            if event.HasField("reschedule_date") else _msg_id(event.key))},
    )
