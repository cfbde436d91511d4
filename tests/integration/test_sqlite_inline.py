"""SQLite through flow.db.sqlite_inline: statements run in the event loop's thread, and a lock
held by another connection is waited out without stalling the loop."""

from __future__ import annotations

import asyncio
import pathlib
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from flow.db import sqlite_inline
from flow.db.engine import create_engine

pytestmark = pytest.mark.integration


async def test_a_held_lock_is_waited_out_while_the_loop_runs_on(
        tmp_path: pathlib.Path) -> None:
    path = tmp_path / "flow.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            driver = (await conn.get_raw_connection()).driver_connection
            assert isinstance(driver, sqlite_inline.InlineConnection)

        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process's write transaction, say
        other.execute("INSERT INTO t VALUES (1)")

        async def insert() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))

        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        writer = asyncio.create_task(insert())
        await asyncio.sleep(0.3)
        assert not writer.done()  # waiting for the lock...
        assert ticks >= 5  # ...while the loop went on serving others
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(writer, 10)
        ticker.cancel()

        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT id FROM t ORDER BY id"))).scalars().all() \
                == [1, 2]
            with pytest.raises(IntegrityError):  # errors reach the caller as SQLAlchemy's
                await conn.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        await engine.dispose()


async def test_a_lock_held_too_long_is_an_error(tmp_path: pathlib.Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_inline, "BUSY_SECONDS", 0.2)
    path = tmp_path / "flow.db"
    engine = create_engine(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        other.close()
        await engine.dispose()
