"""`flowcli dags submit|spec` (DAGs defined as data) and `flowcli tasks submit` (ad-hoc
tasks): clients of DagSpecService. A spec file is the DagSpec message as JSON or YAML."""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

import yaml
from google.protobuf import json_format

from flow.cli.client import FlowClient
from flow.cli.output import emit, format_time, parse_conf, render_data, render_table
from flow.errors import InvalidArgumentError
from flow.v1 import (
    common_pb2,
    dag_pb2,
    dag_run_service_pb2,
    dag_spec_service_pb2,
    task_instance_service_pb2,
)

pb = dag_spec_service_pb2


def read_spec_file(path: str) -> Any:
    """The DagSpec in `path` (.json, .yaml or .yml); a bad file is an InvalidArgumentError
    naming it."""
    file = pathlib.Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise InvalidArgumentError(f"Cannot read {path}: {exc.strerror}.", field="FILE") from None
    try:
        data = (yaml.safe_load(text) if file.suffix.lower() in (".yaml", ".yml")
                else json.loads(text))
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidArgumentError(f"{path} is not valid {file.suffix.lstrip('.') or 'JSON'}: "
                                   f"{exc}", field="FILE") from None
    if not isinstance(data, dict):
        raise InvalidArgumentError(f"{path} must hold one DagSpec object.", field="FILE")
    try:
        return json_format.ParseDict(data, dag_pb2.DagSpec())
    except json_format.ParseError as exc:
        raise InvalidArgumentError(f"{path} is not a DagSpec: {exc}", field="FILE") from None


async def submit_spec(args: argparse.Namespace, client: FlowClient) -> int:
    spec = read_spec_file(args.file)
    response = await client.call("specs", "SubmitDagSpec", pb.SubmitDagSpecRequest(spec=spec))
    if args.output != "table":
        emit(render_data(response, args.output))
        return 0
    version = response.version.version
    emit(f"DAG {spec.dag_id}: stored as version {version}." if response.created
         else f"DAG {spec.dag_id}: unchanged, still version {version}.")
    return 0


async def show_spec(args: argparse.Namespace, client: FlowClient) -> int:
    if args.versions:
        versions = await client.list_all("specs", "ListDagSpecVersions",
                                         pb.ListDagSpecVersionsRequest(dag_id=args.dag_id),
                                         "versions")
        if args.output != "table":
            emit(render_data(versions, args.output))
            return 0
        emit(render_table(["VERSION", "CREATED", "SPEC_HASH"], [
            (v.version, format_time(v, "created_at"), v.spec_hash[:12]) for v in versions]))
        return 0
    response = await client.call("specs", "GetDagSpec", pb.GetDagSpecRequest(
        dag_id=args.dag_id, version=args.version or 0))
    if args.output != "table":
        emit(render_data(response, args.output))
        return 0
    emit(f"# DAG {args.dag_id}, version {response.version.version} "
         f"({format_time(response.version, 'created_at')})")
    emit(yaml.safe_dump(json_format.MessageToDict(response.spec,
                                                  preserving_proto_field_name=True),
                        sort_keys=False).rstrip())
    return 0


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InvalidArgumentError(f"{option} takes NAME=VALUE, got {item!r}.", field=option)
        out[name] = value
    return out


def adhoc_task(args: argparse.Namespace) -> Any:
    """The TaskSpec of `tasks submit`'s options."""
    task = dag_pb2.TaskSpec(task_id=args.task_id or "", queue=args.queue or "",
                            retries=args.retries,
                            execution_timeout_seconds=args.execution_timeout or 0.0)
    kinds = [k for k in ("command", "http_url", "python") if getattr(args, k)]
    if len(kinds) != 1:
        raise InvalidArgumentError("Give exactly one of --command, --http-url or --python.",
                                   field="--command")
    if args.command:
        task.command.command = args.command
        task.command.env.update(_pairs(args.env, "--env"))
        task.command.cwd = args.cwd or ""
    elif args.http_url:
        task.http.url = args.http_url
        task.http.method = args.http_method
        task.http.body = args.http_body or ""
        task.http.headers.update(_pairs(args.header, "--header"))
    else:
        task.python.callable = args.python
        kwargs = parse_conf(args.kwargs)
        if kwargs is not None:
            task.python.kwargs.update(kwargs)
    return task


async def submit_task(args: argparse.Namespace, client: FlowClient) -> int:
    request = pb.SubmitTaskRequest(task=adhoc_task(args))
    conf = parse_conf(args.conf)
    if conf is not None:
        json_format.ParseDict(conf, request.conf)
    handle = await client.call("specs", "SubmitTask", request)
    if not args.follow:
        if args.output != "table":
            emit(render_data(handle, args.output))
        else:
            emit(render_table(["DAG_ID", "RUN_ID", "TASK_ID"],
                              [(handle.dag_id, handle.run_id, handle.task_id)]))
        return 0
    print(f"{handle.dag_id} {handle.run_id} {handle.task_id}", file=sys.stderr, flush=True)
    key = common_pb2.TaskInstanceKey(dag_id=handle.dag_id, run_id=handle.run_id,
                                     task_id=handle.task_id, map_index=-1, try_number=1)
    while True:  # each try's log, until a try ends the task instance (retries included)
        async for chunk in client.stream("tasks", "FollowTaskLog",
                                         task_instance_service_pb2.FollowTaskLogRequest(key=key)):
            _write(chunk.content)
        ti = await _after_try(client, key)
        if ti.state in _FINISHED:
            break
        key.try_number += 1
    state = common_pb2.TaskInstanceState.Name(ti.state).removeprefix(
        "TASK_INSTANCE_STATE_").lower()
    print(f"task {handle.task_id}: {state}", file=sys.stderr)
    return 0 if ti.state == common_pb2.TASK_INSTANCE_STATE_SUCCESS else 1


def _write(content: bytes) -> None:
    """Log bytes to stdout as they are (as text where stdout has no byte buffer)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(content)
        buffer.flush()
    else:
        sys.stdout.write(content.decode(errors="replace"))


_FINISHED = {common_pb2.TASK_INSTANCE_STATE_SUCCESS, common_pb2.TASK_INSTANCE_STATE_FAILED,
             common_pb2.TASK_INSTANCE_STATE_SKIPPED,
             common_pb2.TASK_INSTANCE_STATE_UPSTREAM_FAILED,
             common_pb2.TASK_INSTANCE_STATE_REMOVED}


async def _after_try(client: FlowClient, key: Any) -> Any:
    """The task instance once the scheduler applied the result of try `key.try_number` (its
    log ends before the result is published): watched, not polled."""
    request = task_instance_service_pb2.GetTaskInstanceRequest(key=key)
    watch = dag_run_service_pb2.WatchStateChangesRequest(dag_id=key.dag_id, run_id=key.run_id)
    ti = None
    async for _change in client.stream("runs", "WatchStateChanges", watch):
        ti = (await client.call("tasks", "GetTaskInstance", request)).task_instance
        if ti.key.try_number > key.try_number or ti.state not in (
                common_pb2.TASK_INSTANCE_STATE_RUNNING, common_pb2.TASK_INSTANCE_STATE_QUEUED):
            return ti
    return ti if ti is not None else (
        await client.call("tasks", "GetTaskInstance", request)).task_instance


def register_dag_verbs(verbs: Any, common: argparse.ArgumentParser) -> None:
    """`dags submit FILE` and `dags spec DAG_ID`."""
    p = verbs.add_parser("submit", parents=[common],
                         help="store a DAG defined as data (a DagSpec in JSON or YAML)")
    p.add_argument("file", metavar="FILE", help="FILE.json, FILE.yaml or FILE.yml")
    p.set_defaults(handler=submit_spec)
    p = verbs.add_parser("spec", parents=[common],
                         help="a submitted DAG's spec (latest or --version N), or --versions")
    p.add_argument("dag_id")
    p.add_argument("--version", type=int, default=0, help="this version (default: the latest)")
    p.add_argument("--versions", action="store_true", help="list the stored versions")
    p.set_defaults(handler=show_spec)


def register_task_verbs(verbs: Any, common: argparse.ArgumentParser) -> None:
    """`tasks submit`: one ad-hoc task now."""
    p = verbs.add_parser("submit", parents=[common],
                         help="run one command, HTTP call or python callable now, on a queue")
    p.add_argument("--queue", default="", help="the queue whose workers run it (default)")
    p.add_argument("--command", help="a bash command")
    p.add_argument("--env", action="append", metavar="NAME=VALUE",
                   help="environment variable for --command (repeatable)")
    p.add_argument("--cwd", help="working directory for --command")
    p.add_argument("--http-url", help="an HTTP request to this URL")
    p.add_argument("--http-method", default="GET", help="method of --http-url (default GET)")
    p.add_argument("--http-body", help="body of --http-url")
    p.add_argument("--header", action="append", metavar="NAME=VALUE",
                   help="header of --http-url (repeatable)")
    p.add_argument("--python", metavar="MODULE:FUNCTION",
                   help="a callable importable on the worker")
    p.add_argument("--kwargs", help="JSON object of keyword arguments for --python")
    p.add_argument("--task-id", help="the task's id (default: task)")
    p.add_argument("--retries", type=int, default=0, help="tries after a failed one")
    p.add_argument("--execution-timeout", type=float, help="seconds before an attempt is stopped")
    p.add_argument("--conf", help="JSON object passed to the run as dag_run.conf")
    p.add_argument("-f", "--follow", action="store_true",
                   help="stream the log until the task ends; exit 0 when it succeeded")
    p.set_defaults(handler=submit_task)
