"""Length-prefixed JSON frames between the supervisor and the task process.

A frame is a 4-byte big-endian length, then that many bytes of UTF-8 JSON (an object).
`FrameChannel` is the blocking side (task process); `read_frame`/`write_frame` the asyncio side.
The task process imports this module: it imports no asyncio (a template that loaded it would
make every fork copy it).
"""

from __future__ import annotations

import json
import socket
import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

HEADER = struct.Struct(">I")
MAX_FRAME_BYTES = 64 * 1024 * 1024

Frame = dict[str, Any]


class ProtocolError(Exception):
    """A frame was too large, truncated or not a JSON object."""


def encode_frame(frame: Frame) -> bytes:
    """The bytes of one frame: length prefix + compact JSON."""
    body = json.dumps(frame, separators=(",", ":"), allow_nan=False).encode()
    if len(body) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds {MAX_FRAME_BYTES}")
    return HEADER.pack(len(body)) + body


def decode_body(body: bytes) -> Frame:
    try:
        frame = json.loads(body)
    except ValueError as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from exc
    if not isinstance(frame, dict):
        raise ProtocolError("frame is not a JSON object")
    return frame


class FrameChannel:
    """Blocking frames over a connected stream socket (used inside the task process)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send(self, frame: Frame) -> None:
        self._sock.sendall(encode_frame(frame))

    def recv(self) -> Frame | None:
        """The next frame, or None at end of stream."""
        header = self._recv_exactly(HEADER.size)
        if header is None:
            return None
        (size,) = HEADER.unpack(header)
        if size > MAX_FRAME_BYTES:
            raise ProtocolError(f"frame of {size} bytes exceeds {MAX_FRAME_BYTES}")
        body = self._recv_exactly(size)
        if body is None:
            raise ProtocolError("stream ended inside a frame")
        return decode_body(body)

    def _recv_exactly(self, size: int) -> bytes | None:
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            chunk = self._sock.recv(min(remaining, 1 << 20))
            if not chunk:
                if chunks:
                    raise ProtocolError("stream ended inside a frame")
                return None
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._sock.close()


async def read_frame(reader: asyncio.StreamReader) -> Frame | None:
    """The next frame from `reader`, or None at a clean end of stream."""
    try:
        header = await reader.readexactly(HEADER.size)
    except EOFError as exc:  # asyncio.IncompleteReadError
        if getattr(exc, "partial", b""):
            raise ProtocolError("stream ended inside a frame header") from exc
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {size} bytes exceeds {MAX_FRAME_BYTES}")
    try:
        body = await reader.readexactly(size)
    except EOFError as exc:  # asyncio.IncompleteReadError
        raise ProtocolError("stream ended inside a frame") from exc
    return decode_body(body)


async def write_frame(writer: asyncio.StreamWriter, frame: Frame) -> None:
    writer.write(encode_frame(frame))
    await writer.drain()
