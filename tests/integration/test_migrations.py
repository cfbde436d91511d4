"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from flow.db.migrate import sync_url, upgrade_database
from flow.db.models import Base


async def test_upgrade_empty_db_matches_models(db_url: str) -> None:
    """Upgrading an empty DB to head leaves no difference from the models' metadata."""
    await upgrade_database(db_url)
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert {"dag", "serialized_dag", "dag_run", "task_instance", "task_instance_history",
            "xcom", "import_error", "variable", "connection",
            "rendered_task_instance_fields", "flow_user", "api_token", "audit_log",
            "slot_pool"} <= tables


async def test_upgrade_is_idempotent(db_url: str) -> None:
    """Running upgrade head twice is harmless (every service start runs it)."""
    await upgrade_database(db_url)
    await upgrade_database(db_url)
