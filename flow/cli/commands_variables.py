"""`flowcli variables get|set|list|delete|import|export`, as Airflow's CLI."""

from __future__ import annotations

import argparse
import json
import pathlib
from typing import Any

from flow.cli.client import FlowClient
from flow.cli.output import emit, render_data, render_table
from flow.errors import InvalidArgumentError, NotFoundError
from flow.log import MASK, is_sensitive_key
from flow.v1 import variable_service_pb2 as pb


async def get_variable(args: argparse.Namespace, client: FlowClient) -> int:
    try:
        response = await client.call("variables", "GetVariable", pb.GetVariableRequest(
            key=args.key))
    except NotFoundError:
        if args.default is None:
            raise
        emit(args.default)
        return 0
    value: Any = response.variable.value
    if args.json:
        try:
            value = json.dumps(json.loads(value), indent=2)
        except ValueError:
            raise InvalidArgumentError(f"Variable {args.key} is not JSON; get it without "
                                       "--json.", field="json") from None
    if args.output != "table":
        emit(render_data(response.variable, args.output))
        return 0
    emit(value)
    return 0


async def set_variable(args: argparse.Namespace, client: FlowClient) -> int:
    value = args.value
    if args.json:
        try:
            value = json.dumps(json.loads(value))
        except ValueError as exc:
            raise InvalidArgumentError(f"VALUE is not valid JSON: {exc}.", field="value") \
                from None
    await client.call("variables", "SetVariable", pb.SetVariableRequest(variable=pb.Variable(
        key=args.key, value=value, description=args.description or "")))
    emit(f"Variable {args.key} created")
    return 0


async def list_variables(args: argparse.Namespace, client: FlowClient) -> int:
    variables = await client.list_all("variables", "ListVariables", pb.ListVariablesRequest(),
                                      "variables")
    if args.output != "table":
        emit(render_data([{"key": v.key, "description": v.description} for v in variables],
                         args.output))
        return 0
    emit(render_table(["KEY", "DESCRIPTION"], [(v.key, v.description) for v in variables]))
    return 0


async def delete_variable(args: argparse.Namespace, client: FlowClient) -> int:
    await client.call("variables", "DeleteVariable", pb.DeleteVariableRequest(key=args.key))
    emit(f"Variable {args.key} deleted")
    return 0


async def import_variables(args: argparse.Namespace, client: FlowClient) -> int:
    """A JSON object {key: value}; values that are not strings are stored as JSON text."""
    try:
        data = json.loads(_read(args.file))
    except (OSError, ValueError) as exc:
        raise InvalidArgumentError(f"Cannot read {args.file}: {exc}.", field="file") from None
    if not isinstance(data, dict):
        raise InvalidArgumentError(f"{args.file} must hold a JSON object of key: value.",
                                   field="file")
    for key, value in data.items():
        text = value if isinstance(value, str) else json.dumps(value)
        await client.call("variables", "SetVariable", pb.SetVariableRequest(
            variable=pb.Variable(key=key, value=text)))
    emit(f"{len(data)} of {len(data)} variables successfully updated.")
    return 0


def _read(path: str) -> str:
    """A small local file, read synchronously: the CLI runs one command at a time."""
    return pathlib.Path(path).read_text()


def _write(path: str, text: str) -> None:
    pathlib.Path(path).write_text(text)


def _decoded(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


async def export_variables(args: argparse.Namespace, client: FlowClient) -> int:
    """Write every variable to a JSON file (values that are JSON text are written as JSON)."""
    variables = await client.list_all("variables", "ListVariables", pb.ListVariablesRequest(),
                                      "variables")
    # The API answers sensitive variables as ***: leave them out rather than export a mask
    # that an import would then store over the real value.
    hidden = sorted(v.key for v in variables if is_sensitive_key(v.key) and v.value == MASK)
    data = {v.key: _decoded(v.value) for v in variables if v.key not in hidden}
    _write(args.file, json.dumps(data, indent=4, sort_keys=True) + "\n")
    emit(f"{len(data)} variables successfully exported to {args.file}")
    if hidden:
        emit(f"{len(hidden)} sensitive variables were left out (the API never returns their "
             f"values): {', '.join(hidden)}")
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    variables = subparsers.add_parser("variables", help="variables tasks read with Variable.get")
    verbs = variables.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("get", parents=[common], help="print a variable's value")
    p.add_argument("key")
    p.add_argument("-d", "--default", default=None, help="printed when the key does not exist")
    p.add_argument("-j", "--json", action="store_true", help="deserialize a JSON value")
    p.set_defaults(handler=get_variable)
    p = verbs.add_parser("set", parents=[common], help="create or replace a variable")
    p.add_argument("key")
    p.add_argument("value")
    p.add_argument("--description", default=None)
    p.add_argument("-j", "--json", action="store_true", help="VALUE is JSON")
    p.set_defaults(handler=set_variable)
    p = verbs.add_parser("list", parents=[common], help="the variables' keys")
    p.set_defaults(handler=list_variables)
    p = verbs.add_parser("delete", parents=[common], help="delete a variable")
    p.add_argument("key")
    p.set_defaults(handler=delete_variable)
    p = verbs.add_parser("import", parents=[common], help="set variables from a JSON file")
    p.add_argument("file")
    p.set_defaults(handler=import_variables)
    p = verbs.add_parser("export", parents=[common], help="write every variable to a JSON file")
    p.add_argument("file")
    p.set_defaults(handler=export_variables)
