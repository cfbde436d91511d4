"""aiosqlite's connection, run in the event loop's own thread.

aiosqlite runs every call (cursor, execute, fetch, close, commit) on a thread of its own and
hands each result back through the event loop: four thread hops per statement, which cost
the scheduler more CPU than the SQL (SQLite answers its statements in microseconds from the
page cache). Here the same calls run inline, so SQLAlchemy's aiosqlite dialect works
unchanged and nothing hops.

What a thread used to absorb: waiting for a lock held by another connection. SQLite's own
busy handler would block the event loop, so each connection waits only briefly inside SQLite
(`INLINE_BUSY_TIMEOUT_MS`) and then yields to the loop and tries again, up to
`BUSY_SECONDS` in all. Retrying a statement that got SQLITE_BUSY is safe: it changed nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import aiosqlite

INLINE_BUSY_TIMEOUT_MS = 20  # SQLite's own wait, blocking the loop, per try
BUSY_SECONDS = 30.0  # then the "database is locked" error goes to the caller
_BUSY_SNAPSHOT = 517  # SQLITE_BUSY_SNAPSHOT: the transaction must restart, retrying is no use


def _is_retryable_busy(exc: sqlite3.OperationalError) -> bool:
    code: int | None = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == sqlite3.SQLITE_BUSY and code != _BUSY_SNAPSHOT
    return "database is locked" in str(exc)


def _settle(future: asyncio.Future[Any] | None, function: Callable[[], Any]) -> None:
    try:
        result = function()
    except BaseException as exc:  # handed to the awaiting caller, as aiosqlite does
        if future is not None and not future.done():
            future.set_exception(exc)
        return
    if future is not None and not future.done():
        future.set_result(result)


class _RunNow:
    """Stands in for aiosqlite's queue to its thread: what is put runs at once (SQLAlchemy's
    dialect puts its isolation-level change there directly)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        _settle(future, function)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run in the calling thread (see the module doc)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection],
                 iter_chunk_size: int = 64) -> None:
        super().__init__(connector, iter_chunk_size)
        self._tx = _RunNow()  # type: ignore[assignment]

    def __await__(self) -> Any:  # no thread to start
        return self._connect().__await__()

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline = 0.0
        delay = 0.001
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not _is_retryable_busy(exc):
                    raise
                now = time.monotonic()
                deadline = deadline or now + BUSY_SECONDS
                if now >= deadline:
                    raise
            await asyncio.sleep(delay)  # the lock's holder may be a coroutine of this loop
            delay = min(delay * 2, 0.05)


def connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> InlineConnection:
    """Like `aiosqlite.connect` (same arguments)."""
    return InlineConnection(lambda: sqlite3.connect(database, **kwargs), iter_chunk_size)
