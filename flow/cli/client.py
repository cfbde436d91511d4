"""Where flowcli finds the API, and a small client over its public gRPC services.

Address and token come from `--server`/`--token`, else `FLOW_SERVER`/`FLOW_TOKEN`, else
`$FLOW_HOME/standalone.json` (written by `flowcli standalone`), so local commands need no flags.
gRPC errors become FlowError here, once.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from flow.config import TlsConfig, default_home
from flow.errors import FlowError, UnavailableError
from flow.grpcutil import STATUS_DETAILS_KEY, error_from_rpc, open_channel
from flow.v1 import (
    asset_service_pb2_grpc,
    audit_service_pb2_grpc,
    backfill_service_pb2_grpc,
    connection_service_pb2_grpc,
    dag_run_service_pb2_grpc,
    dag_service_pb2_grpc,
    dag_spec_service_pb2_grpc,
    pool_service_pb2_grpc,
    system_service_pb2_grpc,
    task_instance_service_pb2_grpc,
    user_service_pb2_grpc,
    variable_service_pb2_grpc,
    worker_service_pb2_grpc,
    xcom_service_pb2_grpc,
)

DEFAULT_ADDRESS = "127.0.0.1:50051"
STATE_FILE = "standalone.json"
CALL_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Target:
    """The gateway's gRPC address and the token to present."""

    address: str
    token: str
    ca_file: str = ""  # set: the gateway speaks TLS and this is the root to trust


def read_standalone_state(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """`$FLOW_HOME/standalone.json`, or {} when there is none (or it is unreadable)."""
    path = default_home(environ) / STATE_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def resolve_target(server: str | None = None, token: str | None = None,
                   environ: Mapping[str, str] = os.environ) -> Target:
    """Flags, then environment, then the standalone state file, then the default address."""
    state = read_standalone_state(environ)
    address = server or environ.get("FLOW_SERVER") or str(state.get("grpc") or DEFAULT_ADDRESS)
    for scheme in ("grpc://", "http://"):
        address = address.removeprefix(scheme)
    secret = token or environ.get("FLOW_TOKEN") or str(state.get("token") or "")
    ca_file = environ.get("FLOW_TLS__CA_FILE") or str(state.get("ca_file") or "")
    return Target(address=address.rstrip("/"), token=secret, ca_file=ca_file)


class ApiUnreachableError(UnavailableError):
    """The gateway itself did not answer (as opposed to a service behind it)."""

    default_reason = "API_UNREACHABLE"


def translate(exc: grpc.aio.AioRpcError, address: str) -> FlowError:
    """The FlowError for a failed call; an unreachable gateway gets a message that says so."""
    trailing = exc.trailing_metadata() or ()
    from_server = any(key == STATUS_DETAILS_KEY for key, _ in trailing)
    if exc.code() == grpc.StatusCode.UNAVAILABLE and not from_server:
        return ApiUnreachableError(
            f"cannot reach the Flow API at {address}: is `flowcli standalone` running?")
    if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED and not from_server:
        return UnavailableError(f"the Flow API at {address} did not answer in time.",
                                reason="API_TIMEOUT")
    return error_from_rpc(exc)


class FlowClient:
    """The public flow.v1 services, with errors translated."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._channel = open_channel(target.address, target.token,
                                     TlsConfig(ca_file=target.ca_file))
        # open_channel authenticates unary-unary calls only; streams carry the token themselves.
        self._metadata = (("authorization", f"Bearer {target.token}"),) if target.token else ()
        self._stubs: dict[str, Any] = {
            "dags": dag_service_pb2_grpc.DagServiceStub(self._channel),
            "runs": dag_run_service_pb2_grpc.DagRunServiceStub(self._channel),
            "tasks": task_instance_service_pb2_grpc.TaskInstanceServiceStub(self._channel),
            "workers": worker_service_pb2_grpc.WorkerServiceStub(self._channel),
            "xcom": xcom_service_pb2_grpc.XComServiceStub(self._channel),
            "variables": variable_service_pb2_grpc.VariableServiceStub(self._channel),
            "connections": connection_service_pb2_grpc.ConnectionServiceStub(self._channel),
            "users": user_service_pb2_grpc.UserServiceStub(self._channel),
            "audit": audit_service_pb2_grpc.AuditServiceStub(self._channel),
            "backfills": backfill_service_pb2_grpc.BackfillServiceStub(self._channel),
            "pools": pool_service_pb2_grpc.PoolServiceStub(self._channel),
            "assets": asset_service_pb2_grpc.AssetServiceStub(self._channel),
            "system": system_service_pb2_grpc.SystemServiceStub(self._channel),
            "specs": dag_spec_service_pb2_grpc.DagSpecServiceStub(self._channel),
        }

    async def call(self, service: str, method: str, request: Any) -> Any:
        """A unary call, e.g. `await client.call("dags", "GetDag", request)`."""
        try:
            return await getattr(self._stubs[service], method)(
                request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, self.target.address) from None

    async def list_all(self, service: str, method: str, request: Any, field: str) -> list[Any]:
        """Every item of a List RPC, following next_page_token."""
        items: list[Any] = []
        while True:
            response = await self.call(service, method, request)
            items.extend(getattr(response, field))
            if not response.next_page_token:
                return items
            request.page_token = response.next_page_token

    async def stream(self, service: str, method: str, request: Any) -> AsyncIterator[Any]:
        """A server-streaming call; the iterator ends when the server ends the stream."""
        call = getattr(self._stubs[service], method)(request, metadata=self._metadata)
        try:
            async for item in call:
                yield item
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, self.target.address) from None
        finally:
            call.cancel()

    async def close(self) -> None:
        await self._channel.close()
