"""SQLAlchemy 2.0 models of the metadata DB. Only the scheduler opens them.

Enums are stored as their Airflow string values (`up_for_retry`), datetimes as UTC.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Enum,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flow.states import DagRunState, DagRunType, TaskInstanceState

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s__%(column_0_N_name)s",
    "uq": "uq_%(table_name)s__%(column_0_N_name)s",
    "ck": "ck_%(table_name)s__%(constraint_name)s",
    "fk": "fk_%(table_name)s__%(column_0_N_name)s__%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
ID_LENGTH = 250


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC; naive values are rejected."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_values(cls: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in cls]


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=enum_values,
                validate_strings=True, create_constraint=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UtcDateTime}


class Dag(Base):
    __tablename__ = "dag"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    fileloc: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(Text)
    is_paused: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    schedule: Mapped[str | None] = mapped_column(String(1000))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    owners: Mapped[list[str]] = mapped_column(JSON, default=list)
    doc_md: Mapped[str | None] = mapped_column(Text)
    last_parsed_time: Mapped[datetime | None]
    # The next scheduled run, as Airflow's dag table keeps it: its logical date and data
    # interval, and when it may be created. next_dagrun_create_after is the DAG's persisted
    # timer: the scheduler re-arms it from here after a restart.
    next_dagrun: Mapped[datetime | None]
    next_dagrun_data_interval_start: Mapped[datetime | None]
    next_dagrun_data_interval_end: Mapped[datetime | None]
    next_dagrun_create_after: Mapped[datetime | None]


class SerializedDag(Base):
    __tablename__ = "serialized_dag"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    data: Mapped[str] = mapped_column(Text)  # the JSON of flow.sdk.serialization.serialize_dag
    dag_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class DagRun(Base):
    __tablename__ = "dag_run"
    __table_args__ = (UniqueConstraint("dag_id", "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    state: Mapped[DagRunState] = mapped_column(_enum(DagRunState), index=True)
    run_type: Mapped[DagRunType] = mapped_column(_enum(DagRunType))
    logical_date: Mapped[datetime]
    data_interval_start: Mapped[datetime | None]
    data_interval_end: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    start_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]
    conf: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    backfill_id: Mapped[int | None] = mapped_column(Integer, index=True)


class Backfill(Base):
    """A backfill: runs of a DAG over a range of logical dates, created by the scheduler."""

    __tablename__ = "backfill"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    from_date: Mapped[datetime]
    to_date: Mapped[datetime]
    reprocess_behavior: Mapped[str] = mapped_column(String(20), default="none")
    max_active_runs: Mapped[int] = mapped_column(default=10)
    dag_run_conf: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="running")  # running|completed|cancelled
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class TaskInstance(Base):
    __tablename__ = "task_instance"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    map_index: Mapped[int] = mapped_column(primary_key=True, default=-1)
    try_number: Mapped[int] = mapped_column(default=0)
    max_tries: Mapped[int] = mapped_column(default=1)
    # Airflow's `None` is stored explicitly as "none", so `state IN (...)` guards can name it.
    state: Mapped[TaskInstanceState] = mapped_column(_enum(TaskInstanceState), index=True)
    operator: Mapped[str] = mapped_column(String(250), default="")
    queue: Mapped[str] = mapped_column(String(250), default="default")
    pool: Mapped[str] = mapped_column(String(250), default="default_pool")
    pool_slots: Mapped[int] = mapped_column(default=1)
    priority_weight: Mapped[int] = mapped_column(default=1)
    start_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]
    duration: Mapped[float | None] = mapped_column(Float)
    hostname: Mapped[str] = mapped_column(String(1000), default="")
    worker_id: Mapped[str] = mapped_column(String(250), default="")
    queued_at: Mapped[datetime | None]
    next_retry_at: Mapped[datetime | None]


class TaskInstanceHistory(Base):
    """One row per finished try of a task instance."""

    __tablename__ = "task_instance_history"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    map_index: Mapped[int] = mapped_column(primary_key=True)
    try_number: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[TaskInstanceState] = mapped_column(_enum(TaskInstanceState))
    start_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]
    duration: Mapped[float | None] = mapped_column(Float)
    hostname: Mapped[str] = mapped_column(String(1000), default="")
    worker_id: Mapped[str] = mapped_column(String(250), default="")
    error: Mapped[str | None] = mapped_column(Text)


class XCom(Base):
    __tablename__ = "xcom"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    map_index: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)  # JSON bytes
    content_type: Mapped[str] = mapped_column(String(100), default="application/json")
    timestamp: Mapped[datetime]


class ImportError_(Base):
    """A DAG file that failed to import (the trailing underscore avoids the builtin)."""

    __tablename__ = "import_error"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    filename: Mapped[str] = mapped_column(String(2000), unique=True)
    stacktrace: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[datetime]


class Variable(Base):
    """A Variable (Airflow's `variable` table); `val` is Fernet ciphertext."""

    __tablename__ = "variable"

    key: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    val: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]


class Connection(Base):
    """A Connection (Airflow's `connection` table); password and extra are Fernet ciphertext."""

    __tablename__ = "connection"

    conn_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    conn_type: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str] = mapped_column(String(500), default="")
    schema: Mapped[str] = mapped_column(String(500), default="")
    login: Mapped[str] = mapped_column(Text, default="")
    password: Mapped[str] = mapped_column(Text, default="")
    port: Mapped[int | None] = mapped_column(Integer)
    extra: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]


class RenderedTaskInstanceFields(Base):
    """The rendered template fields of a task instance's latest try (Airflow's table name)."""

    __tablename__ = "rendered_task_instance_fields"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    map_index: Mapped[int] = mapped_column(primary_key=True)
    try_number: Mapped[int] = mapped_column(default=1)
    rendered_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Pool(Base):
    """A pool of slots that limits how many task instances run at once (Airflow's
    `slot_pool`). A queued or running attempt holds its task's pool_slots."""

    __tablename__ = "slot_pool"

    pool: Mapped[str] = mapped_column(String(256), primary_key=True)
    slots: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")


Index("ix_dag_run__dag_id__logical_date", DagRun.dag_id, DagRun.logical_date)


# --- users, API tokens, UI sessions and the audit log (the gateway's authentication) -----


class User(Base):
    """A person or program that signs in; `role` is viewer, user, op or admin."""

    __tablename__ = "flow_user"

    username: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(Text)  # scrypt (flow/identity.py)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ApiToken(Base):
    """An API token (kind "api") or a UI session (kind "session") of a user. Only the
    SHA-256 of the secret is stored; a token carries its owner's current role."""

    __tablename__ = "api_token"

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(ID_LENGTH))
    prefix: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who did what through the gateway: mutations, sign-ins, user and token changes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    operation: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(100))  # "ok" or the error's reason
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- assets (data-aware scheduling) -------------------------------------------------------


class AssetEvent(Base):
    """An update of an asset: a task that lists it in its outlets succeeded."""

    __tablename__ = "asset_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uri: Mapped[str] = mapped_column(String(1500), index=True)
    source_dag_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    source_run_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    source_task_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    source_map_index: Mapped[int] = mapped_column(default=-1)
    timestamp: Mapped[datetime] = mapped_column(index=True)


class DagScheduleAsset(Base):
    """A DAG scheduled on an asset (kept from the DAG's parsed schedule)."""

    __tablename__ = "dag_schedule_asset"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    uri: Mapped[str] = mapped_column(String(1500), primary_key=True)


class AssetDagRunQueue(Base):
    """An asset updated since the DAG's last asset-triggered run (Airflow's
    asset_dag_run_queue): the DAG runs once every asset of its schedule has a row."""

    __tablename__ = "asset_dag_run_queue"

    target_dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    uri: Mapped[str] = mapped_column(String(1500), primary_key=True)
    created_at: Mapped[datetime]


# No interval is ever run twice by the scheduler: one scheduled or backfill run per logical
# date of a DAG, enforced by the DB (manual runs may share a logical date, as in Airflow 3).
_AUTOMATED = text("run_type IN ('scheduled', 'backfill')")
Index("uq_dag_run__dag_id__logical_date__automated", DagRun.dag_id, DagRun.logical_date,
      unique=True, sqlite_where=_AUTOMATED, postgresql_where=_AUTOMATED)
# --- DAGs submitted as data (DagSpecService) -----------------------------------------------


class DagSpecVersion(Base):
    """One stored version of a DAG submitted as data: the flow.v1.DagSpec as canonical JSON.
    Versions are immutable; a changed submission adds the next one."""

    __tablename__ = "dag_spec"

    dag_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    spec: Mapped[str] = mapped_column(Text)  # flow.sdk.dagspec.canonical_json
    spec_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
