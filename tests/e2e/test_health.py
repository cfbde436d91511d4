"""Every gRPC server of the platform answers health checks and server reflection, without a
token, and lists the services it serves."""

from __future__ import annotations

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from flow.platform import Platform
from flow.v1 import system_service_pb2, system_service_pb2_grpc
from tests.e2e.runtime import RuntimeApi

pytestmark = pytest.mark.e2e

EXPECTED = {
    "logserver": {"flow.v1.LogService"},
    "scheduler": {"flow.v1.SchedulerService", "flow.v1.TaskExecutionService",
                  "flow.v1.IdentityService"},
    "api": {"flow.v1.DagService", "flow.v1.DagRunService", "flow.v1.TaskInstanceService",
            "flow.v1.UserService", "flow.v1.AuditService", "flow.v1.SystemService"},
}


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_health_and_reflection_on_every_grpc_server(platform: Platform, service: str) -> None:
    port = platform.services[service].info["grpc_port"]
    with grpc.insecure_channel(f"{platform.host}:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ["", *sorted(EXPECTED[service])]:
            answer = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=10)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING, name
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
        listed = {s.name for reply in replies for s in reply.list_services_response.service}
        assert EXPECTED[service] | {"grpc.health.v1.Health"} <= listed


def test_version_over_grpc_rest_and_flowcli(api: RuntimeApi, platform: Platform) -> None:
    from flow import __version__

    answer = system_service_pb2_grpc.SystemServiceStub(api.channel).GetVersion(
        system_service_pb2.GetVersionRequest(), **api.call_options)
    assert (answer.version, answer.api_version) == (__version__, "v1")
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as http:
        assert http.get("/api/v1/version").json() == {"version": __version__,
                                                      "api_version": "v1"}
        assert httpx.get(f"{addresses.http}/api/v1/version").status_code == 401
    code, out, err = api.cli("version")
    assert code == 0 and f"gateway {__version__} (API v1)" in out, err
