"""TaskFlow and the operators through the real services: XComs between decorated tasks and
classic operators, HTTP against a real local server, email against a real local SMTP server,
and TriggerDagRunOperator through the scheduler."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from flow.platform import Platform
from flow.v1 import common_pb2
from tests.e2e.api import Api
from tests.fixtures.platform import PlatformFactory

pytestmark = pytest.mark.e2e
SUCCESS = common_pb2.DAG_RUN_STATE_SUCCESS
FAILED = common_pb2.DAG_RUN_STATE_FAILED


class _Handler(BaseHTTPRequestHandler):
    """GET /greeting?name=x -> {"greeting": "hello x"}; POST /echo -> the body back."""

    requests: list[tuple[str, str, bytes]] = []

    def do_GET(self) -> None:
        self.requests.append(("GET", self.path, b""))
        name = self.path.partition("name=")[2] or "nobody"
        self._answer(200, json.dumps({"greeting": f"hello {name}"}).encode())

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.requests.append(("POST", self.path, body))
        self._answer(200, body)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


class _Mailbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content,
                                                       policy=email.policy.default)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[_Mailbox, int]]:
    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def api(module_platform_factory: PlatformFactory, mailbox: tuple[_Mailbox, int],
        ) -> Iterator[Api]:
    platform: Platform = module_platform_factory(extra_env={
        "FLOW_SMTP__HOST": "127.0.0.1", "FLOW_SMTP__PORT": str(mailbox[1]),
        "FLOW_SMTP__STARTTLS": "false", "FLOW_SMTP__MAIL_FROM": "flow@test.local"})
    client = Api(platform)
    yield client
    client.close()


def test_multiple_outputs_and_xcom_args_reach_classic_operators(api: Api) -> None:
    """A dict returned with multiple_outputs is one XCom per key plus return_value; XComArgs
    feed decorated tasks, a PythonOperator's op_args and a BashOperator's command, and a
    classic operator's `.output` feeds a decorated task."""
    run_id, states = api.run_to_end("example_taskflow_outputs")
    assert set(states.values()) == {"success"}, states
    log = lambda task_id: api.read_log("example_taskflow_outputs", run_id, task_id)  # noqa: E731
    assert "Done. Returned value was: {'low': 3, 'high': 7}" in log("split")
    assert "Returned value was: 10" in log("add")
    assert f"total is 10, run {run_id}" in log("shout")
    assert "sum: 10" in log("describe")
    assert "high is 7" in log("echo_high")
    assert "command built from 10" in log("echo_total")
    assert "the bash task said: command built from 10" in log("show")


def test_http_operator_calls_a_real_server(api: Api, http_server: str) -> None:
    """GET with query data and a response filter, POST with a body; the filter's value is
    the XCom the next task renders."""
    _Handler.requests.clear()
    run_id, states = api.run_to_end("example_http_email", conf={"base_url": http_server})
    assert states["get_greeting"] == states["post_data"] == "success"
    assert ("GET", "/greeting?name=flow", b"") in _Handler.requests
    assert ("POST", "/echo", b'{"n": 42}') in _Handler.requests
    log = api.read_log("example_http_email", run_id, "get_greeting")
    assert f"Calling HTTP method GET {http_server}/greeting" in log
    assert '{"greeting": "hello flow"}' in log  # log_response


def test_email_operator_sends_through_smtp(api: Api, http_server: str,
                                           mailbox: tuple[_Mailbox, int]) -> None:
    """EmailOperator sends a templated HTML mail to every recipient via the configured SMTP
    server."""
    box, _ = mailbox
    box.messages.clear()
    run_id, states = api.run_to_end("example_http_email", conf={"base_url": http_server})
    assert states["send_report"] == "success"
    [(recipients, message)] = box.messages
    assert recipients == ["ops@example.com", "lead@example.com"]
    assert message["From"] == "flow@test.local"
    assert message["Subject"].startswith("Report for 20")
    body = message.get_payload(decode=True)
    assert b"The greeting was hello flow" in body
    assert "Sent an email to ['ops@example.com', 'lead@example.com']" in api.read_log(
        "example_http_email", run_id, "send_report")


def test_trigger_dag_run_waits_for_the_triggered_run(api: Api) -> None:
    """TriggerDagRunOperator creates the target's run through the scheduler with a rendered
    run_id and conf, waits for it, and fails when the triggered run fails."""
    api.wait_for_dag("example_trigger_target")
    run_id, states = api.run_to_end("example_trigger", expect=FAILED)
    assert states["trigger_and_wait"] == "success"
    assert states["trigger_failing"] == "failed"
    target = api.get_run("example_trigger_target", f"from_{run_id}")
    assert target.state == SUCCESS
    assert target.conf["message"] == "hello from example_trigger"
    assert "triggered with message hello from example_trigger" in api.read_log(
        "example_trigger_target", f"from_{run_id}", "report")
    log = api.read_log("example_trigger", run_id, "trigger_and_wait")
    assert f"Triggered DAG example_trigger_target with run_id from_{run_id}" in log
    assert "example_trigger_target finished with allowed state success" in log
    assert "example_trigger_target failed with failed states failed" in api.read_log(
        "example_trigger", run_id, "trigger_failing")


def test_bash_env_append_env_and_cwd(api: Api) -> None:
    """`env` replaces the task's environment, `append_env=True` adds to it, `cwd` sets the
    working directory."""
    run_id, states = api.run_to_end("example_bash")
    assert states["env_only"] == states["env_appended"] == "success"
    assert "greeting=hi home=unset" in api.read_log("example_bash", run_id, "env_only")
    assert "greeting=hello in / home=set" in api.read_log("example_bash", run_id,
                                                          "env_appended")


def test_email_on_failure_alerts_once_and_not_on_retry(api: Api,
                                                       mailbox: tuple[_Mailbox, int]) -> None:
    """With `email` in default_args, a task that fails its last try sends one alert (not on
    the retry, as email_on_retry=False), with the try and the exception."""
    box, _ = mailbox
    box.messages.clear()
    run_id, states = api.run_to_end("example_failure_email", expect=FAILED)
    assert states == {"broken": "failed"}
    [(recipients, message)] = box.messages
    assert recipients == ["oncall@example.com"]
    assert message["Subject"] == (
        f"Flow alert: <TaskInstance: example_failure_email.broken {run_id} [failed]>")
    body = message.get_payload(decode=True)
    assert b"Try 2 out of 2" in body
    assert b"the report could not be built" in body
