"""A small synchronous client of the public gRPC API, for end-to-end tests."""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any

import grpc
from google.protobuf import struct_pb2

from flow.platform import Platform
from flow.v1 import (
    common_pb2,
    dag_run_service_pb2,
    dag_run_service_pb2_grpc,
    dag_service_pb2,
    dag_service_pb2_grpc,
    task_instance_service_pb2,
    task_instance_service_pb2_grpc,
    worker_service_pb2_grpc,
)

FINISHED_RUN = {common_pb2.DAG_RUN_STATE_SUCCESS, common_pb2.DAG_RUN_STATE_FAILED}


class Api:
    """Public gRPC stubs bound to one platform, sending its token."""

    def __init__(self, platform: Platform) -> None:
        addresses = platform.addresses
        self.channel = grpc.secure_channel(addresses.grpc, grpc.ssl_channel_credentials(
            pathlib.Path(addresses.ca_file).read_bytes())) if addresses.ca_file else \
            grpc.insecure_channel(addresses.grpc)
        self.metadata = (("authorization", f"Bearer {addresses.token}"),)
        self.dags = dag_service_pb2_grpc.DagServiceStub(self.channel)
        self.runs = dag_run_service_pb2_grpc.DagRunServiceStub(self.channel)
        self.tis = task_instance_service_pb2_grpc.TaskInstanceServiceStub(self.channel)
        self.workers = worker_service_pb2_grpc.WorkerServiceStub(self.channel)
        self.call_options: dict[str, Any] = {"metadata": self.metadata, "timeout": 10}

    def close(self) -> None:
        self.channel.close()

    def wait_for_dag(self, dag_id: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.dags.GetDag(dag_service_pb2.GetDagRequest(dag_id=dag_id),
                                 metadata=self.metadata, timeout=10)
                return
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.NOT_FOUND or time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def import_errors(self) -> list[Any]:
        response = self.dags.ListImportErrors(dag_service_pb2.ListImportErrorsRequest(),
                                              metadata=self.metadata, timeout=10)
        return list(response.import_errors)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None,
                run_id: str = "") -> Any:
        struct = struct_pb2.Struct()
        struct.update(conf or {})
        response = self.runs.TriggerDagRun(
            dag_run_service_pb2.TriggerDagRunRequest(dag_id=dag_id, conf=struct, run_id=run_id),
            metadata=self.metadata, timeout=10)
        return response.dag_run

    def run_to_end(self, dag_id: str, conf: dict[str, Any] | None = None, *,
                   expect: int = common_pb2.DAG_RUN_STATE_SUCCESS) -> tuple[str, dict[str, str]]:
        """Trigger `dag_id` once it is loaded and wait for the run to end in `expect`; its
        run_id and task states."""
        self.wait_for_dag(dag_id)
        run = self.trigger(dag_id, conf=conf)
        finished = self.wait_for_run(dag_id, run.run_id)
        states = self.states(dag_id, run.run_id)
        assert finished.state == expect, states
        return str(run.run_id), states

    def get_run(self, dag_id: str, run_id: str) -> Any:
        return self.runs.GetDagRun(
            dag_run_service_pb2.GetDagRunRequest(dag_id=dag_id, run_id=run_id),
            metadata=self.metadata, timeout=10).dag_run

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 90.0) -> Any:
        """Follow WatchStateChanges until the run finishes (then read it once more). The
        stream's first message is the run's current state, so nothing is missed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stream = self.runs.WatchStateChanges(
                dag_run_service_pb2.WatchStateChangesRequest(dag_id=dag_id, run_id=run_id,
                                                             runs_only=True),
                metadata=self.metadata, timeout=max(0.1, deadline - time.monotonic()))
            try:
                for event in stream:
                    if event.change.dag_run_state in FINISHED_RUN and \
                            not event.change.task_instance_key.task_id:
                        return self.get_run(dag_id, run_id)
            except grpc.RpcError as exc:
                if exc.code() not in (grpc.StatusCode.DEADLINE_EXCEEDED,
                                      grpc.StatusCode.UNAVAILABLE):
                    raise
                time.sleep(0.2)  # the gateway or scheduler restarts: watch again
            finally:
                stream.cancel()
        raise TimeoutError(f"run {dag_id}/{run_id} did not finish in {timeout} s")

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """The run's task instances by task id; a mapped task's as "task_id[map_index]"."""
        response = self.tis.ListTaskInstances(
            task_instance_service_pb2.ListTaskInstancesRequest(dag_id=dag_id, run_id=run_id),
            metadata=self.metadata, timeout=10)
        return {ti.key.task_id if ti.key.map_index < 0 else
                f"{ti.key.task_id}[{ti.key.map_index}]": ti for ti in response.task_instances}

    def states(self, dag_id: str, run_id: str) -> dict[str, str]:
        return {tid: common_pb2.TaskInstanceState.Name(ti.state).removeprefix(
            "TASK_INSTANCE_STATE_").lower()
            for tid, ti in self.task_instances(dag_id, run_id).items()}

    def read_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 0,
                 map_index: int = -1) -> str:
        chunks: list[bytes] = []
        offset = 0
        while True:
            response = self.tis.ReadTaskLog(task_instance_service_pb2.ReadTaskLogRequest(
                key=common_pb2.TaskInstanceKey(dag_id=dag_id, run_id=run_id, task_id=task_id,
                                               map_index=map_index, try_number=try_number),
                offset=offset), metadata=self.metadata, timeout=30)
            chunks.append(response.content)
            if not response.content or response.next_offset == offset:
                break
            offset = response.next_offset
        return b"".join(chunks).decode(errors="replace")


def run_json(output: str) -> Any:
    return json.loads(output)


def eventually(check: Any, timeout: float = 60.0, interval: float = 0.05) -> Any:
    """Call `check()` until it returns a truthy value (returned), or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {timeout} s (last value {value!r})")
        time.sleep(interval)
