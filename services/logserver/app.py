"""Composition root of the log service: storage, the LogService servicer, retention, signals.

`run()` serves until `stop` is set; `main()` is `python -m services.logserver`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Any

import structlog

from flow.config import FlowConfig, load_config
from flow.grpcutil import Registration, serve
from flow.log import configure_logging
from flow.service import run_service
from flow.v1 import log_service_pb2, log_service_pb2_grpc
from services.logserver.servicer import LogServicer
from services.logserver.storage import LogStorage

log = structlog.get_logger(__name__)

SERVICE = "logserver"
RETENTION_INTERVAL_SECONDS = 86_400.0


async def _purge_daily(storage: LogStorage) -> None:
    while True:
        try:
            await storage.purge_expired()
        except OSError as exc:
            log.warning("logs_purge_failed", error=str(exc))
        await asyncio.sleep(RETENTION_INTERVAL_SECONDS)


async def run(
    config: FlowConfig, *, stop: asyncio.Event | None = None,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Serve LogService on `config.logserver.grpc_bind` until `stop` is set."""
    stop = stop or asyncio.Event()
    storage = LogStorage(config.logs_dir, retention_days=config.logserver.retention_days)
    storage.base_dir.mkdir(parents=True, exist_ok=True)
    registration = Registration(
        add=log_service_pb2_grpc.add_LogServiceServicer_to_server,
        servicer=LogServicer(storage),
        service_name=log_service_pb2.DESCRIPTOR.services_by_name["LogService"].full_name)
    purger = asyncio.create_task(_purge_daily(storage))
    try:
        async with serve(config.logserver.grpc_bind, [registration],
                         tokens=[config.auth.internal_token], tls=config.tls) as served:
            info = {"service": SERVICE, "pid": os.getpid(), "grpc_port": served.port}
            log.info("service_ready", **info, logs_dir=str(storage.base_dir))
            if on_ready is not None:
                on_ready(info)
            await stop.wait()
    finally:
        purger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purger
    log.info("service_stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flowcli logserver", description=__doc__)
    parser.parse_args(argv)
    config = load_config()
    configure_logging(SERVICE)
    run_service(run, config)
    return 0
