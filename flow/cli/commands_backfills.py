"""`flowcli dags backfill DAG_ID ...` and `flowcli backfills list|show|cancel`.

The scheduler carries a backfill out; the CLI only asks for it and shows the plan.
"""

from __future__ import annotations

import argparse
from typing import Any

from google.protobuf import timestamp_pb2

from flow.cli.client import FlowClient
from flow.cli.output import emit, format_time, parse_conf, render_data, render_table, state_name
from flow.errors import InvalidArgumentError
from flow.sdk.timetables import ScheduleError, parse_date
from flow.v1 import backfill_service_pb2 as pb

BACKFILL_HEADERS = ["ID", "DAG_ID", "FROM", "TO", "REPROCESS", "MAX_ACTIVE_RUNS", "STATE",
                    "CREATED", "COMPLETED"]
REPROCESS = {"none": pb.REPROCESS_BEHAVIOR_NONE, "failed": pb.REPROCESS_BEHAVIOR_FAILED,
             "completed": pb.REPROCESS_BEHAVIOR_COMPLETED}


def backfill_row(b: Any) -> list[object]:
    return [b.id, b.dag_id, format_time(b, "from_date"), format_time(b, "to_date"),
            state_name(pb.ReprocessBehavior, b.reprocess_behavior), b.max_active_runs,
            state_name(pb.BackfillState, b.state), format_time(b, "created_at"),
            format_time(b, "completed_at")]


def _timestamp(value: str, option: str) -> timestamp_pb2.Timestamp:
    try:
        parsed = parse_date(value)
    except ScheduleError as exc:
        raise InvalidArgumentError(f"{option}: {exc}.", field=option) from None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(parsed)
    return ts


async def create(args: argparse.Namespace, client: FlowClient) -> int:
    request = pb.CreateBackfillRequest(
        dag_id=args.dag_id, from_date=_timestamp(args.start_date, "--start-date"),
        to_date=_timestamp(args.end_date, "--end-date"),
        reprocess_behavior=REPROCESS[args.reprocess_behavior],
        max_active_runs=args.max_active_runs or 0, dry_run=args.dry_run)
    conf = parse_conf(args.conf)
    if conf is not None:
        request.dag_run_conf.update(conf)
    response = await client.call("backfills", "CreateBackfill", request)
    if args.output != "table":
        emit(render_data(response, args.output))
        return 0
    if response.HasField("backfill"):
        emit(render_table(BACKFILL_HEADERS, [backfill_row(response.backfill)]))
        emit("")
    elif args.dry_run:
        emit("Dry run: nothing was created. The backfill would do this:")
    emit(render_table(["LOGICAL_DATE", "ACTION", "RUN_ID", "REASON"], [
        (format_time(r, "logical_date"), state_name(pb.BackfillRunAction, r.action), r.run_id,
         r.reason) for r in response.runs]))
    return 0


async def list_backfills(args: argparse.Namespace, client: FlowClient) -> int:
    rows = await client.list_all("backfills", "ListBackfills",
                                 pb.ListBackfillsRequest(dag_id=args.dag_id or ""), "backfills")
    if args.output != "table":
        emit(render_data(rows, args.output))
    else:
        emit(render_table(BACKFILL_HEADERS, [backfill_row(b) for b in rows]))
    return 0


async def show(args: argparse.Namespace, client: FlowClient) -> int:
    method, request_type = (("CancelBackfill", pb.CancelBackfillRequest) if args.verb == "cancel"
                            else ("GetBackfill", pb.GetBackfillRequest))
    backfill = (await client.call("backfills", method,
                                  request_type(backfill_id=args.backfill_id))).backfill
    if args.output != "table":
        emit(render_data(backfill, args.output))
    else:
        emit(render_table(BACKFILL_HEADERS, [backfill_row(backfill)]))
    return 0


def register_dags_backfill(verbs: Any, common: argparse.ArgumentParser) -> None:
    p = verbs.add_parser("backfill", parents=[common],
                         help="have the scheduler run a DAG over past intervals")
    p.add_argument("dag_id")
    p.add_argument("--start-date", "-s", required=True,
                   help="first logical date, ISO 8601 (e.g. 2024-01-01); UTC without offset")
    p.add_argument("--end-date", "-e", required=True, help="last logical date (inclusive)")
    p.add_argument("--reprocess-behavior", choices=sorted(REPROCESS), default="none",
                   help="intervals that have a run: none (skip, default), failed (run failed "
                        "ones again), completed (run every finished one again)")
    p.add_argument("--max-active-runs", type=int, default=0,
                   help="runs of the backfill at once (default: the DAG's max_active_runs)")
    p.add_argument("--dry-run", action="store_true",
                   help="only list the logical dates it would run")
    p.add_argument("--conf", help="JSON object passed to the runs as dag_run.conf")
    p.set_defaults(handler=create)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    backfills = subparsers.add_parser("backfills", help="backfills and their state")
    verbs = backfills.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", parents=[common], help="list backfills, newest first")
    p.add_argument("dag_id", nargs="?", help="only backfills of this DAG")
    p.set_defaults(handler=list_backfills)
    p = verbs.add_parser("show", parents=[common], help="one backfill")
    p.add_argument("backfill_id", type=int)
    p.set_defaults(handler=show)
    p = verbs.add_parser("cancel", parents=[common],
                         help="cancel a backfill: queued runs fail, running ones finish")
    p.add_argument("backfill_id", type=int)
    p.set_defaults(handler=show)
