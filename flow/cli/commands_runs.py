"""`flowcli runs list|show|watch|cancel|mark|delete`, and following a run to its end (`runs
watch`, `dags trigger --wait`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from flow.cli.client import FlowClient
from flow.cli.output import (
    confirm,
    emit,
    format_duration,
    format_time,
    message_to_dict,
    render_data,
    render_fields,
    render_table,
    state_name,
)
from flow.errors import FlowError
from flow.v1 import common_pb2, dag_run_service_pb2, task_instance_service_pb2

RUN_HEADERS = ["RUN_ID", "STATE", "TYPE", "LOGICAL_DATE", "START", "END"]
TI_HEADERS = ["TASK_ID", "MAP_INDEX", "STATE", "TRY", "START", "END", "DURATION", "HOSTNAME"]
FINISHED = {common_pb2.DAG_RUN_STATE_SUCCESS, common_pb2.DAG_RUN_STATE_FAILED}
POLL_MIN_SECONDS, POLL_MAX_SECONDS = 0.5, 5.0


def run_row(run: Any) -> list[str]:
    return [run.run_id, state_name(common_pb2.DagRunState, run.state),
            state_name(common_pb2.DagRunType, run.run_type), format_time(run, "logical_date"),
            format_time(run, "start_date"), format_time(run, "end_date")]


def ti_row(ti: Any) -> list[object]:
    return [ti.key.task_id, "" if ti.key.map_index < 0 else ti.key.map_index,
            state_name(common_pb2.TaskInstanceState, ti.state), ti.key.try_number or "",
            format_time(ti, "start_date"), format_time(ti, "end_date"),
            format_duration(ti.duration), ti.hostname]


async def get_run(client: FlowClient, dag_id: str, run_id: str) -> Any:
    request = dag_run_service_pb2.GetDagRunRequest(dag_id=dag_id, run_id=run_id)
    return (await client.call("runs", "GetDagRun", request)).dag_run


def _progress(change: Any) -> str | None:
    if not change.task_instance_key.task_id:
        return None
    key = change.task_instance_key
    mapped = f"[{key.map_index}]" if key.map_index >= 0 else ""
    state = state_name(common_pb2.TaskInstanceState, change.task_instance_state)
    return f"  {key.task_id}{mapped} (try {key.try_number}): {state}"


async def wait_for_run(client: FlowClient, dag_id: str, run_id: str, *,
                       quiet: bool = False) -> Any:
    """Follow WatchStateChanges for the run, printing progress to stderr, until it ends.

    GetDagRun with backoff covers the gap before the stream is established and a broken stream.
    """
    changes: asyncio.Queue[Any] = asyncio.Queue()
    request = dag_run_service_pb2.WatchStateChangesRequest(dag_id=dag_id, run_id=run_id)

    async def pump() -> None:
        try:
            async for response in client.stream("runs", "WatchStateChanges", request):
                await changes.put(response.change)
        except FlowError:
            pass  # the stream broke: polling alone carries on

    watcher = asyncio.create_task(pump())
    if not quiet:
        print(f"Waiting for {dag_id} run {run_id} ...", file=sys.stderr, flush=True)
    delay = POLL_MIN_SECONDS
    try:
        run = await get_run(client, dag_id, run_id)
        while run.state not in FINISHED:
            try:
                change = await asyncio.wait_for(changes.get(), timeout=delay)
            except TimeoutError:
                run = await get_run(client, dag_id, run_id)
                delay = min(delay * 2, POLL_MAX_SECONDS)
                continue
            delay = POLL_MIN_SECONDS
            line = _progress(change)
            if line and not quiet:
                print(line, file=sys.stderr, flush=True)
            if change.dag_run_state in FINISHED:
                run = await get_run(client, dag_id, run_id)
    finally:
        watcher.cancel()
    if not quiet:
        print(f"Run {run_id} {state_name(common_pb2.DagRunState, run.state)}.",
              file=sys.stderr, flush=True)
    return run


async def list_runs(args: argparse.Namespace, client: FlowClient) -> int:
    request = dag_run_service_pb2.ListDagRunsRequest(dag_id=args.dag_id)
    runs = await client.list_all("runs", "ListDagRuns", request, "dag_runs")
    if args.output != "table":
        emit(render_data(runs, args.output))
        return 0
    emit(render_table(RUN_HEADERS, [run_row(r) for r in runs]))
    return 0


async def show_run(args: argparse.Namespace, client: FlowClient) -> int:
    request = dag_run_service_pb2.GetDagRunRequest(dag_id=args.dag_id, run_id=args.run_id)
    response = await client.call("runs", "GetDagRun", request)
    if args.output != "table":
        emit(render_data(response, args.output))
        return 0
    run = response.dag_run
    emit(render_fields(zip(["dag_id", *(h.lower() for h in RUN_HEADERS)],
                           [run.dag_id, *run_row(run)], strict=True)))
    if run.conf.fields:
        emit(render_fields([("conf", message_to_dict(run.conf))]))
    tis = await client.call("tasks", "ListTaskInstances",
                            task_instance_service_pb2.ListTaskInstancesRequest(
                                dag_id=args.dag_id, run_id=args.run_id))
    emit("")
    emit(render_table(TI_HEADERS, [ti_row(ti) for ti in tis.task_instances]))
    return 0


async def watch_run(args: argparse.Namespace, client: FlowClient) -> int:
    """Follow a run live until it ends; exit 0 when it succeeded."""
    final = await wait_for_run(client, args.dag_id, args.run_id,
                               quiet=args.output != "table")
    if args.output != "table":
        emit(render_data(final, args.output))
    return 0 if final.state == common_pb2.DAG_RUN_STATE_SUCCESS else 1


async def _show_changed(args: argparse.Namespace, run: Any, done: str) -> int:
    if args.output != "table":
        emit(render_data(run, args.output))
    else:
        emit(f"{done} {args.dag_id} run {args.run_id}: now "
             f"{state_name(common_pb2.DagRunState, run.state)}.")
    return 0


async def cancel_run(args: argparse.Namespace, client: FlowClient) -> int:
    response = await client.call("runs", "CancelDagRun", dag_run_service_pb2.CancelDagRunRequest(
        dag_id=args.dag_id, run_id=args.run_id))
    return await _show_changed(args, response.dag_run, "Cancelled")


async def mark_run(args: argparse.Namespace, client: FlowClient) -> int:
    state = {"success": common_pb2.DAG_RUN_STATE_SUCCESS,
             "failed": common_pb2.DAG_RUN_STATE_FAILED}[args.state]
    if not confirm(f"Mark {args.dag_id} run {args.run_id} {args.state} (its unfinished task "
                   "instances too)?", args.yes):
        emit("Nothing marked.")
        return 1
    response = await client.call("runs", "SetDagRunState",
                                 dag_run_service_pb2.SetDagRunStateRequest(
                                     dag_id=args.dag_id, run_id=args.run_id, state=state))
    return await _show_changed(args, response.dag_run, "Marked")


async def delete_run(args: argparse.Namespace, client: FlowClient) -> int:
    if not confirm(f"Delete {args.dag_id} run {args.run_id} with its task instances and "
                   "XComs?", args.yes):
        emit("Nothing deleted.")
        return 1
    await client.call("runs", "DeleteDagRun", dag_run_service_pb2.DeleteDagRunRequest(
        dag_id=args.dag_id, run_id=args.run_id))
    emit(f"Deleted {args.dag_id} run {args.run_id}.")
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    runs = subparsers.add_parser("runs", help="runs of a DAG")
    verbs = runs.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", parents=[common], help="the runs of a DAG, newest first")
    p.add_argument("dag_id")
    p.set_defaults(handler=list_runs)
    p = verbs.add_parser("show", parents=[common], help="one run and its task instances")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.set_defaults(handler=show_run)
    p = verbs.add_parser("watch", parents=[common],
                         help="follow a run live until it ends; exit 0 when it succeeded")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.set_defaults(handler=watch_run)
    p = verbs.add_parser("cancel", parents=[common],
                         help="stop a queued or running run (it fails)")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.set_defaults(handler=cancel_run)
    p = verbs.add_parser("mark", parents=[common],
                         help="mark a run (and its unfinished task instances) success or failed")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.add_argument("--state", choices=("success", "failed"), required=True)
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=mark_run)
    p = verbs.add_parser("delete", parents=[common],
                         help="delete a run with its task instances and XComs")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=delete_run)
