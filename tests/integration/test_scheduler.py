"""The scheduler in-process against a real nats-server and a real DB, with the test acting as
a worker: pull dispatches, claim over gRPC, publish task events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import re
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from nats.js import JetStreamContext

from flow.bus import jetstream, subjects
from flow.config import (
    AuthConfig,
    CoreConfig,
    DatabaseConfig,
    FlowConfig,
    NatsConfig,
    SchedulerConfig,
)
from flow.grpcutil import open_channel
from flow.sdk.loader import list_dag_files
from flow.v1 import (
    common_pb2,
    dag_run_service_pb2,
    dag_service_pb2,
    dispatch_pb2,
    scheduler_service_pb2_grpc,
    task_execution_service_pb2,
    task_execution_service_pb2_grpc,
    task_instance_service_pb2,
)
from services.scheduler.app import run

TOKEN = "internal-test-token"
S = common_pb2
REPO = pathlib.Path(__file__).resolve().parents[2]

CHAIN_DAG = """
from flow.sdk import DAG
from flow.operators.bash import BashOperator

with DAG("chain3", schedule=None, tags=["t"]) as dag:
    a = BashOperator(task_id="a", bash_command="true")
    b = BashOperator(task_id="b", bash_command="true", retries={retries}, retry_delay=0)
    c = BashOperator(task_id="c", bash_command="true")
    a >> b >> c
"""


@dataclass
class Harness:
    info: dict[str, Any]
    control: scheduler_service_pb2_grpc.SchedulerServiceStub
    execution: task_execution_service_pb2_grpc.TaskExecutionServiceStub


def make_config(tmp_path: pathlib.Path, db_url: str, nats_config: NatsConfig,
                **scheduler: Any) -> FlowConfig:
    dags = tmp_path / "dags"
    dags.mkdir(exist_ok=True)
    settings: dict[str, Any] = {"grpc_bind": "127.0.0.1:0", "parse_timeout_seconds": 10.0,
                                "parse_interval_seconds": 0.5}
    settings.update(scheduler)
    return FlowConfig(home=tmp_path, core=CoreConfig(dags_folder=str(dags), max_xcom_size=1000),
                      database=DatabaseConfig(url=db_url), nats=nats_config,
                      scheduler=SchedulerConfig(**settings), auth=AuthConfig(internal_token=TOKEN))


def write_dag(config: FlowConfig, name: str, text: str) -> pathlib.Path:
    path = config.dags_folder / name
    path.write_text(textwrap.dedent(text))
    return path


@contextlib.asynccontextmanager
async def scheduler(config: FlowConfig) -> AsyncIterator[Harness]:
    """Run the scheduler in this process until the block ends."""
    stop = asyncio.Event()
    ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run(config, stop=stop, on_ready=ready.set_result))
    done, _ = await asyncio.wait({ready, task}, timeout=60,
                                 return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    assert ready in done, "scheduler did not become ready"
    info = ready.result()
    channel = open_channel(f"127.0.0.1:{info['grpc_port']}", TOKEN)
    try:
        harness = Harness(info, scheduler_service_pb2_grpc.SchedulerServiceStub(channel),
                          task_execution_service_pb2_grpc.TaskExecutionServiceStub(channel))
        await parsed(harness, config)
        yield harness
    finally:
        await channel.close()
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def parsed(h: Harness, config: FlowConfig) -> None:
    """Wait until every DAG file of the folder is known, as a DAG or an import error (the
    scheduler parses in the background after it is ready)."""
    files = {str(p.resolve()) for p in list_dag_files(config.dags_folder)}

    async def known() -> bool:
        dags = await h.control.ListDags(dag_service_pb2.ListDagsRequest(), timeout=5)
        errors = await h.control.ListImportErrors(dag_service_pb2.ListImportErrorsRequest(),
                                                  timeout=5)
        seen = {d.fileloc for d in dags.dags} | {e.filename for e in errors.import_errors}
        return files <= seen

    await eventually(known)


class FakeWorker:
    """Pulls dispatches from one queue, claims them and reports results, as a worker does."""

    def __init__(self, js: JetStreamContext, nats_config: NatsConfig, harness: Harness) -> None:
        self.js, self.config, self.harness = js, nats_config, harness
        self.sub: Any = None

    async def next_dispatch(self, wait: float = 15) -> tuple[dispatch_pb2.TaskDispatch, Any]:
        if self.sub is None:
            self.sub = await jetstream.queue_subscription(self.js, "default", self.config)
        msgs = await self.sub.fetch(1, timeout=wait)
        return dispatch_pb2.TaskDispatch.FromString(msgs[0].data), msgs[0]

    async def claim(self, dispatch: dispatch_pb2.TaskDispatch) -> Any:
        return await self.harness.execution.ClaimAttempt(
            task_execution_service_pb2.ClaimAttemptRequest(
                key=dispatch.key, worker_id="w1", hostname="host1"), timeout=10)

    async def report(self, dispatch: dispatch_pb2.TaskDispatch, state: int,
                     error: str = "") -> None:
        event = dispatch_pb2.TaskEvent(key=dispatch.key, state=state, worker_id="w1")
        if error:
            event.error.CopyFrom(dispatch_pb2.TaskError(type="RuntimeError", message=error))
        await jetstream.publish_event(self.js, dispatch.queue, event)

    async def run_one(self, state: int = S.TASK_INSTANCE_STATE_SUCCESS
                      ) -> dispatch_pb2.TaskDispatch:
        dispatch, msg = await self.next_dispatch()
        await self.claim(dispatch)
        await self.report(dispatch, state, "boom" if state == S.TASK_INSTANCE_STATE_FAILED else "")
        await msg.ack()
        return dispatch


async def eventually(check: Any, within: float = 15.0) -> Any:
    """Await `check()` until it returns a truthy value (polling the API, never sleep-assert)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met in {within} s; last value {value!r}")
        await asyncio.sleep(0.05)


async def run_state(h: Harness, dag_id: str, run_id: str) -> int:
    response = await h.control.GetDagRun(
        dag_run_service_pb2.GetDagRunRequest(dag_id=dag_id, run_id=run_id), timeout=5)
    return int(response.dag_run.state)


async def ti_states(h: Harness, dag_id: str, run_id: str) -> dict[str, int]:
    response = await h.control.ListTaskInstances(
        task_instance_service_pb2.ListTaskInstancesRequest(dag_id=dag_id, run_id=run_id),
        timeout=5)
    return {ti.key.task_id: ti.state for ti in response.task_instances}


async def trigger(h: Harness, dag_id: str, run_id: str = "", **kwargs: Any) -> Any:
    response = await h.control.TriggerDagRun(
        dag_run_service_pb2.TriggerDagRunRequest(dag_id=dag_id, run_id=run_id, **kwargs),
        timeout=10)
    return response.dag_run


# --- runs ----------------------------------------------------------------------------------


async def test_chain_of_three_runs_to_success(
        tmp_path: pathlib.Path, db_url: str, nats_config: NatsConfig,
        js: JetStreamContext) -> None:
    """A 3-task chain is dispatched task by task and the run ends in success."""
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "chain.py", CHAIN_DAG.format(retries=0))
    async with scheduler(config) as h:
        dags = await h.control.ListDags(dag_service_pb2.ListDagsRequest(), timeout=5)
        assert [d.dag_id for d in dags.dags] == ["chain3"]
        dag_run = await trigger(h, "chain3", conf=None)
        assert dag_run.run_id.startswith("manual__")
        assert dag_run.state == S.DAG_RUN_STATE_RUNNING
        worker = FakeWorker(js, nats_config, h)
        order = []
        for _ in range(3):
            dispatch = await worker.run_one()
            assert dispatch.key.try_number == 1 and dispatch.max_tries == 1
            assert dispatch.fileloc.endswith("chain.py")
            order.append(dispatch.key.task_id)
        assert order == ["a", "b", "c"]
        await eventually(lambda: _is(run_state(h, "chain3", dag_run.run_id),
                                     S.DAG_RUN_STATE_SUCCESS))
        states = await ti_states(h, "chain3", dag_run.run_id)
        assert set(states.values()) == {S.TASK_INSTANCE_STATE_SUCCESS}
        # A watch of a finished run starts with its current state.
        watch = h.control.WatchStateChanges(dag_run_service_pb2.WatchStateChangesRequest(
            dag_id="chain3", run_id=dag_run.run_id), timeout=5)
        first = await watch.read()
        watch.cancel()
        assert first.change.dag_run_state == S.DAG_RUN_STATE_SUCCESS
        assert not first.change.task_instance_key.task_id
        missing = h.control.WatchStateChanges(dag_run_service_pb2.WatchStateChangesRequest(
            dag_id="chain3", run_id="nope"), timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await missing.read()
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_watch_of_runs_only_sees_no_task_instance_changes(
        tmp_path: pathlib.Path, db_url: str, nats_config: NatsConfig,
        js: JetStreamContext) -> None:
    """runs_only: a watcher that waits for runs to end gets their state changes and none of
    their task instances' (which a full watch of the same run does get)."""
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "chain.py", CHAIN_DAG.format(retries=0))
    async with scheduler(config) as h:
        runs_only = h.control.WatchStateChanges(dag_run_service_pb2.WatchStateChangesRequest(
            dag_id="chain3", runs_only=True), timeout=30)
        everything = h.control.WatchStateChanges(dag_run_service_pb2.WatchStateChangesRequest(
            dag_id="chain3"), timeout=30)
        await asyncio.sleep(0.5)  # both subscriptions registered before the run starts
        dag_run = await trigger(h, "chain3", run_id="r1")
        worker = FakeWorker(js, nats_config, h)
        for _ in range(3):
            await worker.run_one()

        async def until_finished(stream: Any) -> list[Any]:
            seen = []
            async for response in stream:
                seen.append(response.change)
                if not response.change.task_instance_key.task_id and \
                        response.change.dag_run_state == S.DAG_RUN_STATE_SUCCESS:
                    return seen
            return seen

        run_changes = await until_finished(runs_only)
        all_changes = await until_finished(everything)
        runs_only.cancel()
        everything.cancel()
        assert run_changes and all(not c.task_instance_key.task_id for c in run_changes)
        assert {c.run_id for c in run_changes} == {dag_run.run_id}
        assert run_changes[-1].dag_run_state == S.DAG_RUN_STATE_SUCCESS
        assert {c.task_instance_key.task_id for c in all_changes} >= {"a", "b", "c"}


FANOUT_DAG = """
from flow.sdk import DAG
from flow.operators.bash import BashOperator
from flow.operators.empty import EmptyOperator

with DAG("wide", schedule=None, max_active_tasks=30) as dag:  # Airflow default: 16
    join = EmptyOperator(task_id="join", trigger_rule="all_done")
    for i in range(30):
        BashOperator(task_id=f"t{i:02d}", bash_command="true", retries=1,
                     retry_delay=3600) >> join
"""


async def test_many_results_in_one_batch_are_applied_together(
        tmp_path: pathlib.Path, db_url: str, nats_config: NatsConfig,
        js: JetStreamContext) -> None:
    """30 results published at once (some failed, so two target states) are written in one
    batch; each task ends in the right state and the join runs once after all of them."""
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "wide.py", FANOUT_DAG)
    async with scheduler(config) as h:
        await trigger(h, "wide", run_id="r1")
        worker = FakeWorker(js, nats_config, h)
        dispatches = [await worker.next_dispatch() for _ in range(30)]
        await asyncio.gather(*(worker.claim(d) for d, _ in dispatches))
        failed = {f"t{i:02d}" for i in range(0, 30, 7)}
        await asyncio.gather(*(worker.report(d, S.TASK_INSTANCE_STATE_FAILED
                                             if d.key.task_id in failed
                                             else S.TASK_INSTANCE_STATE_SUCCESS)
                               for d, _ in dispatches))
        for _, msg in dispatches:
            await msg.ack()

        async def settled() -> dict[str, int] | None:
            states = await ti_states(h, "wide", "r1")
            running = S.TASK_INSTANCE_STATE_RUNNING
            return None if running in states.values() else states

        states = await eventually(settled)
        assert {t for t, st in states.items() if st == S.TASK_INSTANCE_STATE_UP_FOR_RETRY} == failed
        assert {t for t, st in states.items() if st == S.TASK_INSTANCE_STATE_SUCCESS} == {
            f"t{i:02d}" for i in range(30)} - failed
        assert states["join"] == S.TASK_INSTANCE_STATE_NONE  # waits for the retries


async def test_concurrent_claims_of_one_attempt_grant_exactly_one(
        tmp_path: pathlib.Path, db_url: str, nats_config: NatsConfig,
        js: JetStreamContext) -> None:
    """Claims that arrive together (one batch) from two workers: each attempt goes to
    exactly one claimant; the other gets ABORTED; the winners' rows name their worker."""
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "wide.py", FANOUT_DAG)
    async with scheduler(config) as h:
        await trigger(h, "wide", run_id="r1")
        worker = FakeWorker(js, nats_config, h)
        dispatches = [(await worker.next_dispatch())[0] for _ in range(10)]

        async def claim(dispatch: Any, worker_id: str) -> Any:
            try:
                return await h.execution.ClaimAttempt(
                    task_execution_service_pb2.ClaimAttemptRequest(
                        key=dispatch.key, worker_id=worker_id, hostname=worker_id), timeout=10)
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.ABORTED
                return None

        answers = await asyncio.gather(*(claim(d, w) for d in dispatches for w in ("w1", "w2")))
        granted = [a for a in answers if a is not None]
        assert sorted(a.task_instance.key.task_id for a in granted) == sorted(
            d.key.task_id for d in dispatches)
        assert all(a.task_instance.hostname in ("w1", "w2") for a in granted)
        states = await ti_states(h, "wide", "r1")
        assert sum(st == S.TASK_INSTANCE_STATE_RUNNING for st in states.values()) == 10


async def test_claim_attempts_answers_each_claim_in_order(
        tmp_path: pathlib.Path, db_url: str, nats_config: NatsConfig,
        js: JetStreamContext) -> None:
    """One ClaimAttempts call (a worker's fetch): every claim is granted or refused on its
    own, in request order: granted, the same attempt again (ABORTED), a bad try number
    (INVALID_ARGUMENT), an unknown task (NOT_FOUND)."""
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "wide.py", FANOUT_DAG)
    async with scheduler(config) as h:
        await trigger(h, "wide", run_id="r1")
        worker = FakeWorker(js, nats_config, h)
        first, second = [(await worker.next_dispatch())[0] for _ in range(2)]
        bad_try = common_pb2.TaskInstanceKey()
        bad_try.CopyFrom(second.key)
        bad_try.try_number = 0
        unknown = common_pb2.TaskInstanceKey()
        unknown.CopyFrom(second.key)
        unknown.task_id = "nope"
        keys = [first.key, first.key, bad_try, unknown, second.key]
        reply = await h.execution.ClaimAttempts(task_execution_service_pb2.ClaimAttemptsRequest(
            claims=[task_execution_service_pb2.ClaimAttemptRequest(
                key=k, worker_id="w1", hostname="h1") for k in keys]), timeout=10)
        codes = [o.error.code if o.HasField("error") else 0 for o in reply.outcomes]
        assert codes == [0, grpc.StatusCode.ABORTED.value[0],
                         grpc.StatusCode.INVALID_ARGUMENT.value[0],
                         grpc.StatusCode.NOT_FOUND.value[0], 0]
        assert reply.outcomes[1].error.reason == "ATTEMPT_NOT_CLAIMABLE"
        granted = [reply.outcomes[0].claim, reply.outcomes[4].claim]
        assert [c.task_instance.key.task_id for c in granted] == [
            first.key.task_id, second.key.task_id]
        assert all(c.task_instance.state == S.TASK_INSTANCE_STATE_RUNNING for c in granted)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await h.execution.ClaimAttempts(task_execution_service_pb2.ClaimAttemptsRequest())
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # Its answer lost (e.g. a scheduler restart), the same worker claims again: granted;
        # another worker: refused.
        again = await h.execution.ClaimAttempts(task_execution_service_pb2.ClaimAttemptsRequest(
            claims=[task_execution_service_pb2.ClaimAttemptRequest(key=first.key, worker_id=w,
                                                                   hostname="h1")
                    for w in ("w1", "w2")]), timeout=10)
        assert not again.outcomes[0].HasField("error")
        assert again.outcomes[0].claim.task_instance.key.try_number == first.key.try_number
        assert again.outcomes[1].error.code == grpc.StatusCode.ABORTED.value[0]


async def _is(awaitable: Any, expected: Any) -> bool:
    return bool(await awaitable == expected)


async def test_failed_task_with_retry_is_dispatched_again_with_try_two(
        tmp_path: pathlib.Path, db_url: str, nats_config: NatsConfig,
        js: JetStreamContext) -> None:
    """A failure with retries left puts the task up_for_retry and re-dispatches try 2."""
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "chain.py", CHAIN_DAG.format(retries=1))
    async with scheduler(config) as h:
        dag_run = await trigger(h, "chain3", run_id="r1")
        worker = FakeWorker(js, nats_config, h)
        await worker.run_one()  # a
        first = await worker.run_one(S.TASK_INSTANCE_STATE_FAILED)  # b, try 1
        assert (first.key.task_id, first.key.try_number, first.max_tries) == ("b", 1, 2)
        second = await worker.run_one()  # b, try 2
        assert (second.key.task_id, second.key.try_number) == ("b", 2)
        third = await worker.run_one()
        assert third.key.task_id == "c"
        await eventually(lambda: _is(run_state(h, "chain3", dag_run.run_id),
                                     S.DAG_RUN_STATE_SUCCESS))


async def test_downstream_of_failed_task_is_upstream_failed_and_run_fails(
        tmp_path: pathlib.Path, db_url: str, nats_config: NatsConfig,
        js: JetStreamContext) -> None:
    """With no retries left, the failure propagates: c is upstream_failed, the run failed."""
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "chain.py", CHAIN_DAG.format(retries=0))
    async with scheduler(config) as h:
        dag_run = await trigger(h, "chain3", run_id="r1")
        worker = FakeWorker(js, nats_config, h)
        await worker.run_one()
        await worker.run_one(S.TASK_INSTANCE_STATE_FAILED)
        await eventually(lambda: _is(run_state(h, "chain3", "r1"), S.DAG_RUN_STATE_FAILED))
        assert await ti_states(h, "chain3", dag_run.run_id) == {
            "a": S.TASK_INSTANCE_STATE_SUCCESS, "b": S.TASK_INSTANCE_STATE_FAILED,
            "c": S.TASK_INSTANCE_STATE_UPSTREAM_FAILED}


async def test_duplicate_claim_is_aborted(tmp_path: pathlib.Path, db_url: str,
                                          nats_config: NatsConfig, js: JetStreamContext) -> None:
    """A second claim of the same attempt by another worker is ABORTED (by the same worker,
    whose first answer may have been lost, it is granted again); a stale try_number too."""
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "chain.py", CHAIN_DAG.format(retries=0))
    async with scheduler(config) as h:
        await trigger(h, "chain3", run_id="r1")
        worker = FakeWorker(js, nats_config, h)
        dispatch, _msg = await worker.next_dispatch()
        claimed = await worker.claim(dispatch)
        assert claimed.task_instance.state == S.TASK_INSTANCE_STATE_RUNNING
        assert claimed.task_instance.hostname == "host1"
        assert claimed.dag_run.run_id == "r1"
        assert (await worker.claim(dispatch)).task_instance.key == claimed.task_instance.key
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await h.execution.ClaimAttempt(task_execution_service_pb2.ClaimAttemptRequest(
                key=dispatch.key, worker_id="w2", hostname="host2"), timeout=10)
        assert info.value.code() == grpc.StatusCode.ABORTED
        stale = dispatch_pb2.TaskDispatch()
        stale.CopyFrom(dispatch)
        stale.key.try_number = 7
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await worker.claim(stale)
        assert info.value.code() == grpc.StatusCode.ABORTED
        missing = dispatch_pb2.TaskDispatch()
        missing.CopyFrom(dispatch)
        missing.key.task_id = "nope"
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await worker.claim(missing)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_trigger_errors_and_xcom(tmp_path: pathlib.Path, db_url: str,
                                       nats_config: NatsConfig, js: JetStreamContext) -> None:
    """Unknown DAG is NOT_FOUND, a taken run_id ALREADY_EXISTS; XCom round-trips and is
    size-limited."""
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "chain.py", CHAIN_DAG.format(retries=0))
    async with scheduler(config) as h:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await trigger(h, "nope")
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        assert "flowcli dags list" in (info.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await trigger(h, "")
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        conf = dag_run_service_pb2.TriggerDagRunRequest().conf
        conf.update({"x": 1})
        dag_run = await trigger(h, "chain3", run_id="r1", conf=conf)
        assert dict(dag_run.conf) == {"x": 1.0}
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await trigger(h, "chain3", run_id="r1")
        assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS
        worker = FakeWorker(js, nats_config, h)
        dispatch, _ = await worker.next_dispatch()
        assert dispatch.conf_json == '{"x": 1}'  # whole numbers stay ints, as in Airflow
        await worker.claim(dispatch)
        push = task_execution_service_pb2.PushXComRequest(
            key=dispatch.key, xcom_key="return_value", value=b'{"a": 1}',
            content_type="application/json")
        await h.execution.PushXCom(push, timeout=5)
        push.value = b"[2]"
        await h.execution.PushXCom(push, timeout=5)
        pulled = await h.execution.PullXCom(task_execution_service_pb2.PullXComRequest(
            key=dispatch.key, xcom_key="return_value"), timeout=5)
        assert pulled.found and pulled.value == b"[2]"
        push.value = b"x" * 2000
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await h.execution.PushXCom(push, timeout=5)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        runs = await h.control.ListDagRuns(
            dag_run_service_pb2.ListDagRunsRequest(dag_id="chain3", page_size=1), timeout=5)
        assert [r.run_id for r in runs.dag_runs] == ["r1"] and runs.next_page_token


async def test_empty_operator_and_trigger_rules_need_no_dispatch(
        tmp_path: pathlib.Path, db_url: str, nats_config: NatsConfig,
        js: JetStreamContext) -> None:
    """EmptyOperators succeed in the scheduler; skip propagation finishes the run."""
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "empty.py", """
        from flow.sdk import DAG
        from flow.operators.empty import EmptyOperator

        with DAG("empties", schedule=None):
            start = EmptyOperator(task_id="start")
            only_fail = EmptyOperator(task_id="only_fail", trigger_rule="all_failed")
            after = EmptyOperator(task_id="after")
            done = EmptyOperator(task_id="done", trigger_rule="all_done")
            start >> only_fail >> after >> done
    """)
    async with scheduler(config) as h:
        watch = h.control.WatchStateChanges(
            dag_run_service_pb2.WatchStateChangesRequest(dag_id="empties"))
        await trigger(h, "empties", run_id="r1")
        await eventually(lambda: _is(run_state(h, "empties", "r1"), S.DAG_RUN_STATE_SUCCESS))
        assert await ti_states(h, "empties", "r1") == {
            "start": S.TASK_INSTANCE_STATE_SUCCESS, "only_fail": S.TASK_INSTANCE_STATE_SKIPPED,
            "after": S.TASK_INSTANCE_STATE_SKIPPED, "done": S.TASK_INSTANCE_STATE_SUCCESS}
        seen = []
        async for item in watch:
            seen.append(item.change)
            if not item.change.task_instance_key.task_id and \
                    item.change.dag_run_state == S.DAG_RUN_STATE_SUCCESS:
                break
        watch.cancel()
        assert {c.task_instance_key.task_id for c in seen} >= {"start", "done"}


async def test_attempt_of_worker_without_heartbeat_fails_over(
        tmp_path: pathlib.Path, db_url: str, nats_server: Any, js: JetStreamContext) -> None:
    """A running attempt whose worker has no heartbeat key past the TTL fails by its retry
    policy (here no retries: failed, and the run fails)."""
    nats_config = NatsConfig(url=nats_server.url, ack_wait_seconds=5.0, heartbeat_ttl_seconds=0.6)
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "chain.py", CHAIN_DAG.format(retries=0))
    async with scheduler(config) as h:
        await trigger(h, "chain3", run_id="r1")
        worker = FakeWorker(js, nats_config, h)
        dispatch, msg = await worker.next_dispatch()
        await worker.claim(dispatch)
        await msg.ack()
        await eventually(lambda: _is(run_state(h, "chain3", "r1"), S.DAG_RUN_STATE_FAILED))
        states = await ti_states(h, "chain3", "r1")
        assert states["a"] == S.TASK_INSTANCE_STATE_FAILED
        assert states["b"] == S.TASK_INSTANCE_STATE_UPSTREAM_FAILED


async def test_attempt_its_live_worker_does_not_list_fails_over(
        tmp_path: pathlib.Path, db_url: str, nats_server: Any, js: JetStreamContext) -> None:
    """A worker that heartbeats but no longer lists an attempt (it restarted under the same
    id, or never got its claim answer) does not keep that attempt running forever. The TTL
    leaves room for a busy machine to pause the beating loop without the worker looking dead."""
    nats_config = NatsConfig(url=nats_server.url, ack_wait_seconds=5.0, heartbeat_ttl_seconds=1.5)
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "chain.py", CHAIN_DAG.format(retries=0))
    async with scheduler(config) as h:
        await trigger(h, "chain3", run_id="r1")
        worker = FakeWorker(js, nats_config, h)
        dispatch, msg = await worker.next_dispatch()
        await worker.claim(dispatch)
        await msg.ack()
        kv = await jetstream.heartbeat_bucket(js, nats_config)
        attempt = subjects.attempt_key("chain3", "r1", "a", -1, 1)

        async def beat(running: list[str], seconds: float) -> None:
            end = asyncio.get_running_loop().time() + seconds
            while asyncio.get_running_loop().time() < end:
                await kv.put(subjects.heartbeat_key("w1"),
                             json.dumps({"worker_id": "w1", "running": running}).encode())
                await asyncio.sleep(0.1)

        await beat([attempt], 2.5)  # listed: stays running through several checks
        assert (await ti_states(h, "chain3", "r1"))["a"] == S.TASK_INSTANCE_STATE_RUNNING
        beating = asyncio.create_task(beat([], 10.0))  # alive, but without the attempt
        try:
            await eventually(lambda: _is(run_state(h, "chain3", "r1"),
                                         S.DAG_RUN_STATE_FAILED))
        finally:
            beating.cancel()
        assert (await ti_states(h, "chain3", "r1"))["a"] == S.TASK_INSTANCE_STATE_FAILED


# --- DAG processing --------------------------------------------------------------------


async def test_import_errors_are_recorded_and_good_dags_still_run(
        tmp_path: pathlib.Path, db_url: str, nats_config: NatsConfig,
        js: JetStreamContext) -> None:
    """A syntax error (with its line) and a hanging file (timed out) become import errors;
    another DAG still triggers. Fixing the file clears its error."""
    config = make_config(tmp_path, db_url, nats_config, parse_timeout_seconds=2.0)
    write_dag(config, "chain.py", CHAIN_DAG.format(retries=0))
    broken = write_dag(config, "broken.py", "# a flow dag\nfrom flow.sdk import DAG\nx = (\n")
    write_dag(config, "hang.py", "# a flow dag\nimport time\ntime.sleep(600)\n")
    async with scheduler(config) as h:
        by_name: dict[str, str] = {}

        async def both_listed() -> bool:  # the hanging file, once its time limit passed
            errors = await h.control.ListImportErrors(
                dag_service_pb2.ListImportErrorsRequest(), timeout=5)
            by_name.update({pathlib.Path(e.filename).name: e.stacktrace
                            for e in errors.import_errors})
            return set(by_name) == {"broken.py", "hang.py"}

        await eventually(both_listed)
        assert "SyntaxError" in by_name["broken.py"] and "line" in by_name["broken.py"]
        assert "timed out after 2 s" in by_name["hang.py"]
        dag_run = await trigger(h, "chain3", run_id="r1")
        assert dag_run.state == S.DAG_RUN_STATE_RUNNING
        broken.write_text(CHAIN_DAG.format(retries=0).replace("chain3", "fixed"))
        os.utime(broken, (1, 1))

        async def fixed() -> bool:
            errors = await h.control.ListImportErrors(
                dag_service_pb2.ListImportErrorsRequest(), timeout=5)
            return [pathlib.Path(e.filename).name for e in errors.import_errors] == ["hang.py"]

        await eventually(fixed)
        got = await h.control.GetDag(dag_service_pb2.GetDagRequest(dag_id="fixed"), timeout=5)
        assert [t.task_id for t in got.dag.tasks] == ["a", "b", "c"]


async def test_invariant_user_code_never_runs_in_scheduler(
        tmp_path: pathlib.Path, db_url: str, nats_config: NatsConfig) -> None:
    """A DAG file's top level runs in a child process, never in the scheduler's."""
    config = make_config(tmp_path, db_url, nats_config)
    marker = tmp_path / "pids.txt"
    write_dag(config, "pid.py", f"""
        import os
        from flow.sdk import DAG
        from flow.operators.empty import EmptyOperator

        with open({str(marker)!r}, "a") as fh:
            fh.write(f"{{os.getpid()}}\\n")
        with DAG("pid_dag", schedule=None):
            EmptyOperator(task_id="t")
    """)
    async with scheduler(config) as h:
        assert h.info["pid"] == os.getpid()
        pids = {int(line) for line in marker.read_text().split()}
        assert pids and os.getpid() not in pids


# --- invariants ----------------------------------------------------------------------------


async def test_invariant_commit_before_publish_republishes_queued_on_restart(
        tmp_path: pathlib.Path, db_url: str, nats_config: NatsConfig,
        js: JetStreamContext) -> None:
    """A queued attempt whose message was lost is re-published when the scheduler restarts."""
    config = make_config(tmp_path, db_url, nats_config)
    write_dag(config, "chain.py", CHAIN_DAG.format(retries=0))
    async with scheduler(config) as h:
        await trigger(h, "chain3", run_id="r1")
    # Lose the message, as if the publish after the commit never happened.
    await js.purge_stream(jetstream.subjects.TASKS_STREAM)
    # ... and let the duplicate window forget it (a fresh stream config with a tiny window).
    short = NatsConfig(url=nats_config.url, ack_wait_seconds=5.0, duplicate_window_seconds=0.2)
    await jetstream.ensure_streams(js, short)
    await asyncio.sleep(0.3)  # let the 0.2 s duplicate window pass (not an assertion)
    config = make_config(tmp_path, db_url, short)
    async with scheduler(config) as h:
        worker = FakeWorker(js, short, h)
        dispatch, _ = await worker.next_dispatch()
        assert (dispatch.key.task_id, dispatch.key.try_number) == ("a", 1)
        claimed = await worker.claim(dispatch)
        assert claimed.task_instance.state == S.TASK_INSTANCE_STATE_RUNNING


def test_invariant_one_state_machine_guards_every_write() -> None:
    """Only state_machine.py defines transitions; every state UPDATE in the store is guarded by
    allowed_sources, and nothing else in the scheduler writes a state column."""
    root = REPO / "services" / "scheduler"
    sources = {p: p.read_text() for p in root.rglob("*.py")}
    for path, text in sources.items():
        if path.name != "state_machine.py":
            assert "TRANSITIONS" not in text.replace("run_allowed_sources", ""), path
    store = (root / "store.py").read_text()
    updates = re.findall(r"update\((?:TI|DagRun)\)[\s\S]*?(?=\n\n|\Z)", store)
    assert len(updates) >= 3
    for statement in updates:
        assert "allowed_sources(" in statement, statement
        assert ".values(state=" in statement, statement
    for path, text in sources.items():
        if path.name == "store.py":
            continue
        assert not re.search(r"\bupdate\((TaskInstance|TI|DagRun)\)", text), path
        assert not re.search(r"\.state\s*=\s*(TI|TaskInstanceState|DagRunState)\.", text) or \
            path.parent.name == "core", path
