"""`flowcli assets list|events`: the assets DAGs are scheduled on, and their updates."""

from __future__ import annotations

import argparse
from typing import Any

from flow.cli.client import FlowClient
from flow.cli.output import emit, format_time, render_data, render_table
from flow.v1 import asset_service_pb2


async def list_assets(args: argparse.Namespace, client: FlowClient) -> int:
    assets = await client.list_all("assets", "ListAssets", asset_service_pb2.ListAssetsRequest(
        uri_pattern=args.pattern or ""), "assets")
    if args.output != "table":
        emit(render_data(assets, args.output))
        return 0
    emit(render_table(["URI", "SCHEDULED_DAGS", "LAST_UPDATED"],
                      [(a.uri, ",".join(a.consuming_dag_ids), format_time(a, "last_updated"))
                       for a in assets]))
    return 0


async def list_events(args: argparse.Namespace, client: FlowClient) -> int:
    events = await client.list_all("assets", "ListAssetEvents",
                                   asset_service_pb2.ListAssetEventsRequest(
                                       uri=args.uri or "", source_dag_id=args.dag_id or ""),
                                   "asset_events")
    if args.output != "table":
        emit(render_data(events, args.output))
        return 0
    emit(render_table(["ID", "URI", "DAG_ID", "RUN_ID", "TASK_ID", "TIMESTAMP"],
                      [(e.id, e.uri, e.source_dag_id, e.source_run_id, e.source_task_id
                        + (f"[{e.source_map_index}]" if e.source_map_index >= 0 else ""),
                        format_time(e, "timestamp")) for e in events]))
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    assets = subparsers.add_parser("assets", help="assets (data-aware scheduling)")
    verbs = assets.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", parents=[common],
                         help="the assets, the DAGs scheduled on each, their last update")
    p.add_argument("--pattern", help="only assets whose uri contains this text")
    p.set_defaults(handler=list_assets)
    p = verbs.add_parser("events", parents=[common], help="asset updates, newest first")
    p.add_argument("--uri", help="only updates of this asset")
    p.add_argument("--dag-id", help="only updates made by tasks of this DAG")
    p.set_defaults(handler=list_events)
