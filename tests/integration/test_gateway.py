"""The gateway in-process, against a test double of the scheduler and the real logserver.

The lead's end-to-end tests run it with the real scheduler; here the double lets us pin the
forwarding, authentication and error mapping of REST and gRPC exactly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format, timestamp_pb2
from google.protobuf.message_factory import GetMessageClass

from flow.config import FlowConfig, replace
from flow.errors import NotFoundError
from flow.grpcutil import Registration, error_from_rpc, open_channel, serve
from flow.v1 import (
    backfill_service_pb2,
    common_pb2,
    connection_service_pb2,
    dag_run_service_pb2,
    dag_run_service_pb2_grpc,
    dag_service_pb2,
    dag_service_pb2_grpc,
    log_service_pb2,
    log_service_pb2_grpc,
    scheduler_service_pb2,
    scheduler_service_pb2_grpc,
    task_instance_service_pb2,
    task_instance_service_pb2_grpc,
    variable_service_pb2,
    xcom_service_pb2,
)
from services.api import app as api_app
from services.api.routes import OPERATIONS
from services.logserver import app as logserver_app

pytestmark = pytest.mark.integration
TOKEN = "public-token"
INTERNAL = "internal-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EVIL = "<script>alert('x')</script>"


def ts(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


def ti_key(task_id: str, try_number: int = 0) -> common_pb2.TaskInstanceKey:
    return common_pb2.TaskInstanceKey(dag_id="etl", run_id="manual__1", task_id=task_id,
                                      map_index=-1, try_number=try_number)


class FakeScheduler(scheduler_service_pb2_grpc.SchedulerServiceServicer):  # type: ignore[misc]
    """A scheduler with one DAG, one run and two task instances."""

    def __init__(self) -> None:
        self.dag = common_pb2.Dag(
            dag_id="etl", description=EVIL, schedule="@daily", tags=["demo"],
            fileloc="/dags/etl.py", is_active=True, last_parsed_time=ts(1_700_000_000),
            tasks=[common_pb2.Task(task_id="extract", operator="BashOperator",
                                   downstream_task_ids=["load"]),
                   common_pb2.Task(task_id="load", operator="PythonOperator",
                                   upstream_task_ids=["extract"])])
        self.run = common_pb2.DagRun(
            dag_id="etl", run_id="manual__1", state=common_pb2.DAG_RUN_STATE_SUCCESS,
            run_type=common_pb2.DAG_RUN_TYPE_MANUAL, logical_date=ts(1_700_000_000))
        self.tis = [
            common_pb2.TaskInstance(key=ti_key("extract", 1),
                                    state=common_pb2.TASK_INSTANCE_STATE_SUCCESS, duration=1.5),
            common_pb2.TaskInstance(key=ti_key("load", 2),
                                    state=common_pb2.TASK_INSTANCE_STATE_SUCCESS),
        ]
        self.triggered: list[Any] = []

    def _dag(self, dag_id: str) -> None:
        if dag_id != "etl":
            raise NotFoundError(f"DAG '{dag_id}' not found.", reason="DAG_NOT_FOUND")

    async def ListDags(self, request: Any, context: Any) -> Any:
        listed = common_pb2.Dag()
        listed.CopyFrom(self.dag)
        del listed.tasks[:]
        return dag_service_pb2.ListDagsResponse(dags=[listed])

    async def GetDag(self, request: Any, context: Any) -> Any:
        self._dag(request.dag_id)
        return dag_service_pb2.GetDagResponse(dag=self.dag)

    async def ListImportErrors(self, request: Any, context: Any) -> Any:
        return dag_service_pb2.ListImportErrorsResponse(import_errors=[common_pb2.ImportError(
            filename="/dags/broken.py", stacktrace="SyntaxError: <bad>", timestamp=ts(5))])

    async def TriggerDagRun(self, request: Any, context: Any) -> Any:
        self._dag(request.dag_id)
        self.triggered.append(request)
        run = common_pb2.DagRun(dag_id="etl", run_id=request.run_id or "manual__2",
                                state=common_pb2.DAG_RUN_STATE_QUEUED, conf=request.conf)
        return dag_run_service_pb2.TriggerDagRunResponse(dag_run=run)

    async def ListDagRuns(self, request: Any, context: Any) -> Any:
        self._dag(request.dag_id)
        return dag_run_service_pb2.ListDagRunsResponse(dag_runs=[self.run])

    async def GetDagRun(self, request: Any, context: Any) -> Any:
        self._dag(request.dag_id)
        if request.run_id != self.run.run_id:
            raise NotFoundError("no such run", reason="DAG_RUN_NOT_FOUND")
        return dag_run_service_pb2.GetDagRunResponse(dag_run=self.run)

    async def WatchStateChanges(self, request: Any, context: Any) -> AsyncIterator[Any]:
        if request.runs_only:
            yield dag_run_service_pb2.WatchStateChangesResponse(change=common_pb2.StateChange(
                dag_id="etl", run_id="manual__1", dag_run_state=common_pb2.DAG_RUN_STATE_SUCCESS))
            return
        for task_id, state in (("extract", common_pb2.TASK_INSTANCE_STATE_RUNNING),
                               ("extract", common_pb2.TASK_INSTANCE_STATE_SUCCESS)):
            yield dag_run_service_pb2.WatchStateChangesResponse(change=common_pb2.StateChange(
                dag_id="etl", run_id="manual__1", task_instance_key=ti_key(task_id, 1),
                task_instance_state=state, dag_run_state=common_pb2.DAG_RUN_STATE_RUNNING))

    async def ListTaskInstances(self, request: Any, context: Any) -> Any:
        self._dag(request.dag_id)
        return task_instance_service_pb2.ListTaskInstancesResponse(task_instances=self.tis)

    async def GetTaskInstance(self, request: Any, context: Any) -> Any:
        for ti in self.tis:
            if ti.key.task_id == request.key.task_id:
                return task_instance_service_pb2.GetTaskInstanceResponse(task_instance=ti)
        raise NotFoundError("no such task instance", reason="TASK_INSTANCE_NOT_FOUND")


@dataclasses.dataclass
class Gateway:
    http: httpx.AsyncClient
    grpc_address: str
    channel: grpc.aio.Channel
    logs: Any  # LogServiceStub to the real logserver, with the internal token
    scheduler: FakeScheduler


async def _start(runner: Any, config: FlowConfig, stop: asyncio.Event
                 ) -> tuple[asyncio.Task[None], dict[str, Any]]:
    ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(runner(config, stop=stop, on_ready=ready.set_result))
    done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    assert ready in done, "service did not become ready"
    return task, ready.result()


@pytest.fixture
async def gateway(tmp_path: pathlib.Path) -> AsyncIterator[Gateway]:
    fake = FakeScheduler()
    registration = Registration(
        scheduler_service_pb2_grpc.add_SchedulerServiceServicer_to_server, fake,
        scheduler_service_pb2.DESCRIPTOR.services_by_name["SchedulerService"].full_name)
    stop = asyncio.Event()
    async with serve("127.0.0.1:0", [registration], tokens=[INTERNAL]) as scheduler:
        config = replace(FlowConfig(home=tmp_path), auth={"token": TOKEN,
                                                          "internal_token": INTERNAL},
                         logserver={"grpc_bind": "127.0.0.1:0"})
        log_task, log_info = await _start(logserver_app.run, config, stop)
        config = replace(config, scheduler={"address": f"127.0.0.1:{scheduler.port}"},
                         logserver={"address": f"127.0.0.1:{log_info['grpc_port']}"},
                         api={"http_bind": "127.0.0.1:0", "grpc_bind": "127.0.0.1:0"})
        api_task, api_info = await _start(api_app.run, config, stop)
        grpc_address = f"127.0.0.1:{api_info['grpc_port']}"
        channel = open_channel(grpc_address, TOKEN)
        logs_channel = open_channel(f"127.0.0.1:{log_info['grpc_port']}", INTERNAL)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_info['http_port']}",
                                     timeout=10) as http:
            try:
                yield Gateway(http, grpc_address, channel,
                              log_service_pb2_grpc.LogServiceStub(logs_channel), fake)
            finally:
                await channel.close()
                await logs_channel.close()
                stop.set()
                await asyncio.wait_for(asyncio.gather(api_task, log_task), 15)


def as_json(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


async def test_rest_and_grpc_give_the_same_data(gateway: Gateway) -> None:
    """Every read operation answers the same JSON over REST as the proto over gRPC."""
    dags = dag_service_pb2_grpc.DagServiceStub(gateway.channel)
    runs = dag_run_service_pb2_grpc.DagRunServiceStub(gateway.channel)
    tis = task_instance_service_pb2_grpc.TaskInstanceServiceStub(gateway.channel)
    base = "/api/v1/dags/etl/dagRuns/manual__1/taskInstances"
    pairs = [
        ("/api/v1/dags", dags.ListDags(dag_service_pb2.ListDagsRequest())),
        ("/api/v1/dags/etl", dags.GetDag(dag_service_pb2.GetDagRequest(dag_id="etl"))),
        ("/api/v1/importErrors",
         dags.ListImportErrors(dag_service_pb2.ListImportErrorsRequest())),
        ("/api/v1/dags/etl/dagRuns",
         runs.ListDagRuns(dag_run_service_pb2.ListDagRunsRequest(dag_id="etl"))),
        ("/api/v1/dags/etl/dagRuns/manual__1", runs.GetDagRun(
            dag_run_service_pb2.GetDagRunRequest(dag_id="etl", run_id="manual__1"))),
        (base, tis.ListTaskInstances(task_instance_service_pb2.ListTaskInstancesRequest(
            dag_id="etl", run_id="manual__1"))),
        (base + "/load?map_index=-1", tis.GetTaskInstance(
            task_instance_service_pb2.GetTaskInstanceRequest(key=ti_key("load")))),
    ]
    for path, call in pairs:
        response = await gateway.http.get(path, headers=AUTH)
        assert response.status_code == 200, (path, response.text)
        assert response.json() == as_json(await call), path
    body = (await gateway.http.get("/api/v1/dags/etl", headers=AUTH)).json()
    assert body["dag"]["tasks"][1]["upstream_task_ids"] == ["extract"]


async def test_trigger_over_rest_forwards_conf_and_run_id(gateway: Gateway) -> None:
    """POST dagRuns turns the JSON body into TriggerDagRunRequest; the path names the DAG."""
    response = await gateway.http.post(
        "/api/v1/dags/etl/dagRuns", headers=AUTH,
        json={"conf": {"n": 3, "tags": ["a"]}, "run_id": "mine",
              "logical_date": "2024-01-01T00:00:00Z"})
    assert response.status_code == 200, response.text
    assert response.json()["dag_run"]["run_id"] == "mine"
    sent = gateway.scheduler.triggered[-1]
    assert sent.dag_id == "etl" and json_format.MessageToDict(sent.conf) == {
        "n": 3, "tags": ["a"]}
    assert sent.logical_date.seconds == 1704067200


def _concrete(path: str) -> str:
    for name in ("dag_id", "run_id", "task_id", "try_number"):
        path = path.replace("{" + name + "}", "1" if name == "try_number" else "x")
    return "/api/v1" + path


async def test_every_rest_route_needs_the_token(gateway: Gateway) -> None:
    """Each /api/v1 route answers 401 with the error model without or with a wrong token;
    health and the OpenAPI document need none."""
    for op in OPERATIONS:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = await gateway.http.request(op.method, _concrete(op.path),
                                                  headers=headers)
            assert response.status_code == 401, (op.operation_id, response.text)
            assert response.json()["error"]["reason"] == "BAD_TOKEN"
    assert (await gateway.http.get("/api/v1/health")).json() == {"status": "ok"}
    openapi = (await gateway.http.get("/api/v1/openapi.json")).json()
    assert openapi["openapi"].startswith("3.")
    assert {"/api/v1" + op.path for op in OPERATIONS} <= set(openapi["paths"])
    assert "DagRun" in openapi["components"]["schemas"]


async def test_every_public_grpc_method_needs_the_token(gateway: Gateway) -> None:
    """Walking the service descriptors, every public method is UNAUTHENTICATED without a token."""
    modules = (dag_service_pb2, dag_run_service_pb2, task_instance_service_pb2,
               xcom_service_pb2, variable_service_pb2, connection_service_pb2,
               backfill_service_pb2)
    async with grpc.aio.insecure_channel(gateway.grpc_address) as anonymous:
        methods = [m for module in modules for service in module.DESCRIPTOR.services_by_name
                   .values() for m in service.methods]
        assert len(methods) == 36
        for method in methods:
            path = f"/{method.containing_service.full_name}/{method.name}"
            request_cls = GetMessageClass(method.input_type)
            kind = anonymous.unary_stream if method.server_streaming else anonymous.unary_unary
            call = kind(path, request_serializer=request_cls.SerializeToString,
                        response_deserializer=lambda raw: raw)
            with pytest.raises(grpc.aio.AioRpcError) as info:
                result = call(request_cls())
                if method.server_streaming:
                    async for _ in result:
                        pass
                else:
                    await result
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED, path


async def test_not_found_from_the_scheduler_maps_to_404_and_grpc_not_found(
    gateway: Gateway,
) -> None:
    """A NOT_FOUND FlowError of the scheduler keeps its reason over gRPC and becomes 404."""
    response = await gateway.http.get("/api/v1/dags/nope", headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {"error": {"reason": "DAG_NOT_FOUND",
                                         "message": "DAG 'nope' not found.", "details": {}}}
    dags = dag_service_pb2_grpc.DagServiceStub(gateway.channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await dags.GetDag(dag_service_pb2.GetDagRequest(dag_id="nope"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_from_rpc(info.value).reason == "DAG_NOT_FOUND"


async def test_bad_requests_are_400_with_a_clear_message(gateway: Gateway) -> None:
    """Malformed JSON, unknown or ill-typed query parameters and a missing dag_id are 400s."""
    bad_json = await gateway.http.post("/api/v1/dags/etl/dagRuns", headers=AUTH,
                                       content=b"{not json")
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["reason"] == "MALFORMED_JSON"
    unknown = await gateway.http.get("/api/v1/dags?colour=red", headers=AUTH)
    assert unknown.status_code == 400 and "colour" in unknown.json()["error"]["message"]
    ill_typed = await gateway.http.get("/api/v1/dags?page_size=many", headers=AUTH)
    assert ill_typed.status_code == 400
    bad_bool = await gateway.http.get("/api/v1/dags?include_inactive=maybe", headers=AUTH)
    assert bad_bool.status_code == 400
    bad_conf = await gateway.http.post("/api/v1/dags/etl/dagRuns", headers=AUTH,
                                       json={"conf": 5})
    assert bad_conf.status_code == 400
    dags = dag_service_pb2_grpc.DagServiceStub(gateway.channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await dags.GetDag(dag_service_pb2.GetDagRequest())
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_from_rpc(info.value).metadata == {"field": "dag_id"}
    missing = await gateway.http.get("/api/v1/nothing", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"]["reason"] == "NOT_FOUND"


async def _write_log(gateway: Gateway, key: Any, content: bytes) -> None:
    async def requests() -> AsyncIterator[Any]:
        yield log_service_pb2.WriteLogRequest(key=key, content=content)
        yield log_service_pb2.WriteLogRequest(final=True)

    await gateway.logs.WriteLog(requests())


async def test_logs_resolve_the_latest_try_over_rest_and_grpc(gateway: Gateway) -> None:
    """try_number 0 reads the TI's latest try (load is on try 2) through the real logserver."""
    await _write_log(gateway, ti_key("load", 2), "café\nline 2\n".encode())
    rest = await gateway.http.get(
        "/api/v1/dags/etl/dagRuns/manual__1/taskInstances/load/logs/0?offset=0", headers=AUTH)
    assert rest.status_code == 200, rest.text
    assert rest.json() == {"content": "café\nline 2\n", "next_offset": 13, "complete": True,
                           "try_number": 2}
    tis = task_instance_service_pb2_grpc.TaskInstanceServiceStub(gateway.channel)
    read = await tis.ReadTaskLog(task_instance_service_pb2.ReadTaskLogRequest(
        key=ti_key("load"), offset=6, limit=4))
    assert (read.content, read.next_offset, read.complete, read.try_number) == (
        b"line", 10, False, 2)
    followed = [m.content async for m in tis.FollowTaskLog(
        task_instance_service_pb2.FollowTaskLogRequest(key=ti_key("load", 2)))]
    assert b"".join(followed) == "café\nline 2\n".encode()
    sse = await gateway.http.get(
        "/api/v1/dags/etl/dagRuns/manual__1/taskInstances/load/logs/2/follow", headers=AUTH)
    assert "event: log" in sse.text and sse.text.rstrip().endswith("data: {}")


async def test_events_stream_state_changes_as_sse(gateway: Gateway) -> None:
    """GET /api/v1/events relays WatchStateChanges as `state_change` events, then `end`."""
    async with gateway.http.stream("GET", "/api/v1/events?dag_id=etl&run_id=manual__1",
                                   headers=AUTH) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line async for line in response.aiter_lines()]
    events = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    assert events == ["state_change", "state_change", "end"]
    first = json.loads(next(line for line in lines if line.startswith("data: "))[6:])
    assert first["change"]["task_instance_state"] == "TASK_INSTANCE_STATE_RUNNING"
    bad = await gateway.http.get("/api/v1/events?run_id=r", headers=AUTH)
    assert bad.status_code == 400
    async with gateway.http.stream("GET", "/api/v1/events?dag_id=etl&runs_only=true",
                                   headers=AUTH) as response:
        lines = [line async for line in response.aiter_lines()]
    changes = [json.loads(line[6:])["change"] for line in lines
               if line.startswith("data: ") and "change" in line]
    assert [(c["run_id"], c["dag_run_state"], c.get("task_instance_key")) for c in changes] \
        == [("manual__1", "DAG_RUN_STATE_SUCCESS", None)]


async def test_ui_shell_needs_auth_and_carries_no_data(gateway: Gateway) -> None:
    """The UI redirects to /login without credentials (a token in a cookie is no session);
    its shell holds no data (the app reads it from the API and renders it as text) and only
    this origin's scripts may run on it (Content-Security-Policy)."""
    anonymous = await gateway.http.get("/")
    assert anonymous.status_code == 303 and "manual__1" not in anonymous.text
    assert anonymous.headers["location"] == "/login"
    as_cookie = await gateway.http.get("/", headers={"Cookie": f"flow_session={TOKEN}"})
    assert as_cookie.status_code == 303
    form = await gateway.http.get("/login")
    assert form.status_code == 200 and "password" in form.text
    page = await gateway.http.get("/", headers=AUTH)
    assert page.status_code == 200 and "/static/js/app.js" in page.text
    assert "manual__1" not in page.text and EVIL not in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "script-src 'self'" in form.headers["content-security-policy"]
    script = await gateway.http.get("/static/js/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
