"""`flowcli connections add|get|list|update|delete`, as Airflow's CLI (update is Flow's own:
the fields given replace the stored ones). Passwords are never shown."""

from __future__ import annotations

import argparse
import json
from typing import Any

from flow.cli.client import FlowClient
from flow.cli.output import emit, render_data, render_fields, render_table
from flow.errors import InvalidArgumentError
from flow.sdk.connections import Connection
from flow.v1 import connection_service_pb2 as pb

_FIELDS = ("conn_type", "host", "login", "password", "schema", "port", "extra", "description")


def _from_args(args: argparse.Namespace) -> pb.Connection:
    """The connection from --conn-uri or the --conn-* fields (not both), as Airflow's CLI."""
    fields = {name: getattr(args, name if name == "conn_type" else f"conn_{name}")
              for name in _FIELDS}
    if args.conn_uri:
        if any(v for k, v in fields.items() if k != "description"):
            raise InvalidArgumentError(
                "Give either --conn-uri or the --conn-* fields, not both.", field="conn_uri")
        try:
            parsed = Connection(conn_id=args.conn_id, uri=args.conn_uri)
        except ValueError as exc:
            raise InvalidArgumentError(str(exc), field="conn_uri") from None
        fields.update(conn_type=parsed.conn_type, host=parsed.host, login=parsed.login,
                      password=parsed.password, schema=parsed.schema, port=parsed.port,
                      extra=parsed.extra)
    if not fields["conn_type"]:
        raise InvalidArgumentError("Give --conn-uri or --conn-type.", field="conn_type")
    if fields["extra"]:
        try:
            json.loads(fields["extra"])
        except ValueError as exc:
            raise InvalidArgumentError(f"--conn-extra is not valid JSON: {exc}.",
                                       field="conn_extra") from None
    return pb.Connection(conn_id=args.conn_id, **{k: v for k, v in fields.items() if v})


async def add_connection(args: argparse.Namespace, client: FlowClient) -> int:
    await client.call("connections", "CreateConnection",
                      pb.CreateConnectionRequest(connection=_from_args(args)))
    emit(f"Successfully added `conn_id`={args.conn_id}")
    return 0


def _rows(c: pb.Connection) -> list[tuple[str, object]]:
    return [("conn_id", c.conn_id), ("conn_type", c.conn_type), ("description", c.description),
            ("host", c.host), ("schema", c.schema), ("login", c.login),
            ("password", c.password), ("port", c.port or ""), ("extra", c.extra)]


async def get_connection(args: argparse.Namespace, client: FlowClient) -> int:
    response = await client.call("connections", "GetConnection",
                                 pb.GetConnectionRequest(conn_id=args.conn_id))
    if args.output != "table":
        emit(render_data(response.connection, args.output))
        return 0
    emit(render_fields(_rows(response.connection)))
    return 0


async def list_connections(args: argparse.Namespace, client: FlowClient) -> int:
    items = await client.list_all("connections", "ListConnections",
                                  pb.ListConnectionsRequest(), "connections")
    if args.output != "table":
        emit(render_data(items, args.output))
        return 0
    emit(render_table(["CONN_ID", "CONN_TYPE", "HOST", "PORT", "SCHEMA", "LOGIN"],
                      [(c.conn_id, c.conn_type, c.host, c.port or "", c.schema, c.login)
                       for c in items]))
    return 0


async def update_connection(args: argparse.Namespace, client: FlowClient) -> int:
    fields = {name: getattr(args, name if name == "conn_type" else f"conn_{name}")
              for name in _FIELDS}
    given = {k: v for k, v in fields.items() if v is not None}
    if not given:
        raise InvalidArgumentError("Give at least one field to change, e.g. --conn-host.",
                                   field="conn_host")
    await client.call("connections", "UpdateConnection", pb.UpdateConnectionRequest(
        conn_id=args.conn_id, connection=pb.Connection(**given), update_mask=sorted(given)))
    emit(f"Successfully updated `conn_id`={args.conn_id}")
    return 0


def _field_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--conn-type", default=None)
    p.add_argument("--conn-host", default=None)
    p.add_argument("--conn-login", default=None)
    p.add_argument("--conn-password", default=None)
    p.add_argument("--conn-schema", default=None)
    p.add_argument("--conn-port", type=int, default=None)
    p.add_argument("--conn-extra", default=None, help="JSON object")
    p.add_argument("--conn-description", default=None)


async def delete_connection(args: argparse.Namespace, client: FlowClient) -> int:
    await client.call("connections", "DeleteConnection",
                      pb.DeleteConnectionRequest(conn_id=args.conn_id))
    emit(f"Successfully deleted connection with `conn_id`={args.conn_id}")
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    connections = subparsers.add_parser("connections", help="connections tasks read")
    verbs = connections.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("add", parents=[common], help="add a connection (a URI or fields)")
    p.add_argument("conn_id")
    p.add_argument("--conn-uri", default=None, help="e.g. postgres://user:pass@host:5432/db")
    _field_options(p)
    p.set_defaults(handler=add_connection)
    p = verbs.add_parser("update", parents=[common],
                         help="replace the given fields of a connection")
    p.add_argument("conn_id")
    _field_options(p)
    p.set_defaults(handler=update_connection)
    p = verbs.add_parser("get", parents=[common], help="show a connection (password masked)")
    p.add_argument("conn_id")
    p.set_defaults(handler=get_connection)
    p = verbs.add_parser("list", parents=[common], help="the connections")
    p.set_defaults(handler=list_connections)
    p = verbs.add_parser("delete", parents=[common], help="delete a connection")
    p.add_argument("conn_id")
    p.set_defaults(handler=delete_connection)
