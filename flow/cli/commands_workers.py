"""`flowcli workers list` and `flowcli queues list`: the fleet, live, as Flower shows it."""

from __future__ import annotations

import argparse
from typing import Any

from flow.cli.client import FlowClient
from flow.cli.output import emit, format_time, render_data, render_table
from flow.v1 import worker_service_pb2

_STATE = {worker_service_pb2.WORKER_STATE_ONLINE: "online",
          worker_service_pb2.WORKER_STATE_OFFLINE: "offline"}


async def list_workers(args: argparse.Namespace, client: FlowClient) -> int:
    workers = await client.list_all("workers", "ListWorkers", worker_service_pb2.ListWorkersRequest(
        queue=args.queue or ""), "workers")
    if args.output != "table":
        emit(render_data(workers, args.output))
        return 0
    emit(render_table(
        ["WORKER_ID", "STATE", "HOST", "QUEUES", "SLOTS", "LAST_HEARTBEAT", "RUNNING"],
        [(w.worker_id, _STATE.get(w.state, "?"), w.hostname, ",".join(w.queues),
          f"{w.slots_used}/{w.concurrency}", format_time(w, "last_heartbeat"),
          " ".join(f"{k.dag_id}.{k.task_id}#{k.try_number}" for k in w.running))
         for w in workers]))
    return 0


async def list_queues(args: argparse.Namespace, client: FlowClient) -> int:
    queues = await client.list_all("workers", "ListQueues", worker_service_pb2.ListQueuesRequest(),
                                   "queues")
    if args.output != "table":
        emit(render_data(queues, args.output))
        return 0
    emit(render_table(
        ["QUEUE", "DEPTH", "IN_FLIGHT", "SLOTS", "WORKERS"],
        [(q.name, q.depth, q.in_flight, q.slots, ",".join(q.worker_ids))
         for q in queues]))
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    workers = subparsers.add_parser("workers", help="the workers, live")
    verbs = workers.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", parents=[common],
                         help="workers with their queues, slots in use and running attempts")
    p.add_argument("--queue", help="only workers listening to this queue")
    p.set_defaults(handler=list_workers)
    queues = subparsers.add_parser("queues", help="the task queues, live")
    verbs = queues.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", parents=[common],
                         help="queues with their depth, tasks in flight and workers")
    p.set_defaults(handler=list_queues)
