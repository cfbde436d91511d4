"""Run Alembic `upgrade head` programmatically, with no alembic.ini (as services start)."""

from __future__ import annotations

import asyncio
import pathlib

from alembic import command
from alembic.config import Config

from flow.db.engine import with_driver

MIGRATIONS_DIR = pathlib.Path(__file__).parent / "migrations"


def sync_url(url: str) -> str:
    """Alembic runs synchronously: `sqlite+aiosqlite` → `sqlite`; psycopg 3 serves both."""
    return with_driver(url, sqlite="sqlite")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["sqlalchemy_url"] = sync_url(url)
    return config


def upgrade_database_sync(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


async def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the DB at `url` to `revision`, in a thread (Alembic is synchronous)."""
    await asyncio.to_thread(upgrade_database_sync, url, revision)
