"""Helpers for the runtime e2e tests: a platform over chosen DAG files, flowcli in-process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import grpc
import pytest

from flow.cli.main import main as flowcli_main
from flow.platform import Platform
from flow.v1 import (
    common_pb2,
    connection_service_pb2_grpc,
    task_execution_service_pb2,
    task_execution_service_pb2_grpc,
    variable_service_pb2_grpc,
    xcom_service_pb2_grpc,
)
from tests.e2e.api import Api
from tests.fixtures.platform import EXAMPLE_DAGS, _Platforms


class RuntimeApi(Api):
    """The e2e Api plus the variable, connection and XCom services."""

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.platform = platform
        self.variables = variable_service_pb2_grpc.VariableServiceStub(self.channel)
        self.connections = connection_service_pb2_grpc.ConnectionServiceStub(self.channel)
        self.xcom = xcom_service_pb2_grpc.XComServiceStub(self.channel)

    def call(self, method: Any, request: Any) -> Any:
        return method(request, metadata=self.metadata, timeout=30)

    def runtime_connection(self, conn_id: str) -> dict[str, Any]:
        """The connection as a running task gets it from the scheduler (password in clear)."""
        scheduler = grpc.insecure_channel(
            f"127.0.0.1:{self.platform.services['scheduler'].info['grpc_port']}")
        try:
            stub = task_execution_service_pb2_grpc.TaskExecutionServiceStub(scheduler)
            reply = stub.GetTaskConnection(
                task_execution_service_pb2.GetTaskConnectionRequest(
                    key=common_pb2.TaskInstanceKey(dag_id="test", run_id="test", task_id="t"),
                    conn_id=conn_id),
                metadata=(("authorization", f"Bearer {self.platform.internal_token}"),),
                timeout=10)
        finally:
            scheduler.close()
        return {"host": reply.connection.host, "password": reply.connection.password}

    def cli(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        """Run flowcli in this process against the platform: (exit code, stdout, stderr).
        Questions read `stdin` (by default nothing: the answer is no)."""
        out, err = io.StringIO(), io.StringIO()
        addresses = self.platform.addresses
        argv = [*args[:2], "--server", addresses.grpc, f"--token={addresses.token}", *args[2:]]
        saved, sys.stdin = sys.stdin, io.StringIO(stdin)
        tls = {"FLOW_TLS__CA_FILE": addresses.ca_file} if addresses.ca_file else {}
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                    _environ(tls):
                code = flowcli_main(argv)
        finally:
            sys.stdin = saved
        return code, out.getvalue(), err.getvalue()

    def cli_json(self, *args: str) -> Any:
        code, out, err = self.cli(*args)
        assert code == 0, err
        return json.loads(out)


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def rpc_error(call: Any) -> grpc.RpcError:
    """The RpcError `call()` raises (fails the test when it succeeds)."""
    try:
        call()
    except grpc.RpcError as exc:
        return exc
    raise AssertionError("the call succeeded")


def module_platform(dag_names: Sequence[str], extra_files: dict[str, str] | None = None,
                    extra_env: dict[str, str] | None = None) -> Any:
    """A module-scoped `platform` fixture over these example DAGs and test DAG files:
    `platform = module_platform([...], {...})` at the top of a test module."""

    @pytest.fixture(scope="module")
    def platform(tmp_path_factory: pytest.TempPathFactory,
                 request: pytest.FixtureRequest) -> Iterator[Platform]:
        with started_platform(tmp_path_factory, request, dag_names, extra_files,
                              extra_env) as started:
            yield started

    return platform


@contextlib.contextmanager
def started_platform(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
                     dag_names: Sequence[str], extra_files: dict[str, str] | None = None,
                     extra_env: dict[str, str] | None = None) -> Iterator[Platform]:
    """A platform over some example DAGs plus test-only DAG files written from text."""
    folder = tmp_path_factory.mktemp("runtime-dags")
    for name in dag_names:
        shutil.copy(EXAMPLE_DAGS / name, folder / name)
    shutil.copytree(EXAMPLE_DAGS / "templates", folder / "templates")
    for name, text in (extra_files or {}).items():  # a name may hold a subfolder
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    platforms = _Platforms(tmp_path_factory)
    try:
        yield platforms.start(folder, extra_env=extra_env)
    finally:
        platforms.close(getattr(request.node, "flow_failed", False))
