"""`flowcli dags list|show|errors|trigger|pause|unpause|backfill|delete|test` (and
submit|spec: commands_specs)."""

from __future__ import annotations

import argparse
from typing import Any

from google.protobuf import json_format

from flow.cli import commands_backfills, commands_specs, local_run
from flow.cli.client import FlowClient
from flow.cli.commands_runs import RUN_HEADERS, run_row, wait_for_run
from flow.cli.output import (
    confirm,
    emit,
    format_time,
    parse_conf,
    render_data,
    render_fields,
    render_table,
)
from flow.v1 import common_pb2, dag_run_service_pb2, dag_service_pb2


async def list_dags(args: argparse.Namespace, client: FlowClient) -> int:
    dags = await client.list_all("dags", "ListDags", dag_service_pb2.ListDagsRequest(
        dag_id_pattern=args.pattern or "", include_inactive=args.all), "dags")
    if args.output != "table":
        emit(render_data(dags, args.output))
        return 0
    emit(render_table(
        ["DAG_ID", "SCHEDULE", "PAUSED", "NEXT_RUN", "TAGS", "DESCRIPTION"],
        [(d.dag_id, d.schedule, "yes" if d.is_paused else "no", format_time(d, "next_dagrun"),
          ",".join(d.tags), d.description) for d in dags]))
    return 0


async def set_paused(args: argparse.Namespace, client: FlowClient) -> int:
    paused = args.verb == "pause"
    dag = (await client.call("dags", "UpdateDag", dag_service_pb2.UpdateDagRequest(
        dag_id=args.dag_id, is_paused=paused))).dag
    if args.output != "table":
        emit(render_data(dag, args.output))
    else:
        emit(f"DAG {dag.dag_id} is {'paused' if dag.is_paused else 'unpaused'}.")
    return 0


async def show_dag(args: argparse.Namespace, client: FlowClient) -> int:
    response = await client.call("dags", "GetDag",
                                 dag_service_pb2.GetDagRequest(dag_id=args.dag_id))
    if args.output != "table":
        emit(render_data(response, args.output))
        return 0
    dag = response.dag
    emit(render_fields([
        ("dag_id", dag.dag_id), ("description", dag.description), ("schedule", dag.schedule),
        ("paused", "yes" if dag.is_paused else "no"), ("timezone", dag.timezone),
        ("catchup", "yes" if dag.catchup else "no"), ("max_active_runs", dag.max_active_runs),
        ("next run", format_time(dag, "next_dagrun")),
        ("next run created at", format_time(dag, "next_dagrun_create_after")),
        ("file", dag.fileloc),
        ("tags", ", ".join(dag.tags)), ("owners", ", ".join(dag.owners)),
        ("last parsed", format_time(dag, "last_parsed_time"))]))
    emit("")
    emit(render_table(
        ["TASK_ID", "OPERATOR", "UPSTREAM", "DOWNSTREAM", "TRIGGER_RULE", "QUEUE", "RETRIES"],
        [(t.task_id, t.operator, ",".join(t.upstream_task_ids),
          ",".join(t.downstream_task_ids), t.trigger_rule, t.queue, t.retries)
         for t in dag.tasks]))
    return 0


async def list_errors(args: argparse.Namespace, client: FlowClient) -> int:
    errors = await client.list_all("dags", "ListImportErrors",
                              dag_service_pb2.ListImportErrorsRequest(), "import_errors")
    if args.output != "table":
        emit(render_data(errors, args.output))
        return 0
    if not errors:
        emit("No import errors.")
    for error in errors:
        emit(f"{error.filename}  ({format_time(error, 'timestamp')})")
        emit("\n".join("    " + line for line in error.stacktrace.rstrip().splitlines()))
    return 0


async def trigger(args: argparse.Namespace, client: FlowClient) -> int:
    conf = parse_conf(args.conf)
    request = dag_run_service_pb2.TriggerDagRunRequest(dag_id=args.dag_id,
                                                        run_id=args.run_id or "")
    if conf is not None:
        json_format.ParseDict(conf, request.conf)
    run = (await client.call("runs", "TriggerDagRun", request)).dag_run
    if not args.wait:
        if args.output != "table":
            emit(render_data(run, args.output))
        else:
            emit(render_table(RUN_HEADERS, [run_row(run)]))
        return 0
    final = await wait_for_run(client, run.dag_id, run.run_id, quiet=args.output != "table")
    if args.output != "table":
        emit(render_data(final, args.output))
    return 0 if final.state == common_pb2.DAG_RUN_STATE_SUCCESS else 1


async def delete_dag(args: argparse.Namespace, client: FlowClient) -> int:
    if not confirm(f"Delete DAG {args.dag_id} with all its runs? (Its file, if still in the "
                   "DAG folder, brings it back without history.)", args.yes):
        emit("Nothing deleted.")
        return 1
    response = await client.call("dags", "DeleteDag",
                                 dag_service_pb2.DeleteDagRequest(dag_id=args.dag_id))
    emit(f"Deleted DAG {args.dag_id} and {response.deleted_runs} run(s).")
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    dags = subparsers.add_parser("dags", help="DAGs and import errors")
    verbs = dags.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", parents=[common], help="list DAGs")
    p.add_argument("--pattern", help="only DAGs whose id contains this text")
    p.add_argument("--all", action="store_true", help="include DAGs no longer in the folder")
    p.set_defaults(handler=list_dags)
    p = verbs.add_parser("show", parents=[common], help="a DAG with its tasks and their deps")
    p.add_argument("dag_id")
    p.set_defaults(handler=show_dag)
    p = verbs.add_parser("errors", parents=[common], help="DAG files that failed to import")
    p.set_defaults(handler=list_errors)
    p = verbs.add_parser("trigger", parents=[common], help="start a run of a DAG now")
    p.add_argument("dag_id")
    p.add_argument("--conf", help="JSON object passed to the run as dag_run.conf")
    p.add_argument("--run-id", help="the run's id (default: manual__<logical date>)")
    p.add_argument("--wait", action="store_true",
                   help="follow the run until it ends; exit 0 on success, 1 on failure")
    p.set_defaults(handler=trigger)
    for verb, text in (("pause", "stop creating scheduled runs of a DAG"),
                       ("unpause", "resume creating scheduled runs (from now)")):
        p = verbs.add_parser(verb, parents=[common], help=text)
        p.add_argument("dag_id")
        p.set_defaults(handler=set_paused)
    commands_backfills.register_dags_backfill(verbs, common)
    p = verbs.add_parser("delete", parents=[common],
                         help="delete a DAG's metadata and runs (as airflow dags delete)")
    p.add_argument("dag_id")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=delete_dag)
    p = verbs.add_parser("test", parents=[common],
                         help="run one DAG run here, in this process, without the services "
                              "(for debugging; exit 0 when it succeeds)")
    p.add_argument("dag_id")
    local_run.add_local_options(p)
    p.set_defaults(local=local_run.test_dag)
    commands_specs.register_dag_verbs(verbs, common)
