"""Where provider operators read a connection's settings (host, port, login, password).

Operators call `lookup(conn_id)`. It uses the SDK's `Connection.get` (read through the
scheduler) when the SDK provides one; without it, or when the id is unknown, it returns None
and each operator falls back to its own settings (EmailOperator: the `[smtp]` config
section; HttpOperator: a full URL in `endpoint`).

Contract with `Connection.get(conn_id)`: it returns an object with Airflow's attributes
(conn_type, host, port, login, password, schema, extra_dejson), and returns None or raises a
LookupError subclass when no such connection exists; any other error propagates.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ConnectionSettings:
    """The fields of an Airflow connection that operators use."""

    conn_id: str
    conn_type: str = ""
    host: str = ""
    port: int | None = None
    login: str = ""
    password: str = ""
    schema: str = ""
    extra: dict[str, Any] | None = None


def lookup(conn_id: str | None) -> ConnectionSettings | None:
    """The connection `conn_id`, or None when there is no such connection (or no API)."""
    if not conn_id:
        return None
    connection_class = getattr(importlib.import_module("flow.sdk"), "Connection", None)
    if connection_class is None:
        return None
    try:
        conn = connection_class.get(conn_id)
    except LookupError:
        return None
    if conn is None:
        return None
    extra = getattr(conn, "extra_dejson", None)
    port = getattr(conn, "port", None)
    return ConnectionSettings(
        conn_id=conn_id, conn_type=str(getattr(conn, "conn_type", "") or ""),
        host=str(getattr(conn, "host", "") or ""), port=int(port) if port else None,
        login=str(getattr(conn, "login", "") or ""),
        password=str(getattr(conn, "password", "") or ""),
        schema=str(getattr(conn, "schema", "") or ""),
        extra=dict(extra) if isinstance(extra, dict) else None)
