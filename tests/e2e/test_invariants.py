"""Invariants 2 and 3 of DESIGN.md, through the real worker, scheduler and JetStream.

2. A duplicate delivery of an attempt that is running, or whose result is stored, never
   starts a second execution (its worker drops it; another worker's claim is refused).
3. A worker acks a task message only after JetStream stored its result: while the results
   stream refuses messages the task message stays unacked, and the run completes once the
   stream accepts them again.
"""

from __future__ import annotations

import asyncio
import pathlib
import textwrap
from typing import Any

import nats
import pytest
from nats.js.api import DiscardPolicy

from flow.bus import subjects
from flow.v1 import common_pb2, dispatch_pb2
from tests.e2e.api import Api, eventually
from tests.fixtures.platform import PlatformFactory

pytestmark = pytest.mark.e2e

GATED_DAG = """
from datetime import datetime, timezone
from flow.operators.bash import BashOperator
from flow.sdk import DAG

with DAG("gated", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)):
    BashOperator(task_id="once", bash_command=(
        "echo ran >> {record}; while [ ! -e {gate} ]; do sleep 0.05; done"))
"""


def _write(folder: pathlib.Path, record: pathlib.Path, gate: pathlib.Path) -> None:
    (folder / "gated.py").write_text(textwrap.dedent(GATED_DAG).format(record=record, gate=gate))


async def _with_js(url: str, action: Any) -> Any:
    nc = await nats.connect(url)
    try:
        return await action(nc.jetstream())
    finally:
        await nc.close()


def test_duplicate_delivery_of_a_running_attempt_never_runs_twice(
    tmp_path: pathlib.Path, platform_factory: PlatformFactory
) -> None:
    record, gate = tmp_path / "record.txt", tmp_path / "gate"
    _write(tmp_path, record, gate)
    platform = platform_factory(tmp_path / "gated.py")
    api = Api(platform)
    try:
        api.wait_for_dag("gated")
        run = api.trigger("gated")
        eventually(lambda: record.exists() and api.states("gated", run.run_id) == {
            "once": "running"})

        async def redeliver(js: Any) -> None:
            # The running attempt's message is still in the work queue (unacked): publish
            # a copy under another message id, so deduplication does not stop it.
            original = await js.get_last_msg(subjects.TASKS_STREAM,
                                             subjects.task_subject("default"))
            await js.publish(subjects.task_subject("default"), original.data,
                             headers={subjects.MSG_ID_HEADER: "duplicate-of-running"})

        asyncio.run(_with_js(platform.nats_url, redeliver))
        eventually(lambda: "attempt_duplicate_dropped" in platform.services["worker-0"].log_tail(
            size=100_000))
        gate.touch()
        finished = api.wait_for_run("gated", run.run_id)
        assert finished.state == common_pb2.DAG_RUN_STATE_SUCCESS
        assert record.read_text() == "ran\n"
    finally:
        api.close()


def test_a_copy_of_a_finished_attempt_is_dropped_by_its_worker(
    tmp_path: pathlib.Path, platform_factory: PlatformFactory
) -> None:
    """A copy of an attempt's task message that reaches its worker after the result was
    stored (as when only the ack was lost) is acked and dropped without running."""
    record, gate = tmp_path / "record.txt", tmp_path / "gate"
    _write(tmp_path, record, gate)
    gate.touch()  # the task ends at once
    platform = platform_factory(tmp_path / "gated.py")
    api = Api(platform)
    try:
        api.wait_for_dag("gated")
        run = api.trigger("gated")
        assert api.wait_for_run("gated", run.run_id).state == common_pb2.DAG_RUN_STATE_SUCCESS
        copy = dispatch_pb2.TaskDispatch(
            key=common_pb2.TaskInstanceKey(dag_id="gated", run_id=run.run_id, task_id="once",
                                           map_index=-1, try_number=1),
            fileloc=str(platform.dags_folder / "gated.py"), queue="default", max_tries=1)

        async def publish(js: Any) -> None:
            await js.publish(subjects.task_subject("default"), copy.SerializeToString(),
                             headers={subjects.MSG_ID_HEADER: "copy-of-finished"})

        asyncio.run(_with_js(platform.nats_url, publish))
        eventually(lambda: "its result is stored already" in platform.services[
            "worker-0"].log_tail(size=100_000))
        assert record.read_text() == "ran\n"
    finally:
        api.close()


def test_task_message_is_acked_only_after_its_result_is_stored(
    tmp_path: pathlib.Path, platform_factory: PlatformFactory
) -> None:
    record, gate = tmp_path / "record.txt", tmp_path / "gate"
    _write(tmp_path, record, gate)
    gate.touch()  # the task ends at once
    platform = platform_factory(tmp_path / "gated.py")
    api = Api(platform)

    async def set_results_max_bytes(js: Any, limit: int) -> None:
        info = await js.stream_info(subjects.RESULTS_STREAM)
        config = info.config
        config.max_bytes = limit
        config.discard = DiscardPolicy.NEW
        await js.update_stream(config)

    async def unacked(js: Any) -> int:
        info = await js.consumer_info(subjects.TASKS_STREAM, subjects.consumer_name("default"))
        return int(info.num_ack_pending)

    try:
        api.wait_for_dag("gated")
        asyncio.run(_with_js(platform.nats_url, lambda js: set_results_max_bytes(js, 1)))
        run = api.trigger("gated")
        eventually(lambda: "result_publish_failed" in platform.services["worker-0"].log_tail(
            size=100_000))
        assert record.read_text() == "ran\n"
        assert asyncio.run(_with_js(platform.nats_url, unacked)) == 1
        assert api.states("gated", run.run_id) == {"once": "running"}

        asyncio.run(_with_js(platform.nats_url, lambda js: set_results_max_bytes(js, -1)))
        finished = api.wait_for_run("gated", run.run_id)
        assert finished.state == common_pb2.DAG_RUN_STATE_SUCCESS
        eventually(lambda: asyncio.run(_with_js(platform.nats_url, unacked)) == 0)
        assert record.read_text() == "ran\n"
    finally:
        api.close()
