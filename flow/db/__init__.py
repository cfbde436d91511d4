"""The metadata DB: typed models, the async engine and Alembic migrations (scheduler only)."""

from flow.db.engine import create_engine, create_sessions
from flow.db.migrate import upgrade_database

__all__ = ["create_engine", "create_sessions", "upgrade_database"]
