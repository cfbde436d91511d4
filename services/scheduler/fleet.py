"""The workers and the task queues, as the heartbeat KV bucket and JetStream see them.

Reads heartbeats for the liveness check and for ListWorkers (one reader of the bucket), and
stream and consumer info for ListQueues. A worker heard from since the scheduler started
that stops heartbeating (its entry expired, or it deleted it on a clean stop) is listed as
offline for a day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import nats.errors
import structlog
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, NoKeysError, NotFoundError

from flow.bus import jetstream, subjects
from flow.config import NatsConfig
from flow.errors import UnavailableError
from flow.v1 import common_pb2, worker_service_pb2
from services.scheduler import convert

log = structlog.get_logger(__name__)

OFFLINE_KEPT = timedelta(days=1)


async def read_heartbeats(kv: Any) -> dict[str, dict[str, Any]] | None:
    """Heartbeat key -> the worker's heartbeat (a dict); None when the bucket is unreadable."""
    try:
        keys = await kv.keys()
    except NoKeysError:
        return {}
    except (nats.errors.Error, TimeoutError) as exc:
        log.warning("heartbeats_unreadable", error=str(exc))
        return None
    beats: dict[str, dict[str, Any]] = {}
    for key in keys:
        try:
            entry = await kv.get(key)
            value = json.loads(entry.value or b"{}")
        except (nats.errors.Error, TimeoutError, ValueError, KeyNotFoundError):
            continue  # expired meanwhile, or not ours: as if absent
        if isinstance(value, dict):
            beats[key] = value
    return beats


def strings(value: Any) -> list[str]:
    """A heartbeat's list field as strings ([] when it is missing or not a list)."""
    return [str(v) for v in value] if isinstance(value, list) else []


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _when(value: Any) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def worker_from_heartbeat(beat: dict[str, Any], state: int) -> worker_service_pb2.Worker:
    running = []
    for attempt in strings(beat.get("running")):
        parsed = subjects.parse_attempt_key(attempt)
        if parsed is not None:
            dag_id, run_id, task_id, map_index, try_number = parsed
            running.append(common_pb2.TaskInstanceKey(
                dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index,
                try_number=try_number))
    worker = worker_service_pb2.Worker(
        worker_id=str(beat.get("worker_id", "")), hostname=str(beat.get("hostname", "")),
        queues=strings(beat.get("queues")), concurrency=_int(beat.get("concurrency")),
        slots_used=len(running), running=running, state=state)
    last = _when(beat.get("last_heartbeat"))
    if last is not None:
        worker.last_heartbeat.FromDatetime(last)
    return worker


@dataclass
class Fleet:
    """What the scheduler knows of the workers; answers ListWorkers and ListQueues."""

    js: JetStreamContext
    config: NatsConfig
    _kv: Any = None
    _seen: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> last heartbeat

    async def heartbeats(self) -> dict[str, dict[str, Any]] | None:
        """The live heartbeats (None when unreadable); remembers who was seen."""
        if self._kv is None:
            try:
                self._kv = await jetstream.heartbeat_bucket(self.js, self.config)
            except (nats.errors.Error, TimeoutError) as exc:
                log.warning("heartbeats_unreadable", error=repr(exc))
                return None
        beats = await read_heartbeats(self._kv)
        if beats is not None:
            self._seen.update(beats)
        return beats

    async def list_workers(self, request: Any) -> worker_service_pb2.ListWorkersResponse:
        offset, limit = convert.page(request.page_size, request.page_token)
        beats = await self.heartbeats()
        if beats is None:
            raise UnavailableError("The worker heartbeats cannot be read from NATS; retry.")
        horizon = datetime.now(UTC) - OFFLINE_KEPT
        for key in [k for k, b in self._seen.items() if k not in beats
                    and (_when(b.get("last_heartbeat")) or horizon) <= horizon]:
            del self._seen[key]
        online = worker_service_pb2.WORKER_STATE_ONLINE
        offline = worker_service_pb2.WORKER_STATE_OFFLINE
        workers = [worker_from_heartbeat(beat, online if key in beats else offline)
                   for key, beat in self._seen.items()]
        if request.queue:
            workers = [w for w in workers if request.queue in w.queues]
        for worker in workers:
            if worker.state == offline:
                del worker.running[:]
                worker.slots_used = 0
        workers.sort(key=lambda w: w.worker_id)
        shown = workers[offset:offset + limit]
        return worker_service_pb2.ListWorkersResponse(
            workers=shown, next_page_token=convert.next_token(offset, limit, len(shown)))

    async def list_queues(self, request: Any) -> worker_service_pb2.ListQueuesResponse:
        offset, limit = convert.page(request.page_size, request.page_token)
        try:
            info = await self.js.stream_info(subjects.TASKS_STREAM,
                                             subjects_filter=subjects.TASKS_SUBJECTS)
            consumers = await self.js.consumers_info(subjects.TASKS_STREAM)
        except NotFoundError:
            info, consumers = None, []
        except (nats.errors.Error, TimeoutError) as exc:
            raise UnavailableError(f"JetStream did not answer ({exc!r}); retry.") from exc
        depth: dict[str, int] = {}
        for subject, count in ((info.state.subjects or {}) if info else {}).items():
            name = subjects.queue_of_subject(subject)
            if name is not None:
                depth[name] = depth.get(name, 0) + int(count)
        in_flight: dict[str, int] = {}
        for consumer in consumers:
            name = subjects.queue_of_subject(consumer.config.filter_subject or "")
            if name is not None:
                in_flight[name] = in_flight.get(name, 0) + int(consumer.num_ack_pending or 0)
        listeners: dict[str, list[tuple[str, int]]] = {}
        for beat in (await self.heartbeats() or {}).values():
            for name in strings(beat.get("queues")):
                listeners.setdefault(name, []).append(
                    (str(beat.get("worker_id", "")), _int(beat.get("concurrency"))))
        queues = [
            worker_service_pb2.Queue(
                name=name, depth=depth.get(name, 0), in_flight=in_flight.get(name, 0),
                worker_ids=sorted(w for w, _ in listeners.get(name, [])),
                slots=sum(n for _, n in listeners.get(name, [])))
            for name in sorted(set(depth) | set(in_flight) | set(listeners))][offset:offset + limit]
        return worker_service_pb2.ListQueuesResponse(
            queues=queues, next_page_token=convert.next_token(offset, limit, len(queues)))
