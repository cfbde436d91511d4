"""Variables and connections for DAG files' top-level code, while they are parsed.

Airflow lets a DAG file call `Variable.get` at import time (discouraged, but common). The
parse child is user code in a fresh interpreter: it gets one end of a socketpair and asks
the scheduler over it in JSON lines; the scheduler answers from its stores. Writes and XCom
are refused: parsing must not change anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from flow.errors import FlowError, NotFoundError
from flow.sdk import comms

ENV_FD = "FLOW_PARSE_COMMS_FD"
log = logging.getLogger(__name__)  # stdlib: the parse child imports this module too
GetVariable = Callable[[str], Awaitable[str]]
GetConnection = Callable[[str], Awaitable[dict[str, Any]]]


class ParseSecrets:
    """What the scheduler answers a parsing DAG file (plain values: the child is trusted as
    much as a task)."""

    def __init__(self, get_variable: GetVariable, get_connection: GetConnection) -> None:
        self._get_variable = get_variable
        self._get_connection = get_connection

    async def answer(self, frame: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = {"id": frame.get("id"), "found": False}
        op = frame.get("op")
        try:
            if op == "variable_get":
                reply.update(found=True, value=await self._get_variable(str(frame.get("key"))))
            elif op == "connection_get":
                reply.update(found=True, connection=await self._get_connection(
                    str(frame.get("conn_id"))))
            else:
                reply["error"] = (f"'{op}' is not available while a DAG file is parsed; do it "
                                  "inside a task.")
        except NotFoundError:
            pass
        except FlowError as exc:
            reply["error"] = exc.message
        return reply

    async def serve(self, sock: socket.socket) -> None:
        """Answer one child's requests until it closes its end."""
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        try:
            while line := await reader.readline():
                try:
                    frame = json.loads(line)
                except ValueError:
                    return
                if not isinstance(frame, dict):  # a DAG file writing to our socket
                    return
                writer.write(json.dumps(await self.answer(frame)).encode() + b"\n")
                await writer.drain()
        except ConnectionError:
            return
        except Exception as exc:  # a broken file's request must not stop the DAG processor
            log.warning("parse_request_failed: %r", exc)
            return
        finally:
            writer.close()


@contextlib.contextmanager
def installed_from_env() -> Iterator[None]:
    """In the parse child: route SDK requests to the scheduler when it passed a socket."""
    fd = os.environ.get(ENV_FD)
    if not fd:
        yield
        return
    sock = socket.socket(fileno=int(fd))
    stream = sock.makefile("rwb")
    next_id = 0

    def request(frame: dict[str, Any]) -> dict[str, Any]:
        nonlocal next_id
        next_id += 1
        stream.write(json.dumps({**frame, "id": next_id}).encode() + b"\n")
        stream.flush()
        line = stream.readline()
        if not line:
            raise comms.SupervisorRequestError("the scheduler closed the parse channel")
        reply: dict[str, Any] = json.loads(line)
        return reply

    try:
        with comms.installed(request):
            yield
    finally:
        stream.close()
        sock.close()
