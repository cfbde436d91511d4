"""The log service in-process on 127.0.0.1:0: write, read, follow, big logs, path escaping."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import pathlib
import socket
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc
import pytest

from flow.config import FlowConfig, replace
from flow.grpcutil import open_channel
from flow.v1 import common_pb2, log_service_pb2, log_service_pb2_grpc
from services.logserver.app import run
from services.logserver.storage import AttemptKey, LogStorage

pytestmark = pytest.mark.integration
TOKEN = "internal-secret"


@dataclasses.dataclass
class LogServer:
    stub: Any
    base_dir: pathlib.Path
    address: str


@pytest.fixture
async def logserver(tmp_path: pathlib.Path) -> AsyncIterator[LogServer]:
    config = replace(FlowConfig(home=tmp_path), logserver={"grpc_bind": "127.0.0.1:0"},
                     auth={"internal_token": TOKEN})
    stop = asyncio.Event()
    ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run(config, stop=stop, on_ready=ready.set_result))
    info = await asyncio.wait_for(ready, 10)
    channel = open_channel(f"127.0.0.1:{info['grpc_port']}", TOKEN)
    try:
        yield LogServer(log_service_pb2_grpc.LogServiceStub(channel), config.logs_dir,
                        f"127.0.0.1:{info['grpc_port']}")
    finally:
        await channel.close()
        stop.set()
        await asyncio.wait_for(task, 10)


def key(try_number: int = 1, **fields: Any) -> common_pb2.TaskInstanceKey:
    values = {"dag_id": "etl", "run_id": "manual__1", "task_id": "extract", "map_index": -1,
              "try_number": try_number, **fields}
    return common_pb2.TaskInstanceKey(**values)


def requests(k: common_pb2.TaskInstanceKey, chunks: Iterable[bytes], final: bool
             ) -> list[log_service_pb2.WriteLogRequest]:
    out = [log_service_pb2.WriteLogRequest(key=k, content=c) for c in chunks]
    out.append(log_service_pb2.WriteLogRequest(key=k, final=final))
    return out


async def write(stub: Any, k: common_pb2.TaskInstanceKey, chunks: Iterable[bytes],
                final: bool = True) -> int:
    async def gen() -> AsyncIterator[log_service_pb2.WriteLogRequest]:
        for request in requests(k, chunks, final):
            yield request

    response = await stub.WriteLog(gen())
    return int(response.size)


async def test_write_then_read_and_follow(logserver: LogServer) -> None:
    """Bytes written with final=true read back whole, complete, and a follow ends after them."""
    size = await write(logserver.stub, key(), [b"hello\n", b"world\n"])
    assert size == 12
    read = await logserver.stub.ReadLog(log_service_pb2.ReadLogRequest(key=key()))
    assert (read.content, read.next_offset, read.complete, read.exists) == (
        b"hello\nworld\n", 12, True, True)
    part = await logserver.stub.ReadLog(log_service_pb2.ReadLogRequest(key=key(), offset=6,
                                                                        limit=3))
    assert (part.content, part.next_offset, part.complete) == (b"wor", 9, False)
    followed = [m async for m in logserver.stub.FollowLog(
        log_service_pb2.FollowLogRequest(key=key(), offset=6))]
    assert b"".join(m.content for m in followed) == b"world\n"
    assert followed[-1].next_offset == 12
    on_disk = logserver.base_dir / "dag_id=etl" / "run_id=manual__1" / "task_id=extract"
    assert (on_disk / "attempt=1.log").read_bytes() == b"hello\nworld\n"  # Airflow's layout
    assert not (on_disk / "attempt=1.log").stat().st_mode & 0o222  # ended
    await write(logserver.stub, key(map_index=3), [b"mapped\n"])
    assert (on_disk / "map_index=3" / "attempt=1.log").read_bytes() == b"mapped\n"


async def test_a_log_in_the_earlier_layout_is_still_served(logserver: LogServer) -> None:
    """Logs written before the layout followed Airflow's (`map_index=-1/` for every task)
    read back, and an attempt appending to one goes on in the same file."""
    legacy = (logserver.base_dir / "dag_id=etl" / "run_id=manual__1" / "task_id=extract"
              / "map_index=-1" / "attempt=1.log")
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"before\n")
    await write(logserver.stub, key(), [b"after\n"])
    read = await logserver.stub.ReadLog(log_service_pb2.ReadLogRequest(key=key()))
    assert (read.content, read.complete) == (b"before\nafter\n", True)
    assert legacy.read_bytes() == b"before\nafter\n"


async def test_missing_log_reads_as_not_existing(logserver: LogServer) -> None:
    """A log nobody wrote reads empty with exists=false, not an error."""
    read = await logserver.stub.ReadLog(log_service_pb2.ReadLogRequest(key=key(7)))
    assert (read.content, read.exists, read.complete) == (b"", False, False)


async def test_follow_of_live_attempt_receives_later_bytes_and_ends_on_final(
    logserver: LogServer,
) -> None:
    """A follower that starts before the log exists gets every byte written later, then ends."""
    received: list[bytes] = []
    first = asyncio.Event()

    async def follow() -> None:
        async for message in logserver.stub.FollowLog(
            log_service_pb2.FollowLogRequest(key=key(2))
        ):
            received.append(message.content)
            first.set()

    follower = asyncio.create_task(follow())
    queue: asyncio.Queue[log_service_pb2.WriteLogRequest | None] = asyncio.Queue()

    async def gen() -> AsyncIterator[log_service_pb2.WriteLogRequest]:
        while (item := await queue.get()) is not None:
            yield item

    writer = asyncio.ensure_future(logserver.stub.WriteLog(gen()))
    await queue.put(log_service_pb2.WriteLogRequest(key=key(2), content=b"line 1\n"))
    await asyncio.wait_for(first.wait(), 10)
    assert not follower.done()
    await queue.put(log_service_pb2.WriteLogRequest(content=b"line 2\n"))
    await queue.put(log_service_pb2.WriteLogRequest(final=True))
    await queue.put(None)
    await asyncio.wait_for(follower, 10)
    assert b"".join(received) == b"line 1\nline 2\n"
    assert (await writer).size == 14


async def test_fifty_megabytes_written_then_read_back_in_pages(logserver: LogServer) -> None:
    """A 50 MB log streams in 1 MiB messages and reads back in 1 MiB pages, byte for byte."""
    block = bytes(range(256)) * 4096  # 1 MiB
    blocks = [block[i:] + block[:i] for i in range(50)]
    total = await write(logserver.stub, key(3), blocks)
    assert total == 50 * len(block)
    offset, pages, complete = 0, 0, False
    while not complete:
        page = await logserver.stub.ReadLog(
            log_service_pb2.ReadLogRequest(key=key(3), offset=offset, limit=10 << 20))
        assert len(page.content) <= 1 << 20
        expected = blocks[offset // len(block)]
        assert page.content == expected[: len(page.content)]
        offset, complete, pages = page.next_offset, page.complete, pages + 1
    assert offset == total and pages == 50


@pytest.mark.parametrize("evil", ["../../../etc", "a/b", "..", "/abs", "x\x00y"])
async def test_path_components_are_escaped(logserver: LogServer, evil: str) -> None:
    """Ids with '/', '..' or NUL stay inside the logs directory and read back."""
    k = key(1, dag_id=evil, run_id=evil, task_id=evil)
    await write(logserver.stub, k, [b"contained\n"])
    read = await logserver.stub.ReadLog(log_service_pb2.ReadLogRequest(key=k))
    assert read.content == b"contained\n"
    _assert_files_inside(logserver.base_dir)


def _assert_files_inside(base_dir: pathlib.Path) -> None:
    base = base_dir.resolve()
    files = [pathlib.Path(root, f).resolve() for root, _, fs in os.walk(base) for f in fs]
    assert files and all(f.is_relative_to(base) for f in files)
    assert len(list(base.iterdir())) == 1  # one dag_id= folder, nothing beside it


async def test_invalid_key_and_missing_token_are_rejected(logserver: LogServer) -> None:
    """A key without try_number is INVALID_ARGUMENT; a call without the token UNAUTHENTICATED."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await logserver.stub.ReadLog(log_service_pb2.ReadLogRequest(key=key(0)))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    async with open_channel(logserver.address) as anonymous:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await log_service_pb2_grpc.LogServiceStub(anonymous).ReadLog(
                log_service_pb2.ReadLogRequest(key=key()))
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        call = log_service_pb2_grpc.LogServiceStub(anonymous).WriteLogs()
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call.write(log_service_pb2.WriteLogsRequest(key=key(), content=b"x"))
            await call.read()
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert not (await logserver.stub.ReadLog(log_service_pb2.ReadLogRequest(key=key()))).exists


async def test_final_log_rejects_more_bytes(logserver: LogServer) -> None:
    """Appending to an attempt whose writer already sent final is FAILED_PRECONDITION."""
    await write(logserver.stub, key(4), [b"done\n"])
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await write(logserver.stub, key(4), [b"late\n"])
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_retention_deletes_old_attempts_only(tmp_path: pathlib.Path) -> None:
    """Files older than retention_days go, with their empty folders; fresh ones stay."""
    storage = LogStorage(tmp_path, retention_days=1)
    old, fresh = AttemptKey("d", "r", "t", -1, 1), AttemptKey("d", "r2", "t", -1, 1)
    for k in (old, fresh):
        writer = storage.open_writer(k)
        await writer.append(b"x")
        await writer.finish()
        await writer.close()
    past = time.time() - 3 * 86_400
    os.utime(storage.log_path(old), (past, past))
    assert await storage.purge_expired() == 1
    assert not (tmp_path / "dag_id=d" / "run_id=r").exists()
    assert storage.log_path(fresh).exists()


async def test_one_stream_carries_many_attempts_and_answers_each_final(
    logserver: LogServer,
) -> None:
    """WriteLogs interleaves attempts on one stream; each final is answered with its size
    once durable, and an invalid key is answered with an error while the others go on."""
    call = logserver.stub.WriteLogs()
    bad = key(0)
    for i in range(3):
        for n in (1, 2, 3):
            await call.write(log_service_pb2.WriteLogsRequest(key=key(n),
                                                              content=f"{n}.{i}\n".encode()))
        await call.write(log_service_pb2.WriteLogsRequest(key=bad, content=b"lost\n"))
    for n in (1, 2, 3):
        await call.write(log_service_pb2.WriteLogsRequest(key=key(n), final=True))
    await call.write(log_service_pb2.WriteLogsRequest(key=bad, final=True))
    await call.done_writing()
    answers = [answer async for answer in call]
    by_try = {a.key.try_number: a for a in answers}
    assert sorted(by_try) == [0, 1, 2, 3] and len(answers) == 4
    assert "try_number" in by_try[0].error
    for n in (1, 2, 3):
        assert (by_try[n].size, by_try[n].error) == (12, "")
        read = await logserver.stub.ReadLog(log_service_pb2.ReadLogRequest(key=key(n)))
        assert (read.content, read.complete) == (f"{n}.0\n{n}.1\n{n}.2\n".encode(), True)
    # A log that ended already refuses more bytes; the refusal answers the final message.
    late = logserver.stub.WriteLogs()
    await late.write(log_service_pb2.WriteLogsRequest(key=key(1), content=b"late\n"))
    await late.write(log_service_pb2.WriteLogsRequest(key=key(1), final=True))
    await late.done_writing()
    [refused] = [answer async for answer in late]
    assert refused.key.try_number == 1 and "final" in refused.error


async def test_batches_carry_many_attempts_in_one_message(logserver: LogServer) -> None:
    """WriteLogBatches applies each message's entries in order, with WriteLogs' answers: one
    per final, an error for a bad key, the other attempts unaffected."""
    call = logserver.stub.WriteLogBatches()
    entry = log_service_pb2.WriteLogsRequest
    await call.write(log_service_pb2.WriteLogBatchesRequest(entries=[
        entry(key=key(1), content=b"a\n"), entry(key=key(0), content=b"lost\n"),
        entry(key=key(2), content=b"b\n"), entry(key=key(1), content=b"c\n")]))
    await call.write(log_service_pb2.WriteLogBatchesRequest(entries=[
        entry(key=key(2), final=True), entry(key=key(0), final=True),
        entry(key=key(1), final=True)]))
    await call.done_writing()
    by_try = {a.key.try_number: a async for a in call}
    assert sorted(by_try) == [0, 1, 2] and "try_number" in by_try[0].error
    assert [(by_try[n].size, by_try[n].error) for n in (1, 2)] == [(4, ""), (2, "")]
    read = await logserver.stub.ReadLog(log_service_pb2.ReadLogRequest(key=key(1)))
    assert (read.content, read.complete) == (b"a\nc\n", True)


async def test_worker_log_mux_survives_a_logserver_restart(tmp_path: pathlib.Path) -> None:
    """The worker's LogMux ships several attempts over one stream; while the logserver is
    down their output is dropped without blocking, and once it is back a new stream
    carries the next attempts."""
    from services.worker.log_shipper import LogMux, LogShipper

    with socket.socket() as probe:  # a port free now, to start the logserver on twice
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = replace(FlowConfig(home=tmp_path), logserver={"grpc_bind": f"127.0.0.1:{port}"},
                     auth={"internal_token": TOKEN})
    storage = LogStorage(config.logs_dir)

    async def start() -> tuple[asyncio.Event, asyncio.Task[None]]:
        stop = asyncio.Event()
        ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(run(config, stop=stop, on_ready=ready.set_result))
        await asyncio.wait_for(ready, 10)
        return stop, task

    async def ship(mux: LogMux, try_number: int) -> None:
        shipper = LogShipper(mux, key(try_number), timeout=10)
        await shipper.write(f"attempt {try_number}\n".encode())
        await shipper.close()

    stop, task = await start()
    channel = open_channel(f"127.0.0.1:{port}", TOKEN)
    mux = LogMux(log_service_pb2_grpc.LogServiceStub(channel), retry_pause=0.05)
    try:
        await asyncio.gather(*(ship(mux, n) for n in (1, 2, 3)))
        stop.set()
        await asyncio.wait_for(task, 10)
        await ship(mux, 4)  # dropped, and close() answers instead of waiting out its timeout
        stop, task = await start()
        for _ in range(100):  # the mux retries after its pause; the first tries may drop
            await ship(mux, 5)
            if (await storage.read(AttemptKey("etl", "manual__1", "extract", -1, 5))).complete:
                break
            await asyncio.sleep(0.05)
    finally:
        await mux.aclose()
        await channel.close()
        stop.set()
        await asyncio.wait_for(task, 10)
    for n in (1, 2, 3, 5):
        read = await storage.read(AttemptKey("etl", "manual__1", "extract", -1, n))
        assert (read.content, read.complete) == (f"attempt {n}\n".encode(), True)
    assert not (await storage.read(AttemptKey("etl", "manual__1", "extract", -1, 4))).exists


async def test_log_shipper_holds_output_briefly_and_keeps_its_order(
        logserver: LogServer) -> None:
    """A shipper holds what is written for a moment: an attempt that ends within it sends
    its lines and the final mark as one message; output that waits longer reaches the
    logserver without the attempt ending; big writes go at once; the order never changes."""
    from services.worker.log_shipper import MAX_CHUNK, LogMux, LogShipper

    sent: list[Any] = []

    class CountingMux(LogMux):
        async def send(self, request: Any) -> None:
            sent.append(request)
            await super().send(request)

    mux = CountingMux(logserver.stub)

    async def read(k: common_pb2.TaskInstanceKey) -> log_service_pb2.ReadLogResponse:
        return await logserver.stub.ReadLog(log_service_pb2.ReadLogRequest(key=k))

    try:
        short = LogShipper(mux, key(1), timeout=10, hold=30)
        for line in (b"start\n", b"output\n", b"exit 0\n"):
            await short.write(line)
        await short.close()
        assert [(r.content, r.final) for r in sent] == [(b"start\noutput\nexit 0\n", True)]
        assert (await read(key(1))).content == b"start\noutput\nexit 0\n"

        sent.clear()
        slow = LogShipper(mux, key(2), timeout=10, hold=0.05)
        await slow.write(b"first\n")
        for _ in range(200):  # released by the hold's timer, while the attempt goes on
            if (await read(key(2))).content == b"first\n":
                break
            await asyncio.sleep(0.02)
        assert (await read(key(2))).content == b"first\n"
        big = b"x" * (MAX_CHUNK + 10) + b"\n"
        await slow.write(big)  # a full chunk leaves at once, the rest is held
        await slow.write(b"last\n")
        await slow.close()
        assert [len(r.content) for r in sent] == [6, MAX_CHUNK, 11 + 5]
        answer = await read(key(2))
        assert (answer.content, answer.complete) == (b"first\n" + big + b"last\n", True)
    finally:
        await mux.aclose()
