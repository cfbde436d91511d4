"""Variables: create, read, list, delete; values stored as Fernet ciphertext.

Reads open their own session; writes go through the core's unit of work (the one writer).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from flow.crypto import SecretCodec
from flow.db.models import ID_LENGTH
from flow.db.models import Variable as VariableRow
from flow.errors import InvalidArgumentError, NotFoundError
from services.scheduler.core.event_applier import SchedulingCore
from services.scheduler.core.unit import UnitOfWork


@dataclass(frozen=True)
class VariableRecord:
    """A variable with its value in plain text."""

    key: str
    value: str
    description: str = ""


def _not_found(key: str) -> NotFoundError:
    return NotFoundError(f"Variable '{key}' does not exist; see 'flowcli variables list'.",
                         reason="VARIABLE_NOT_FOUND", metadata={"key": key})


def validate_key(key: str, field: str = "key") -> str:
    if not key or not key.strip():
        raise InvalidArgumentError("A variable key is required.", field=field)
    if len(key) > ID_LENGTH:
        raise InvalidArgumentError(f"A variable key has at most {ID_LENGTH} characters.",
                                   field=field)
    return key


class Variables:
    """The variable table through the scheduler's sessions and single writer."""

    def __init__(self, core: SchedulingCore, codec: SecretCodec) -> None:
        self._core = core
        self._codec = codec

    def _record(self, row: VariableRow) -> VariableRecord:
        return VariableRecord(row.key, self._codec.decrypt(row.val), row.description or "")

    async def get(self, key: str) -> VariableRecord:
        validate_key(key)
        async with self._core.sessions() as session:
            row = await session.get(VariableRow, key)
        if row is None:
            raise _not_found(key)
        return self._record(row)

    async def value(self, key: str) -> str:
        """The plain value of `key` (NotFoundError when it does not exist)."""
        return (await self.get(key)).value

    async def list(self, offset: int, limit: int) -> list[VariableRecord]:
        async with self._core.sessions() as session:
            rows = (await session.execute(select(VariableRow).order_by(VariableRow.key)
                                          .offset(offset).limit(limit))).scalars().all()
        return [self._record(r) for r in rows]

    async def set(self, record: VariableRecord) -> VariableRecord:
        """Create or replace; the value is encrypted before the write is queued."""
        validate_key(record.key, "variable.key")
        ciphertext = self._codec.encrypt(record.value)

        async def op(unit: UnitOfWork) -> None:
            row = await unit.session.get(VariableRow, record.key)
            if row is None:
                unit.session.add(VariableRow(key=record.key, val=ciphertext,
                                             description=record.description,
                                             updated_at=unit.now))
            else:
                row.val, row.description, row.updated_at = (
                    ciphertext, record.description, unit.now)

        await self._core.submit(op)
        return record

    async def delete(self, key: str) -> None:
        validate_key(key)

        async def op(unit: UnitOfWork) -> int:
            result = await unit.session.execute(delete(VariableRow).where(VariableRow.key == key))
            return int(result.rowcount)  # type: ignore[attr-defined]

        if not await self._core.submit(op):
            raise _not_found(key)
