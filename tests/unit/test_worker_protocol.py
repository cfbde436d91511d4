"""Frames between the worker's supervisor and its task process (services/worker/protocol.py)."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from services.worker.protocol import (
    HEADER,
    FrameChannel,
    ProtocolError,
    encode_frame,
    read_frame,
    write_frame,
)


def test_encode_frame_is_length_prefixed_json() -> None:
    """A frame is a 4-byte big-endian length followed by compact JSON."""
    data = encode_frame({"op": "done", "state": "success"})
    (size,) = HEADER.unpack(data[:4])
    assert size == len(data) - 4
    assert data[4:] == b'{"op":"done","state":"success"}'


def test_sync_channel_round_trips_frames_and_ends_with_none() -> None:
    """Frames sent on one end arrive whole and in order; a closed peer reads as None."""
    a, b = socket.socketpair()
    left, right = FrameChannel(a), FrameChannel(b)
    big = "x" * 3_000_000  # larger than the socket buffer: the reader drains it meanwhile
    sender = threading.Thread(
        target=lambda: [
            left.send({"op": "xcom_push", "key": "k", "value": [1, 2]}),
            left.send({"op": "echo", "value": big}),
        ]
    )
    sender.start()
    assert right.recv() == {"op": "xcom_push", "key": "k", "value": [1, 2]}
    assert right.recv() == {"op": "echo", "value": big}
    sender.join()
    left.close()
    assert right.recv() is None
    right.close()


def test_sync_channel_rejects_truncated_frame() -> None:
    """A stream that ends inside a frame is an error, not a silent None."""
    a, b = socket.socketpair()
    a.sendall(encode_frame({"op": "x"})[:-2])
    a.close()
    with pytest.raises(ProtocolError):
        FrameChannel(b).recv()
    b.close()


def test_encode_frame_refuses_nan() -> None:
    """Values that are not strict JSON are refused before they reach the wire."""
    with pytest.raises(ValueError):
        encode_frame({"value": float("nan")})


async def test_async_side_talks_to_sync_side_over_a_socketpair() -> None:
    """The supervisor's asyncio reader/writer interoperate with the task's blocking channel."""
    parent, child = socket.socketpair()
    reader, writer = await asyncio.open_unix_connection(sock=parent)
    channel = FrameChannel(child)
    big = "y" * 2_000_000

    def task_side() -> object:
        channel.send({"op": "xcom_pull", "id": 1, "value": big})
        return channel.recv()

    pending = asyncio.create_task(asyncio.to_thread(task_side))
    frame = await read_frame(reader)
    assert frame is not None and frame["id"] == 1 and len(frame["value"]) == len(big)
    await write_frame(writer, {"id": 1, "found": True, "value": {"a": 1}})
    assert await pending == {"id": 1, "found": True, "value": {"a": 1}}
    channel.close()
    assert await read_frame(reader) is None
    writer.close()


async def test_async_reader_rejects_bad_frames() -> None:
    """A partial header, a non-object body or invalid JSON raise ProtocolError."""
    for data in (b"\x00\x00", HEADER.pack(2) + b"[]", HEADER.pack(3) + b"{x}"):
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        with pytest.raises(ProtocolError):
            await read_frame(reader)
