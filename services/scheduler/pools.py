"""Pools: create, read, list, update, delete, with their occupancy.

Writes go through the core's unit of work, which also updates the admission's copy of the
pools, so a bigger (or new) pool lets waiting tasks run in the same batch.
"""

from __future__ import annotations

from flow.db.models import Pool
from flow.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from services.scheduler.core.admission import DEFAULT_POOL, PoolUsage
from services.scheduler.core.event_applier import SchedulingCore
from services.scheduler.core.unit import UnitOfWork

NAME_LENGTH = 256


def _not_found(name: str) -> NotFoundError:
    return NotFoundError(f"Pool '{name}' does not exist; see 'flowcli pools list'.",
                         reason="POOL_NOT_FOUND", metadata={"pool": name})


def validate_name(name: str, field: str = "name") -> str:
    if not name or not name.strip():
        raise InvalidArgumentError("A pool name is required.", field=field)
    if len(name) > NAME_LENGTH:
        raise InvalidArgumentError(f"A pool name has at most {NAME_LENGTH} characters.",
                                   field=field)
    return name


def validate_slots(slots: int, field: str = "slots") -> int:
    if slots < 0:
        raise InvalidArgumentError(f"slots must be 0 or more; got {slots}.", field=field,
                                   reason="INVALID_POOL_SLOTS")
    return slots


class Pools:
    """The slot_pool table through the scheduler's single writer; occupancy from the core."""

    def __init__(self, core: SchedulingCore) -> None:
        self._core = core

    def _usage(self, name: str) -> PoolUsage:
        usage = self._core.admission.usage(name)
        if usage is None:
            raise _not_found(name)
        return usage

    async def get(self, name: str) -> PoolUsage:
        validate_name(name)
        return self._usage(name)

    async def list(self, offset: int, limit: int) -> list[PoolUsage]:
        names = sorted(self._core.admission.pools)[offset:offset + limit]
        return [self._usage(n) for n in names]

    async def ensure_default(self, slots: int) -> None:
        """Create default_pool with `slots` when it does not exist (Airflow's db init)."""

        async def op(unit: UnitOfWork) -> None:
            if await unit.session.get(Pool, DEFAULT_POOL) is None:
                unit.session.add(Pool(pool=DEFAULT_POOL, slots=slots,
                                      description="Default pool"))
                self._core.admission.pools[DEFAULT_POOL] = (slots, "Default pool")
            self._core.admission.dirty = True

        await self._core.submit(op)

    async def create(self, name: str, slots: int, description: str) -> PoolUsage:
        validate_name(name, "pool.name")
        validate_slots(slots, "pool.slots")

        async def op(unit: UnitOfWork) -> None:
            if await unit.session.get(Pool, name) is not None:
                raise AlreadyExistsError(
                    f"Pool '{name}' already exists; change it with UpdatePool "
                    f"(flowcli pools set {name} SLOTS DESCRIPTION).",
                    reason="POOL_EXISTS", metadata={"pool": name})
            unit.session.add(Pool(pool=name, slots=slots, description=description))
            self._core.admission.pools[name] = (slots, description)
            self._core.admission.dirty = True

        await self._core.submit(op)
        return self._usage(name)

    async def update(self, name: str, slots: int, description: str, *,
                     upsert: bool = False) -> PoolUsage:
        """Set a pool's slots and description; with `upsert`, create it when missing
        (Airflow's `pools set`)."""
        validate_name(name, "pool.name")
        validate_slots(slots, "pool.slots")

        async def op(unit: UnitOfWork) -> None:
            row = await unit.session.get(Pool, name)
            if row is None and not upsert:
                raise _not_found(name)
            if row is None:
                unit.session.add(Pool(pool=name, slots=slots, description=description))
            else:
                row.slots, row.description = slots, description
            self._core.admission.pools[name] = (slots, description)
            self._core.admission.dirty = True

        await self._core.submit(op)
        return self._usage(name)

    async def delete(self, name: str) -> None:
        validate_name(name)
        if name == DEFAULT_POOL:
            raise FailedPreconditionError("default_pool cannot be deleted (Airflow's rule); "
                                          "change its slots instead.",
                                          reason="DEFAULT_POOL_UNDELETABLE")

        async def op(unit: UnitOfWork) -> None:
            row = await unit.session.get(Pool, name)
            if row is None:
                raise _not_found(name)
            await unit.session.delete(row)
            self._core.admission.pools.pop(name, None)

        await self._core.submit(op)
