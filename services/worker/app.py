"""Composition root of the worker: `run(config)` builds and serves; `main()` is the process entry.

The worker has no gRPC server of its own (it reports `grpc_port: 0`); it pulls attempts from
JetStream, claims them from the scheduler, and ships logs to the logserver.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from typing import Any

import structlog
from nats.aio.msg import Msg

from flow.bus import subjects
from flow.bus.jetstream import connect_bus, ensure_streams, heartbeat_bucket, queue_subscription
from flow.config import FlowConfig, load_config, replace
from flow.errors import FlowError, InvalidArgumentError
from flow.grpcutil import open_channel
from flow.log import configure_logging, register_secret
from flow.service import run_service
from flow.v1 import log_service_pb2_grpc, task_execution_service_pb2_grpc
from services.worker.attempt import AttemptRunner, WorkerContext, on_cancel_request
from services.worker.consumer import QueueConsumer, batch_goal
from services.worker.heartbeat import Heartbeat
from services.worker.log_shipper import LogMux
from services.worker.process_pool import ProcessLauncher

log = structlog.get_logger(__name__)

SHUTDOWN_GRACE_SECONDS = 30.0


async def _drain_attempts(consumers: Sequence[QueueConsumer], ctx: WorkerContext,
                          grace: float) -> None:
    """Let running attempts finish for `grace` s, then kill them (they publish FAILED)."""
    attempts = set().union(*(c.tasks for c in consumers))
    if not attempts:
        return
    log.info("worker_draining", running=len(attempts), grace=grace)
    _, pending = await asyncio.wait(attempts, timeout=grace)
    if not pending:
        return
    for cancel in list(ctx.running.values()):
        cancel.set()
    _, pending = await asyncio.wait(pending, timeout=ctx.kill_grace + 15.0)
    if pending:
        ctx.abandon.set()  # results that cannot be stored now are left unacked (redelivered)
        await asyncio.wait(pending, timeout=15.0)


async def run(config: FlowConfig, *, stop: asyncio.Event | None = None,
              on_ready: Callable[[dict[str, Any]], None] | None = None,
              shutdown_grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
    """Serve the configured queues until `stop` is set, then shut down cleanly."""
    stop = stop or asyncio.Event()
    wc = config.worker
    worker_id = wc.worker_id or f"{socket.gethostname()}-{os.getpid()}"
    structlog.contextvars.bind_contextvars(worker_id=worker_id)
    for secret in (config.auth.token, config.auth.internal_token):
        if secret:
            register_secret(secret)  # masked in task logs should a task print one
    launcher = ProcessLauncher()
    launcher.warm()
    prime_seconds = await asyncio.to_thread(launcher.prime)
    async with AsyncExitStack() as stack:
        nc = await stack.enter_async_context(connect_bus(config.nats, f"flow-worker-{worker_id}"))
        js = nc.jetstream()
        await ensure_streams(js, config.nats)
        kv = await heartbeat_bucket(js, config.nats)
        scheduler = open_channel(config.scheduler.address, config.auth.internal_token,
                                 config.tls)
        stack.push_async_callback(scheduler.close)
        logserver = open_channel(config.logserver.address, config.auth.internal_token,
                                 config.tls)
        stack.push_async_callback(logserver.close)
        log_mux = LogMux(log_service_pb2_grpc.LogServiceStub(logserver))
        stack.push_async_callback(log_mux.aclose)
        stack.callback(launcher.close)  # templates exit once their attempts have ended
        ctx = WorkerContext(
            js=js, execution_stub=task_execution_service_pb2_grpc.TaskExecutionServiceStub(
                scheduler), log_mux=log_mux,
            launcher=launcher, worker_id=worker_id, ack_wait=config.nats.ack_wait_seconds,
            kill_grace=wc.kill_grace_seconds, max_map_length=config.core.max_map_length)
        stack.push_async_callback(ctx.acks.flush)  # before the NATS connection closes
        runner = AttemptRunner(ctx)

        async def cancel_requested(msg: Msg) -> None:
            on_cancel_request(ctx, msg.data.decode(errors="replace"))

        await nc.subscribe(subjects.cancel_subject(worker_id), cb=cancel_requested)
        slots = asyncio.Semaphore(wc.concurrency)
        fetch_timeout = 5.0 if len(wc.queues) == 1 else 1.0  # a held slot waits at most this
        consumers = [QueueConsumer(q, await queue_subscription(js, q, config.nats), slots,
                                   runner.handle, fetch_timeout=fetch_timeout,
                                   batch_goal=batch_goal(wc.concurrency))
                     for q in wc.queues]
        heartbeat = Heartbeat(kv, worker_id, wc.queues, wc.concurrency,
                              lambda: list(ctx.running), wc.heartbeat_interval_seconds,
                              ctx.recently_finished)
        beating = asyncio.Event()
        async with asyncio.TaskGroup() as tg:
            tg.create_task(heartbeat.run(beating), name="heartbeat")
            fetchers = [tg.create_task(c.run(stop), name=f"consume:{c.queue}")
                        for c in consumers]
            info: dict[str, Any] = {"service": "worker", "pid": os.getpid(), "grpc_port": 0,
                                    "worker_id": worker_id}
            log.info("worker_started", queues=list(wc.queues), concurrency=wc.concurrency,
                     prime_ms=round(prime_seconds * 1e3, 1))
            log.info("service_ready", **info)
            if on_ready is not None:
                on_ready(info)
            await stop.wait()
            log.info("worker_stopping")
            await asyncio.gather(*fetchers)
            await _drain_attempts(consumers, ctx, shutdown_grace)
            beating.set()
        await heartbeat.remove()
    log.info("worker_stopped")


def _configure(argv: list[str] | None) -> FlowConfig:
    parser = argparse.ArgumentParser(prog="flowcli worker", description="Run a Flow worker.")
    parser.add_argument("--queues", help="comma-separated queues to consume (default: config)")
    parser.add_argument("--concurrency", type=int, help="task slots (default: config)")
    args = parser.parse_args(argv)
    config = load_config()
    overrides: dict[str, object] = {}
    if args.queues is not None:
        queues = tuple(q.strip() for q in args.queues.split(",") if q.strip())
        if not queues or not all(q.replace("_", "").replace("-", "").isalnum() for q in queues):
            raise InvalidArgumentError(
                f"--queues has value {args.queues!r}. Name queues with letters, digits, '-' "
                "and '_', separated by commas.", field="--queues")
        overrides["queues"] = queues
    if args.concurrency is not None:
        if args.concurrency < 1:
            raise InvalidArgumentError(
                f"--concurrency has value {args.concurrency}. Must be at least 1.",
                field="--concurrency")
        overrides["concurrency"] = args.concurrency
    return replace(config, worker=overrides) if overrides else config


def main(argv: list[str] | None = None) -> int:
    """`python -m services.worker [--queues a,b] [--concurrency N]`."""
    try:
        config = _configure(argv)
    except FlowError as exc:
        print(f"flow worker: {exc.message}", file=sys.stderr)
        return exc.exit_code
    configure_logging("worker")

    run_service(run, config)
    return 0
