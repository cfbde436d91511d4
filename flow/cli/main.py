"""`flowcli`: client commands over the public gRPC API, `db migrate`, and the services.

`flowcli scheduler|worker|logserver|api|standalone ...` hands the rest of the command line to
that service's own `main()`, imported only then. Exit codes come from flow/errors.py:
2 for an invalid argument, 1 for any other error.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from flow.cli import (
    commands_assets,
    commands_backfills,
    commands_config,
    commands_connections,
    commands_dags,
    commands_pools,
    commands_runs,
    commands_tasks,
    commands_users,
    commands_variables,
    commands_workers,
    commands_xcom,
    completion,
)
from flow.cli.client import FlowClient, resolve_target
from flow.cli.output import FORMATS
from flow.errors import FlowError

SERVICES = {
    "scheduler": ("services.scheduler.app", "run the scheduler"),
    "worker": ("services.worker.app", "run a worker"),
    "logserver": ("services.logserver.app", "run the log server"),
    "api": ("services.api.app", "run the API gateway (web UI, REST, gRPC)"),
    "standalone": ("flow.cli.standalone", "run the whole platform on this machine"),
}


def _common_options() -> argparse.ArgumentParser:
    """Options every client command accepts after its verb (defaults live on the top parser)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", default=argparse.SUPPRESS, metavar="HOST:PORT",
                        help="the gateway's gRPC address (env FLOW_SERVER; default: "
                             "$FLOW_HOME/standalone.json, else 127.0.0.1:50051)")
    common.add_argument("--token", default=argparse.SUPPRESS,
                        help="API token (env FLOW_TOKEN; default: from standalone.json)")
    common.add_argument("-o", "--output", choices=FORMATS, default=argparse.SUPPRESS,
                        help="table (default), json or yaml")
    return common


async def migrate_db(args: argparse.Namespace) -> int:
    from flow.config import load_config
    from flow.db.migrate import upgrade_database

    await upgrade_database(load_config().database_url)
    print("The metadata database is migrated to the latest revision.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowcli", description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--token", default=None, help=argparse.SUPPRESS)
    parser.add_argument("-o", "--output", choices=FORMATS, default="table",
                        help=argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options()
    for module in (commands_dags, commands_backfills, commands_runs, commands_tasks,
                   commands_xcom, commands_variables, commands_connections, commands_workers,
                   commands_pools, commands_assets, commands_users, commands_config):
        module.register(subparsers, common)
    completion.register(subparsers)
    db = subparsers.add_parser("db", help="the metadata database")
    db_verbs = db.add_subparsers(dest="verb", required=True, metavar="VERB")
    db_verbs.add_parser("migrate", help="upgrade the database to the latest schema").set_defaults(
        local=migrate_db)
    for name, (_module, help_text) in SERVICES.items():
        subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


async def _run_client_command(args: argparse.Namespace) -> int:
    client = FlowClient(resolve_target(args.server, args.token))
    try:
        code: int = await args.handler(args, client)
        return code
    finally:
        await client.close()


def _run_service(name: str, rest: Sequence[str]) -> int:
    module: Any = importlib.import_module(SERVICES[name][0])
    code = module.main(list(rest))
    return int(code or 0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SERVICES:
        return _run_service(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "local", None) is not None:
            return int(asyncio.run(args.local(args)))
        return asyncio.run(_run_client_command(args))
    except FlowError as exc:
        print(f"flowcli: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
