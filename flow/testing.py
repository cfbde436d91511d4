"""Helpers for tests and benchmarks: throw-away PostgreSQL databases."""

from __future__ import annotations

from sqlalchemy.engine import make_url


def _admin_url(base: str) -> str:
    url = make_url(base).set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def create_postgres_database(base: str, name: str) -> str:
    """Create database `name` on the server of `base`; return its async URL."""
    import psycopg

    admin = make_url(_admin_url(base))
    with psycopg.connect(
        host=admin.host or "127.0.0.1", port=admin.port or 5432, user=admin.username,
        password=admin.password, dbname=admin.database or "postgres", autocommit=True,
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(base: str, name: str) -> None:
    """Drop database `name`, disconnecting whoever is still connected."""
    import psycopg

    admin = make_url(_admin_url(base))
    with psycopg.connect(
        host=admin.host or "127.0.0.1", port=admin.port or 5432, user=admin.username,
        password=admin.password, dbname=admin.database or "postgres", autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
