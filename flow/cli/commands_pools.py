"""`flowcli pools list|get|set|delete`, as Airflow's CLI (`pools set NAME SLOTS DESCRIPTION`)."""

from __future__ import annotations

import argparse
from typing import Any

from flow.cli.client import FlowClient
from flow.cli.output import emit, render_data, render_table
from flow.errors import InvalidArgumentError
from flow.v1 import pool_service_pb2 as pb

COLUMNS = ["POOL", "SLOTS", "RUNNING", "QUEUED", "OPEN", "SCHEDULED", "DESCRIPTION"]


def _row(pool: Any) -> tuple[Any, ...]:
    return (pool.name, pool.slots, pool.running_slots, pool.queued_slots, pool.open_slots,
            pool.scheduled_tasks, pool.description)


def _show(pools: list[Any], output: str, *, single: bool = False) -> None:
    if output != "table":
        emit(render_data(pools[0] if single else pools, output))
        return
    emit(render_table(COLUMNS, [_row(p) for p in pools]))


async def list_pools(args: argparse.Namespace, client: FlowClient) -> int:
    pools = await client.list_all("pools", "ListPools", pb.ListPoolsRequest(), "pools")
    _show(pools, args.output)
    return 0


async def get_pool(args: argparse.Namespace, client: FlowClient) -> int:
    response = await client.call("pools", "GetPool", pb.GetPoolRequest(name=args.name))
    _show([response.pool], args.output, single=True)
    return 0


async def set_pool(args: argparse.Namespace, client: FlowClient) -> int:
    """Create the pool, or change its slots and description (Airflow's `pools set`)."""
    if args.slots < 0:
        raise InvalidArgumentError(f"SLOTS must be 0 or more; got {args.slots}.",
                                   field="slots")
    response = await client.call("pools", "UpdatePool", pb.UpdatePoolRequest(
        pool=pb.Pool(name=args.name, slots=args.slots, description=args.description),
        allow_missing=True))
    _show([response.pool], args.output, single=True)
    return 0


async def delete_pool(args: argparse.Namespace, client: FlowClient) -> int:
    await client.call("pools", "DeletePool", pb.DeletePoolRequest(name=args.name))
    emit(f"Pool {args.name} deleted")
    return 0


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    pools = subparsers.add_parser("pools", help="pools: how many tasks of a kind run at once")
    verbs = pools.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", parents=[common], help="pools with their occupancy")
    p.set_defaults(handler=list_pools)
    p = verbs.add_parser("get", parents=[common], help="one pool with its occupancy")
    p.add_argument("name")
    p.set_defaults(handler=get_pool)
    p = verbs.add_parser("set", parents=[common], help="create or change a pool")
    p.add_argument("name")
    p.add_argument("slots", type=int)
    p.add_argument("description", nargs="?", default="")
    p.set_defaults(handler=set_pool)
    p = verbs.add_parser("delete", parents=[common], help="delete a pool")
    p.add_argument("name")
    p.set_defaults(handler=delete_pool)
