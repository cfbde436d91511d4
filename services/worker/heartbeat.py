"""Publish this worker's heartbeat to the KV bucket; delete it on a clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import nats.errors
import structlog
from nats.js.kv import KeyValue

from flow.bus import subjects

log = structlog.get_logger(__name__)


class Heartbeat:
    """Puts `{worker_id, hostname, queues, concurrency, running, finished, last_heartbeat}`
    periodically; `finished` lists attempts whose result was published in the last minutes."""

    def __init__(self, kv: KeyValue, worker_id: str, queues: Sequence[str], concurrency: int,
                 running: Callable[[], list[str]], interval: float,
                 finished: Callable[[], list[str]] = list) -> None:
        self._kv = kv
        self._key = subjects.heartbeat_key(worker_id)
        self._worker_id = worker_id
        self._queues = list(queues)
        self._concurrency = concurrency
        self._running = running
        self._finished = finished
        self._interval = interval
        self._hostname = socket.gethostname()

    def value(self) -> bytes:
        return json.dumps({
            "worker_id": self._worker_id, "hostname": self._hostname, "queues": self._queues,
            "concurrency": self._concurrency, "running": sorted(self._running()),
            "finished": sorted(self._finished()),
            "last_heartbeat": datetime.now(UTC).isoformat(),
        }).encode()

    async def beat(self) -> None:
        try:
            async with asyncio.timeout(5):
                await self._kv.put(self._key, self.value())
        except (nats.errors.Error, TimeoutError) as exc:
            log.warning("heartbeat_failed", error=repr(exc))

    async def run(self, stopping: asyncio.Event) -> None:
        """Beat every interval until `stopping` is set."""
        while not stopping.is_set():
            await self.beat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._interval)

    async def remove(self) -> None:
        try:
            async with asyncio.timeout(5):
                await self._kv.delete(self._key)
        except (nats.errors.Error, TimeoutError) as exc:
            log.warning("heartbeat_delete_failed", error=repr(exc))
