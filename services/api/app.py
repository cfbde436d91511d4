"""Composition root of the gateway: stubs to the scheduler and logserver, the core, the public
gRPC server and the HTTP server (uvicorn on a socket we bind, so port 0 reports its port).

`run()` serves until `stop` is set; `main()` is `python -m services.api`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import structlog
import uvicorn

from flow.config import FlowConfig, load_config
from flow.grpcutil import host_of, open_channel, serve
from flow.log import configure_logging
from flow.service import run_service
from flow.v1 import (
    dag_spec_service_pb2_grpc,
    identity_service_pb2_grpc,
    log_service_pb2_grpc,
    pool_service_pb2_grpc,
    scheduler_service_pb2_grpc,
)
from services.api.auth import Gatekeeper, GrpcGuard
from services.api.core import GatewayCore
from services.api.dag_spec_core import DagSpecCore
from services.api.identity_core import IdentityCore
from services.api.servicer_public import public_registrations
from services.api.web import build_app

log = structlog.get_logger(__name__)

SERVICE = "api"


class _Server(uvicorn.Server):  # type: ignore[misc]
    """uvicorn without its own signal handling (`run()`'s stop event decides), and with an
    event set once it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.listening.set()


def bind_socket(bind: str) -> socket.socket:
    """A listening TCP socket for "host:port" (port 0 picks one)."""
    host, _, port = bind.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; without it every
    # response split in two writes waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, int(port)))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def run(
    config: FlowConfig, *, stop: asyncio.Event | None = None,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Serve HTTP on `config.api.http_bind` and public gRPC on `config.api.grpc_bind`."""
    stop = stop or asyncio.Event()
    internal = config.auth.internal_token
    scheduler_channel = open_channel(config.scheduler.address, internal, config.tls)
    logs_channel = open_channel(config.logserver.address, internal, config.tls)
    identity = identity_service_pb2_grpc.IdentityServiceStub(scheduler_channel)
    core = GatewayCore(
        scheduler_service_pb2_grpc.SchedulerServiceStub(scheduler_channel),
        log_service_pb2_grpc.LogServiceStub(logs_channel), IdentityCore(identity),
        DagSpecCore(dag_spec_service_pb2_grpc.DagSpecServiceStub(scheduler_channel)),
        pools=pool_service_pb2_grpc.PoolServiceStub(scheduler_channel))
    gate = Gatekeeper(identity, bootstrap_token=config.auth.token,
                      session_ttl_seconds=config.auth.session_ttl_seconds)
    sock = bind_socket(config.api.http_bind)
    tls = config.tls
    http = _Server(uvicorn.Config(build_app(core, gate), lifespan="off",
                                  log_config=None, access_log=False, server_header=False,
                                  ssl_certfile=tls.cert_file or None,
                                  ssl_keyfile=tls.key_file or None))
    try:
        async with serve(config.api.grpc_bind, public_registrations(core),
                         guard=GrpcGuard(gate), tls=tls) as served:
            http_task = asyncio.create_task(http.serve(sockets=[sock]))
            listening = asyncio.create_task(http.listening.wait())
            await asyncio.wait({listening, http_task}, return_when=asyncio.FIRST_COMPLETED)
            if not http.listening.is_set():
                listening.cancel()
                await http_task  # re-raises why it could not start
                raise RuntimeError("the HTTP server stopped during start-up")
            http_port = sock.getsockname()[1]
            info = {"service": SERVICE, "pid": os.getpid(), "grpc_port": served.port,
                    "http_port": http_port}
            scheme = "https" if tls.enabled else "http"
            log.info("service_ready", **info,
                     http=f"{scheme}://{host_of(config.api.http_bind)}:{http_port}")
            if on_ready is not None:
                on_ready(info)
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({stopped, http_task}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            http.should_exit = True
            await http_task
    finally:
        sock.close()
        await scheduler_channel.close()
        await logs_channel.close()
    log.info("service_stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flowcli api", description=__doc__)
    parser.parse_args(argv)
    config = load_config()
    configure_logging(SERVICE)
    run_service(run, config)
    return 0
