"""Connections: create, read, list, delete; password and extra stored as Fernet ciphertext.

The public control plane gets them with the password masked; only the task-execution service
(a running task's Connection.get) gets it in plain text.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from flow.crypto import SecretCodec
from flow.db.models import ID_LENGTH
from flow.db.models import Connection as ConnectionRow
from flow.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from flow.log import MASK
from services.scheduler.core.event_applier import SchedulingCore
from services.scheduler.core.unit import UnitOfWork


@dataclass(frozen=True)
class ConnectionRecord:
    """A connection with its secrets in plain text."""

    conn_id: str
    conn_type: str
    description: str = ""
    host: str = ""
    schema: str = ""
    login: str = ""
    password: str = ""
    port: int | None = None
    extra: str = ""

    def masked(self) -> ConnectionRecord:
        """The same connection with the password replaced by `***` (when one is set)."""
        return dataclasses.replace(self, password=MASK if self.password else "")


# The fields UpdateConnection may replace.
UPDATABLE = ("conn_type", "description", "host", "schema", "login", "password", "port",
             "extra")


def _not_found(conn_id: str) -> NotFoundError:
    return NotFoundError(f"Connection '{conn_id}' does not exist; see 'flowcli connections "
                         "list'.", reason="CONNECTION_NOT_FOUND", metadata={"conn_id": conn_id})


def _validate(record: ConnectionRecord) -> None:
    if not record.conn_id.strip() or len(record.conn_id) > ID_LENGTH:
        raise InvalidArgumentError(
            f"connection.conn_id is required, at most {ID_LENGTH} characters.",
            field="connection.conn_id")
    if not record.conn_type.strip():
        raise InvalidArgumentError("connection.conn_type is required (e.g. 'http', 'postgres').",
                                   field="connection.conn_type")
    if record.port is not None and not 0 < record.port < 65536:
        raise InvalidArgumentError(f"connection.port must be 1-65535, got {record.port}.",
                                   field="connection.port")
    if record.extra:
        try:
            extra = json.loads(record.extra)
        except ValueError:
            extra = None
        if not isinstance(extra, dict):
            raise InvalidArgumentError("connection.extra must be JSON text of an object.",
                                       field="connection.extra")


class Connections:
    """The connection table through the scheduler's sessions and single writer."""

    def __init__(self, core: SchedulingCore, codec: SecretCodec) -> None:
        self._core = core
        self._codec = codec

    def _record(self, row: ConnectionRow) -> ConnectionRecord:
        return ConnectionRecord(
            conn_id=row.conn_id, conn_type=row.conn_type, description=row.description or "",
            host=row.host or "", schema=row.schema or "", login=row.login or "",
            password=self._codec.decrypt(row.password), port=row.port,
            extra=self._codec.decrypt(row.extra))

    async def get(self, conn_id: str) -> ConnectionRecord:
        if not conn_id:
            raise InvalidArgumentError("conn_id is required.", field="conn_id")
        async with self._core.sessions() as session:
            row = await session.get(ConnectionRow, conn_id)
        if row is None:
            raise _not_found(conn_id)
        return self._record(row)

    async def fields(self, conn_id: str) -> dict[str, Any]:
        """The connection as the SDK's Connection fields, password in plain text."""
        record = await self.get(conn_id)
        return {"conn_type": record.conn_type, "description": record.description,
                "host": record.host, "schema": record.schema, "login": record.login,
                "password": record.password, "port": record.port, "extra": record.extra}

    async def list(self, offset: int, limit: int) -> list[ConnectionRecord]:
        async with self._core.sessions() as session:
            rows = (await session.execute(select(ConnectionRow).order_by(ConnectionRow.conn_id)
                                          .offset(offset).limit(limit))).scalars().all()
        return [self._record(r) for r in rows]

    async def create(self, record: ConnectionRecord) -> ConnectionRecord:
        _validate(record)
        password, extra = self._codec.encrypt(record.password), self._codec.encrypt(record.extra)

        async def op(unit: UnitOfWork) -> None:
            if await unit.session.get(ConnectionRow, record.conn_id) is not None:
                raise AlreadyExistsError(
                    f"Connection '{record.conn_id}' already exists; delete it first.",
                    reason="CONNECTION_EXISTS", metadata={"conn_id": record.conn_id})
            unit.session.add(ConnectionRow(
                conn_id=record.conn_id, conn_type=record.conn_type,
                description=record.description, host=record.host, schema=record.schema,
                login=record.login, password=password, port=record.port, extra=extra,
                updated_at=unit.now))

        await self._core.submit(op)
        return record

    async def update(self, conn_id: str, values: ConnectionRecord,
                     paths: Sequence[str]) -> ConnectionRecord:
        """Replace the fields named in `paths` (every field when empty) of `conn_id`; a
        password of `***` keeps the stored one."""
        if not conn_id:
            raise InvalidArgumentError("conn_id is required.", field="conn_id")
        unknown = sorted(set(paths) - set(UPDATABLE))
        if unknown:
            raise InvalidArgumentError(
                f"update_mask names unknown fields {unknown}; use {list(UPDATABLE)}.",
                field="update_mask")
        wanted = [p for p in UPDATABLE if p in paths] if paths else list(UPDATABLE)
        if values.password == MASK:
            wanted = [p for p in wanted if p != "password"]

        async def op(unit: UnitOfWork) -> ConnectionRecord:
            row = await unit.session.get(ConnectionRow, conn_id)
            if row is None:
                raise _not_found(conn_id)
            record = dataclasses.replace(self._record(row), **{
                p: getattr(values, p) for p in wanted})
            _validate(record)
            for name in wanted:
                value = getattr(record, name)
                setattr(row, name, self._codec.encrypt(value) if name in ("password", "extra")
                        else value)
            row.updated_at = unit.now
            return record

        return await self._core.submit(op)

    async def delete(self, conn_id: str) -> None:
        if not conn_id:
            raise InvalidArgumentError("conn_id is required.", field="conn_id")

        async def op(unit: UnitOfWork) -> int:
            result = await unit.session.execute(
                delete(ConnectionRow).where(ConnectionRow.conn_id == conn_id))
            return int(result.rowcount)  # type: ignore[attr-defined]

        if not await self._core.submit(op):
            raise _not_found(conn_id)
