"""Connection: how a task reaches an external system, read through the scheduler.

Example:
    from flow.sdk import Connection

    conn = Connection.get("warehouse")
    print(conn.host, conn.port, conn.extra_dejson.get("sslmode"))
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from flow.sdk import comms
from flow.sdk.exceptions import FlowException


def _normalize_conn_type(conn_type: str) -> str:
    if conn_type == "postgresql":
        return "postgres"
    return conn_type.replace("-", "_")


class Connection:
    """A connection's fields, as Airflow's: conn_id, conn_type, host, schema, login, password,
    port, extra (JSON text) and description. `uri` fills them from Airflow's URI form."""

    def __init__(self, conn_id: str | None = None, conn_type: str | None = None,
                 description: str | None = None, host: str | None = None,
                 login: str | None = None, password: str | None = None,
                 schema: str | None = None, port: int | None = None,
                 extra: str | dict[str, Any] | None = None, uri: str | None = None) -> None:
        self.conn_id = conn_id
        self.description = description
        if isinstance(extra, dict):
            extra = json.dumps(extra)
        if uri and any((conn_type, host, login, password, schema, port, extra)):
            raise ValueError("You must create an object using the URI or individual values "
                             "(conn_type, host, login, password, schema, port or extra). "
                             "You can't mix these two ways to create this object.")
        self.conn_type = conn_type
        self.host = host
        self.login = login
        self.password = password
        self.schema = schema
        self.port = port
        self.extra = extra
        if uri:
            self._parse_from_uri(uri)

    def __repr__(self) -> str:
        return f"Connection(conn_id={self.conn_id!r}, conn_type={self.conn_type!r})"

    def _parse_from_uri(self, uri: str) -> None:
        parts = urlsplit(uri)
        if not parts.scheme:
            raise ValueError(f"Invalid connection URI {uri!r}: it needs a scheme "
                             "(the conn_type), e.g. postgres://user:pass@host:5432/db")
        self.conn_type = _normalize_conn_type(parts.scheme)
        self.host = unquote(parts.hostname or "") or None
        self.schema = unquote(parts.path[1:]) if parts.path[1:] else None
        self.login = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        try:
            self.port = parts.port
        except ValueError as exc:
            raise ValueError(f"Invalid connection URI {uri!r}: {exc}") from None
        if parts.query:
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            self.extra = query["__extra__"] if "__extra__" in query else json.dumps(query)

    def get_uri(self) -> str:
        """The connection as Airflow's URI (password included: keep it out of logs)."""
        uri = f"{(self.conn_type or '').lower().replace('_', '-')}://" if self.conn_type else ""
        authority = quote(self.login, safe="") if self.login else ""
        if self.password:
            authority += ":" + quote(self.password, safe="")
        if authority:
            authority += "@"
        uri += authority
        host_block = quote(self.host, safe="") if self.host else ""
        if self.port:
            host_block += f":{self.port}" if self.host else f"@:{self.port}"
        if self.schema:
            host_block += f"/{quote(self.schema, safe='')}"
        uri += host_block
        if self.extra:
            extra = self.extra_dejson
            query: str | None
            try:
                query = urlencode(extra)
            except TypeError:
                query = None
            sep = "?" if self.schema else "/?"
            if query and extra == dict(parse_qsl(query, keep_blank_values=True)):
                uri += sep + query
            else:
                uri += sep + urlencode({"__extra__": self.extra})
        return uri

    @property
    def extra_dejson(self) -> dict[str, Any]:
        """`extra` parsed as JSON ({} when empty or not JSON, as Airflow)."""
        if not self.extra:
            return {}
        try:
            value = json.loads(self.extra)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @classmethod
    def get(cls, conn_id: str) -> Connection:
        """The connection `conn_id`, read through the scheduler.

        Raises:
            KeyError: no such connection (Airflow raises AirflowNotFoundException, a KeyError
                too in spirit; catch KeyError or FlowNotFoundException).
        """
        reply = comms.request("connection_get", conn_id=conn_id)
        if not reply.get("found"):
            raise FlowNotFoundException(f"The conn_id `{conn_id}` isn't defined")
        data = dict(reply.get("connection") or {})
        return cls(conn_id=conn_id, conn_type=data.get("conn_type") or None,
                   description=data.get("description") or None, host=data.get("host") or None,
                   login=data.get("login") or None, password=data.get("password") or None,
                   schema=data.get("schema") or None, port=data.get("port") or None,
                   extra=data.get("extra") or None)

    get_connection_from_secrets = get


class FlowNotFoundException(FlowException, KeyError):
    """A connection does not exist (Airflow's AirflowNotFoundException)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


AirflowNotFoundException = FlowNotFoundException
