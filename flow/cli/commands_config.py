"""`flowcli config show`: the configuration in effect here (flow.toml, then FLOW_* variables,
then defaults), secrets masked, as `airflow config list`; and `flowcli version`: this
client's version and the gateway's."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flow.cli.client import FlowClient
from flow.cli.output import emit, render_data, render_table
from flow.config import FlowConfig, load_config
from flow.log import MASK, is_sensitive_key
from flow.v1 import system_service_pb2

# Settings that are secrets whatever their name says.
SECRET_SETTINGS = frozenset({"auth.token", "auth.internal_token", "core.fernet_key",
                             "smtp.password"})


def _shown(name: str, value: Any) -> Any:
    """The value as printed: secrets masked, a URL's password masked."""
    if value in ("", None):
        return value
    if name in SECRET_SETTINGS or is_sensitive_key(name.rpartition(".")[2]):
        return MASK
    if isinstance(value, str) and "://" in value:
        parts = urlsplit(value)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", f":{MASK}@", 1)
            return urlunsplit(parts._replace(netloc=netloc))
    return value


def settings(config: FlowConfig) -> list[tuple[str, Any]]:
    """Every setting as ("section.key", value shown), then the paths derived from them."""
    rows: list[tuple[str, Any]] = []
    for section in dataclasses.fields(config):
        if section.name == "home":
            continue
        values = getattr(config, section.name)
        for item in dataclasses.fields(values):
            name = f"{section.name}.{item.name}"
            rows.append((name, _shown(name, getattr(values, item.name))))
    rows += [("(derived) home", str(config.home)),
             ("(derived) dags_folder", str(config.dags_folder)),
             ("(derived) database_url", _shown("database.url", config.database_url)),
             ("(derived) logs_dir", str(config.logs_dir))]
    return rows


async def show_config(args: argparse.Namespace) -> int:
    rows = [(k, v) for k, v in settings(load_config())
            if not args.section or k.split(".")[0] == args.section]
    if args.output != "table":
        emit(render_data(dict(rows), args.output))
    else:
        emit(render_table(["SETTING", "VALUE"], rows))
    return 0


async def show_version(args: argparse.Namespace, client: FlowClient) -> int:
    from flow import __version__

    server = await client.call("system", "GetVersion", system_service_pb2.GetVersionRequest())
    if args.output != "table":
        emit(render_data({"client": __version__, "server": server.version,
                          "api_version": server.api_version}, args.output))
    else:
        emit(f"flowcli {__version__}; gateway {server.version} (API {server.api_version})")
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    config = subparsers.add_parser("config", help="the configuration in effect")
    verbs = config.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("show", parents=[common],
                         help="every setting (flow.toml, FLOW_<SECTION>__<KEY>, defaults), "
                              "secrets masked")
    p.add_argument("--section", help="only this section, e.g. scheduler")
    p.set_defaults(local=show_config)
    p = subparsers.add_parser("version", parents=[common],
                              help="this client's version and the gateway's")
    p.set_defaults(handler=show_version)
