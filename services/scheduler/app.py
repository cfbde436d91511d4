"""Composition root of the scheduler: DB, bus, core, DAG processor, gRPC servicers, loops.

Start-up order: migrate, ensure streams, load active runs, re-publish queued attempts
(invariant 1), serve, then parse the DAG folder in the background. Ready is reported after
the first parse pass, or after STARTUP_PARSE_WAIT_SECONDS at most: a file that hangs at
import delays nothing but itself, and scheduling goes on meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import structlog

from flow.bus import jetstream
from flow.config import FlowConfig, load_config
from flow.crypto import SecretCodec
from flow.db import create_engine, create_sessions, upgrade_database
from flow.grpcutil import Registration, serve
from flow.log import configure_logging
from flow.service import run_service
from flow.v1 import (
    dag_spec_service_pb2_grpc,
    identity_service_pb2_grpc,
    pool_service_pb2_grpc,
    scheduler_service_pb2_grpc,
    task_execution_service_pb2_grpc,
)
from services.scheduler.bus import (
    CancelPublisher,
    DispatchPublisher,
    consume_results,
    watch_liveness,
)
from services.scheduler.connections import Connections
from services.scheduler.core.admission import Admission
from services.scheduler.core.event_applier import SchedulingCore
from services.scheduler.dag_processor.parse_comms import ParseSecrets
from services.scheduler.dag_processor.processor import DagProcessor
from services.scheduler.dag_specs import DagSpecs
from services.scheduler.events import Broadcaster
from services.scheduler.fleet import Fleet
from services.scheduler.identity import IdentityStore
from services.scheduler.pools import Pools
from services.scheduler.servicer_control import SchedulerControlServicer
from services.scheduler.servicer_dag_spec import DagSpecServicer
from services.scheduler.servicer_execution import TaskExecutionServicer
from services.scheduler.servicer_identity import IdentityServicer
from services.scheduler.servicer_pools import PoolServicer
from services.scheduler.variables import Variables

log = structlog.get_logger(__name__)
SERVICE = "scheduler"
LIVENESS_INTERVAL_SECONDS = 5.0
STARTUP_PARSE_WAIT_SECONDS = 10.0


async def run(config: FlowConfig, *, stop: asyncio.Event | None = None,
              on_ready: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Serve until `stop` is set, then shut down cleanly."""
    stop = stop or asyncio.Event()
    await upgrade_database(config.database_url)
    async with AsyncExitStack() as stack:
        engine = create_engine(config.database_url, echo=config.database.echo)
        stack.push_async_callback(engine.dispose)
        nc = await stack.enter_async_context(jetstream.connect_bus(config.nats, SERVICE))
        js = nc.jetstream()
        await jetstream.ensure_streams(js, config.nats)
        broadcaster = Broadcaster()
        stack.callback(broadcaster.close)
        core = SchedulingCore(create_sessions(engine), DispatchPublisher(js), broadcaster.publish,
                              max_xcom_size=config.core.max_xcom_size,
                              max_map_length=config.core.max_map_length,
                              cancel=CancelPublisher(nc),
                              conf_overrides_params=config.core.dag_run_conf_overrides_params,
                              admission=Admission(
                                  parallelism=config.core.parallelism,
                                  max_active_tasks_per_dag=config.core.max_active_tasks_per_dag))
        pools = Pools(core)
        codec = SecretCodec(config.core.fernet_key)
        variables, connections = Variables(core, codec), Connections(core, codec)
        processor = DagProcessor(core, config.dags_folder,
                                 timeout=config.scheduler.parse_timeout_seconds,
                                 interval=config.scheduler.parse_interval_seconds,
                                 processes=config.scheduler.parse_processes,
                                 secrets=ParseSecrets(variables.value, connections.fields),
                                 paused_at_creation=config.core.dags_are_paused_at_creation)
        fleet = Fleet(js, config.nats)
        specs = DagSpecs(core)
        await core.load()
        await pools.ensure_default(config.core.default_pool_task_slot_count)
        await core.republish_queued()
        await core.schedule_all()  # cron ticks due while the scheduler was down, at once
        served = await stack.enter_async_context(serve(config.scheduler.grpc_bind, [
            Registration(scheduler_service_pb2_grpc.add_SchedulerServiceServicer_to_server,
                         SchedulerControlServicer(core, broadcaster, fleet, variables,
                                                  connections, processor.reparse),
                         "flow.v1.SchedulerService"),
            Registration(task_execution_service_pb2_grpc.add_TaskExecutionServiceServicer_to_server,
                         TaskExecutionServicer(core, variables, connections, specs),
                         "flow.v1.TaskExecutionService"),
            Registration(identity_service_pb2_grpc.add_IdentityServiceServicer_to_server,
                         IdentityServicer(IdentityStore(core)), "flow.v1.IdentityService"),
            Registration(pool_service_pb2_grpc.add_PoolServiceServicer_to_server,
                         PoolServicer(pools), "flow.v1.PoolService"),
            Registration(dag_spec_service_pb2_grpc.add_DagSpecServiceServicer_to_server,
                         DagSpecServicer(core, specs), "flow.v1.DagSpecService"),
        ], tokens=[config.auth.internal_token], tls=config.tls))
        async with asyncio.TaskGroup() as tg:
            loops = [
                tg.create_task(consume_results(js, config.nats, core), name="consume_results"),
                tg.create_task(core.run_timers(), name="retry_timers"),
                tg.create_task(processor.run(), name="dag_processor"),
                tg.create_task(watch_liveness(fleet, config.nats, core, min(
                    LIVENESS_INTERVAL_SECONDS, config.nats.heartbeat_ttl_seconds / 3)),
                    name="liveness"),
            ]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(processor.first_pass.wait(), min(
                    STARTUP_PARSE_WAIT_SECONDS, config.scheduler.parse_timeout_seconds))
            info = {"service": SERVICE, "pid": os.getpid(), "grpc_port": served.port}
            log.info("service_ready", **info)
            if on_ready is not None:
                on_ready(info)
            await stop.wait()
            log.info("service_stopping", service=SERVICE)
            for task in loops:
                task.cancel()
        broadcaster.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m services.scheduler`: load config, log, serve until SIGTERM/SIGINT."""
    config = load_config()
    configure_logging(SERVICE)

    run_service(run, config)
    return 0
