"""`flowcli tasks list|state|tries|logs|clear|mark|test|submit`: a run's task instances, one
instance's state and tries, one try's log as raw bytes, the operator commands (clear to run
again, mark success/failed), and one task run here for debugging (test); `submit` runs an ad-hoc
task (commands_specs)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, BinaryIO

from flow.cli import commands_specs, local_run
from flow.cli.client import FlowClient
from flow.cli.commands_runs import TI_HEADERS, ti_row
from flow.cli.output import (
    confirm,
    emit,
    format_duration,
    format_time,
    render_data,
    render_table,
    state_name,
)
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


def _confirm(verb: str, tis: list[Any], yes: bool) -> bool:
    """List what would change and ask, as Airflow's CLI does (skipped with --yes)."""
    if yes:
        return True
    emit(f"You are about to {verb} these {len(tis)} task instances:")
    for ti in tis:
        emit(f"  <TaskInstance: {ti.key.dag_id}.{ti.key.task_id} {ti.key.run_id} "
             f"[{state_name(common_pb2.TaskInstanceState, ti.state)}]>")
    return confirm("Are you sure?", yes=False)


async def clear_tasks(args: argparse.Namespace, client: FlowClient) -> int:
    request = task_instance_service_pb2.ClearTaskInstancesRequest(
        dag_id=args.dag_id, run_id=args.run_id, task_regex=args.task_regex or "",
        include_downstream=args.downstream, include_upstream=args.upstream,
        only_failed=args.only_failed, dry_run=True)
    return await _preview_confirm_apply(
        args, client, "ClearTaskInstances", request, verb="clear",
        nothing="No task instances to clear.", cancelled="Cancelled, nothing was cleared.")


async def mark_tasks(args: argparse.Namespace, client: FlowClient) -> int:
    state = (common_pb2.TASK_INSTANCE_STATE_SUCCESS if args.state == "success"
             else common_pb2.TASK_INSTANCE_STATE_FAILED)
    request = task_instance_service_pb2.SetTaskInstanceStateRequest(
        dag_id=args.dag_id, run_id=args.run_id, task_id=args.task_id, state=state,
        include_upstream=args.upstream, include_downstream=args.downstream, dry_run=True)
    return await _preview_confirm_apply(
        args, client, "SetTaskInstanceState", request, verb=f"mark {args.state}",
        nothing=f"Nothing to mark: already {args.state}.",
        cancelled="Cancelled, nothing was marked.")


async def _preview_confirm_apply(args: argparse.Namespace, client: FlowClient, method: str,
                                 request: Any, *, verb: str, nothing: str, cancelled: str,
                                 ) -> int:
    """Ask the server what `request` would change (dry run), confirm unless --yes, then do it
    and print the task instances it changed."""
    preview = await client.call("tasks", method, request)
    if not preview.task_instances:
        emit(nothing)
        return 0
    if not _confirm(verb, list(preview.task_instances), args.yes):
        emit(cancelled)
        return 1
    request.dry_run = False
    done = await client.call("tasks", method, request)
    if args.output != "table":
        emit(render_data(list(done.task_instances), args.output))
        return 0
    emit(render_table(TI_HEADERS, [ti_row(ti) for ti in done.task_instances]))
    return 0


async def show_state(args: argparse.Namespace, client: FlowClient) -> int:
    """The state of one task instance, as `airflow tasks state` prints it."""
    response = await client.call("tasks", "GetTaskInstance",
                                 task_instance_service_pb2.GetTaskInstanceRequest(
                                     key=common_pb2.TaskInstanceKey(
                                         dag_id=args.dag_id, run_id=args.run_id,
                                         task_id=args.task_id, map_index=args.map_index)))
    ti = response.task_instance
    if args.output != "table":
        emit(render_data(ti, args.output))
    else:
        emit(state_name(common_pb2.TaskInstanceState, ti.state) or "none")
    return 0


async def list_tries(args: argparse.Namespace, client: FlowClient) -> int:
    tries = await client.list_all("tasks", "ListTaskInstanceTries",
                                  task_instance_service_pb2.ListTaskInstanceTriesRequest(
                                      key=common_pb2.TaskInstanceKey(
                                          dag_id=args.dag_id, run_id=args.run_id,
                                          task_id=args.task_id, map_index=args.map_index)),
                                  "tries")
    if args.output != "table":
        emit(render_data(tries, args.output))
        return 0
    emit(render_table(["TRY", "STATE", "START", "END", "DURATION", "WORKER", "ERROR"], [
        (t.key.try_number, state_name(common_pb2.TaskInstanceState, t.state),
         format_time(t, "start_date"), format_time(t, "end_date"), format_duration(t.duration),
         t.worker_id, t.error.splitlines()[0][:60] if t.error else "")
        for t in tries]))
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
    p = verbs.add_parser("clear", parents=[common],
                         help="clear task instances so they run again (next try number)")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.add_argument("-t", "--task-regex", default=None,
                   help="only tasks whose id matches this regular expression")
    p.add_argument("-d", "--downstream", action="store_true", help="also their downstream")
    p.add_argument("-u", "--upstream", action="store_true", help="also their upstream")
    p.add_argument("-f", "--only-failed", action="store_true",
                   help="only failed and upstream_failed task instances")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=clear_tasks)
    p = verbs.add_parser("mark", parents=[common], help="mark a task instance success or failed")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.add_argument("task_id")
    p.add_argument("--state", choices=("success", "failed"), required=True)
    p.add_argument("-u", "--upstream", action="store_true", help="also its upstream tasks")
    p.add_argument("-d", "--downstream", action="store_true", help="also its downstream tasks")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=mark_tasks)
    p = verbs.add_parser("state", parents=[common], help="the state of one task instance")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.add_argument("task_id")
    p.add_argument("--map-index", type=int, default=-1, help="the mapped index (default -1)")
    p.set_defaults(handler=show_state)
    p = verbs.add_parser("tries", parents=[common], help="the finished tries of a task instance")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.add_argument("task_id")
    p.add_argument("--map-index", type=int, default=-1, help="the mapped index (default -1)")
    p.set_defaults(handler=list_tries)
    p = verbs.add_parser("test", parents=[common],
                         help="run one task here, in this process, its upstream ignored")
    p.add_argument("dag_id")
    p.add_argument("task_id")
    p.add_argument("--map-index", type=int, default=-1, help="the mapped index (default -1)")
    local_run.add_local_options(p)
    p.set_defaults(local=local_run.test_task)
    commands_specs.register_task_verbs(verbs, common)
