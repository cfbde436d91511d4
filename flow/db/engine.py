"""The async engine and session factory; SQLite gets WAL and friends on every connection."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from flow.db import sqlite_inline


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={sqlite_inline.INLINE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _connect_inline(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """Connect through `sqlite_inline` (statements run in the event loop's thread)."""
    return dialect.dbapi.connect(*cargs, async_creator_fn=sqlite_inline.connect, **cparams)


def with_driver(url: str, *, sqlite: str, postgresql: str = "postgresql+psycopg") -> str:
    """`url` with the driver named for its backend (other backends stay as they are)."""
    parsed = make_url(url)
    driver = {"sqlite": sqlite, "postgresql": postgresql}.get(parsed.get_backend_name())
    if driver is not None:
        parsed = parsed.set(drivername=driver)
    return parsed.render_as_string(hide_password=False)


def async_url(url: str) -> str:
    """Normalise a DB URL to its async driver (`sqlite+aiosqlite`, `postgresql+psycopg`)."""
    return with_driver(url, sqlite="sqlite+aiosqlite")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for `url`; SQLite connections get the pragmas above."""
    url = async_url(url)
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    kwargs: dict[str, Any] = {"echo": echo}
    if not is_sqlite:
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
    engine = _create_async_engine(url, **kwargs)
    if is_sqlite:
        event.listen(engine.sync_engine, "do_connect", _connect_inline)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def create_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """One session per unit of work; objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
