"""`flowcli xcom get|list`: XCom values of a run's task instances, printed as JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from flow.cli.client import FlowClient
from flow.cli.output import emit, render_data, render_table
from flow.v1 import xcom_service_pb2 as pb


def _value(entry: Any) -> Any:
    try:
        return json.loads(entry.value) if entry.value else None
    except ValueError:
        return entry.value.decode("utf-8", errors="replace")


async def get_xcom(args: argparse.Namespace, client: FlowClient) -> int:
    """Print the value as JSON (whatever --output says: the value is the data)."""
    response = await client.call("xcom", "GetXCom", pb.GetXComRequest(
        dag_id=args.dag_id, run_id=args.run_id, task_id=args.task_id, key=args.key,
        map_index=args.map_index))
    emit(json.dumps(_value(response.xcom), indent=2, ensure_ascii=False))
    return 0


async def list_xcoms(args: argparse.Namespace, client: FlowClient) -> int:
    items = await client.list_all("xcom", "ListXComs", pb.ListXComsRequest(
        dag_id=args.dag_id, run_id=args.run_id, task_id=args.task_id or ""), "xcoms")
    rows = [{"task_id": x.task_id, "map_index": x.map_index, "key": x.key,
             "value": _value(x)} for x in items]
    if args.output != "table":
        emit(render_data(rows, args.output))
        return 0
    emit(render_table(["TASK_ID", "MAP_INDEX", "KEY", "VALUE"],
                      [(r["task_id"], r["map_index"], r["key"], json.dumps(r["value"])[:80])
                       for r in rows]))
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    xcom = subparsers.add_parser("xcom", help="XCom values of task instances")
    verbs = xcom.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("get", parents=[common], help="print one XCom value as JSON")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.add_argument("task_id")
    p.add_argument("--key", default="return_value", help="default: return_value")
    p.add_argument("--map-index", type=int, default=-1, help="default -1 (not mapped)")
    p.set_defaults(handler=get_xcom)
    p = verbs.add_parser("list", parents=[common], help="the XComs of a run (or one task)")
    p.add_argument("dag_id")
    p.add_argument("run_id")
    p.add_argument("task_id", nargs="?", default=None)
    p.set_defaults(handler=list_xcoms)
