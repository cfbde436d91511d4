"""`flowcli tasks list|logs`: a run's task instances, and one try's log as raw bytes."""

from __future__ import annotations

import argparse
import sys
from typing import Any, BinaryIO

from flow.cli.client import FlowClient
from flow.cli.commands_runs import TI_HEADERS, ti_row
from flow.cli.output import emit, render_data, render_table
from flow.v1 import common_pb2, task_instance_service_pb2


async def list_tasks(args: argparse.Namespace, client: FlowClient) -> int:
    request = task_instance_service_pb2.ListTaskInstancesRequest(dag_id=args.dag_id,
                                                                  run_id=args.run_id)
    tis = await client.list_all("tasks", "ListTaskInstances", request, "task_instances")
    if args.output != "table":
        emit(render_data(tis, args.output))
        return 0
    emit(render_table(TI_HEADERS, [ti_row(ti) for ti in tis]))
    return 0


async def show_logs(args: argparse.Namespace, client: FlowClient,
                    out: BinaryIO | None = None) -> int:
    """Write the log to stdout as it is stored; `-f` keeps following until the try ends."""
    out = out or sys.stdout.buffer
    key = common_pb2.TaskInstanceKey(dag_id=args.dag_id, run_id=args.run_id,
                                     task_id=args.task_id, map_index=args.map_index,
                                     try_number=args.try_number)
    if args.follow:
        request = task_instance_service_pb2.FollowTaskLogRequest(key=key)
        async for chunk in client.stream("tasks", "FollowTaskLog", request):
            out.write(chunk.content)
            out.flush()
        return 0
    offset = 0
    while True:
        response = await client.call("tasks", "ReadTaskLog",
                                     task_instance_service_pb2.ReadTaskLogRequest(
                                         key=key, offset=offset))
        out.write(response.content)
        if response.complete or not response.content:
            break
        offset = response.next_offset
    out.flush()
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    tasks = subparsers.add_parser("tasks", help="task instances and their logs")
    verbs = tasks.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", parents=[common], help="the task instances of a run")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.set_defaults(handler=list_tasks)
    p = verbs.add_parser("logs", parents=[common], help="one try's log, as raw bytes")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.add_argument("task_id")
    p.add_argument("--try", dest="try_number", type=int, default=0,
                   help="the try to show (default: the latest)")
    p.add_argument("--map-index", type=int, default=-1, help="the mapped index (default -1)")
    p.add_argument("-f", "--follow", action="store_true",
                   help="keep streaming new lines until the try ends")
    p.set_defaults(handler=show_logs)
