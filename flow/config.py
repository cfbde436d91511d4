"""The one configuration object: `$FLOW_HOME/flow.toml`, then `FLOW_<SECTION>__<KEY>` overrides.

Loaded once in each service's `app.main()` and passed down; nothing reads it at import time.
Every value is validated at load, and errors name the key and the bad value.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flow.errors import InvalidArgumentError

# Settings user code must never see: API and service tokens, the metadata DB (URL and
# password), the key that decrypts variables and connections, standalone's admin password.
CREDENTIAL_SETTINGS = ("FLOW_AUTH__", "FLOW_DATABASE__", "FLOW_CORE__FERNET_KEY",
                       "FLOW_ADMIN_PASSWORD")


def is_credential_setting(name: str) -> bool:
    return name.startswith(CREDENTIAL_SETTINGS)


def without_credentials(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """`environ` without the platform's credential settings: the environment of user code
    (task processes, DAG-file parsers)."""
    return {k: v for k, v in environ.items() if not is_credential_setting(k)}


def default_home(environ: Mapping[str, str] = os.environ) -> pathlib.Path:
    """`$FLOW_HOME`, else `~/flow`."""
    return pathlib.Path(environ.get("FLOW_HOME") or pathlib.Path.home() / "flow").expanduser()


@dataclass(frozen=True)
class CoreConfig:
    """Paths shared by every service."""

    dags_folder: str = ""  # default: $FLOW_HOME/dags
    max_xcom_size: int = 1 << 20  # bytes of serialized JSON per XCom value
    # Fernet key(s) for variables and connections, comma-separated for rotation (the first
    # encrypts); standalone and the test platform keep one in $FLOW_HOME/fernet.key.
    fernet_key: str = field(default="", repr=False)
    # Airflow's [core] dag_run_conf_overrides_params: trigger conf replaces param values.
    dag_run_conf_overrides_params: bool = True
    # Airflow's [core] dags_are_paused_at_creation, default False here so that the quick
    # start's scheduled DAGs run; a DAG's is_paused_upon_creation argument wins.
    dags_are_paused_at_creation: bool = False
    # Airflow's [core] parallelism: task instances queued or running at once in the whole
    # installation (0: no limit).
    parallelism: int = 32
    # Airflow's [core] default_pool_task_slot_count: the slots of `default_pool` when the
    # scheduler creates it (an existing pool keeps its size; change it with `pools set`).
    default_pool_task_slot_count: int = 128
    # Airflow's [core] max_active_tasks_per_dag: the limit of a DAG that sets none.
    max_active_tasks_per_dag: int = 16
    # Airflow's [core] max_map_length: a mapped task has at most this many instances (the
    # scheduler and the workers both check it: set it alike on every machine).
    max_map_length: int = 1024


@dataclass(frozen=True)
class DatabaseConfig:
    """The metadata DB (scheduler only). SQLite file under $FLOW_HOME by default."""

    url: str = field(default="", repr=False)  # may hold a password
    echo: bool = False


@dataclass(frozen=True)
class NatsConfig:
    """The NATS JetStream connection and stream settings."""

    url: str = field(default="nats://127.0.0.1:4222", repr=False)
    replicas: int = 1
    duplicate_window_seconds: float = 120.0
    ack_wait_seconds: float = 30.0
    max_deliver: int = 5
    heartbeat_ttl_seconds: float = 30.0


@dataclass(frozen=True)
class SchedulerConfig:
    """The scheduler's gRPC listener and DAG processing."""

    grpc_bind: str = "127.0.0.1:50052"
    address: str = "127.0.0.1:50052"  # how other services reach it
    parse_timeout_seconds: float = 30.0
    parse_interval_seconds: float = 30.0
    parse_processes: int = 2


@dataclass(frozen=True)
class WorkerConfig:
    """A worker's queues and slots."""

    queues: tuple[str, ...] = ("default",)
    concurrency: int = 16
    worker_id: str = ""  # default: <hostname>-<pid>
    heartbeat_interval_seconds: float = 5.0
    kill_grace_seconds: float = 5.0


@dataclass(frozen=True)
class LogServerConfig:
    """The log service's listener and storage."""

    grpc_bind: str = "127.0.0.1:50053"
    address: str = "127.0.0.1:50053"
    base_dir: str = ""  # default: $FLOW_HOME/logs
    retention_days: int = 30


@dataclass(frozen=True)
class ApiConfig:
    """The gateway's HTTP and public gRPC listeners."""

    http_bind: str = "127.0.0.1:8080"
    grpc_bind: str = "127.0.0.1:50051"


@dataclass(frozen=True)
class AuthConfig:
    """Credentials. `token`: the bootstrap credential, an admin named "bootstrap" at the
    gateway (empty: none; users and their tokens live in the DB). `internal_token`: between
    services. `session_ttl_seconds`: how long a web UI sign-in lasts."""

    token: str = field(default="", repr=False)
    internal_token: str = field(default="", repr=False)
    session_ttl_seconds: int = 12 * 3600


@dataclass(frozen=True)
class TlsConfig:
    """TLS for every gRPC and HTTP listener and the channels between services: off unless
    `cert_file` and `key_file` (PEM) are set. `ca_file` is the root clients trust (empty: the
    system's roots)."""

    cert_file: str = ""
    key_file: str = ""
    ca_file: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.cert_file)


@dataclass(frozen=True)
class SmtpConfig:
    """The mail server EmailOperator uses when its connection id names no connection
    (Airflow's [smtp] section, with its defaults)."""

    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = True
    ssl: bool = False
    mail_from: str = "flow@example.com"
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class FlowConfig:
    """Every section, plus the home directory they default under."""

    home: pathlib.Path
    core: CoreConfig = CoreConfig()
    database: DatabaseConfig = DatabaseConfig()
    nats: NatsConfig = NatsConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    worker: WorkerConfig = WorkerConfig()
    logserver: LogServerConfig = LogServerConfig()
    api: ApiConfig = ApiConfig()
    auth: AuthConfig = AuthConfig()
    smtp: SmtpConfig = SmtpConfig()
    tls: TlsConfig = TlsConfig()

    @property
    def dags_folder(self) -> pathlib.Path:
        return pathlib.Path(self.core.dags_folder or self.home / "dags").expanduser()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite+aiosqlite:///{self.home / 'flow.db'}"

    @property
    def logs_dir(self) -> pathlib.Path:
        return pathlib.Path(self.logserver.base_dir or self.home / "logs").expanduser()


_SECTIONS: dict[str, type[Any]] = {
    f.name: typing.get_type_hints(FlowConfig)[f.name]
    for f in dataclasses.fields(FlowConfig)
    if f.name != "home"
}


def _convert(key: str, raw: object, annotation: object) -> object:
    """Turn a TOML or environment value into the field's type, or name the key in the error."""
    try:
        if annotation is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError
        if annotation is int:
            if isinstance(raw, bool):
                raise ValueError
            return int(str(raw))
        if annotation is float:
            return float(str(raw))
        if annotation is str:
            return str(raw)
        if typing.get_origin(annotation) is tuple:
            items = raw if isinstance(raw, list) else str(raw).split(",")
            return tuple(str(i).strip() for i in items if str(i).strip())
    except ValueError:
        pass
    else:
        raise TypeError(f"unsupported config type {annotation!r}")
    raise InvalidArgumentError(
        f"Config '{key}' has value {raw!r}. "
        f"Not a valid {getattr(annotation, '__name__', annotation)}.",
        field=key,
        reason="INVALID_CONFIG",
    )


def load_config(
    environ: Mapping[str, str] = os.environ, path: pathlib.Path | None = None
) -> FlowConfig:
    """Read `$FLOW_HOME/flow.toml` (or `path`), then `FLOW_<SECTION>__<KEY>` overrides."""
    home = default_home(environ)
    path = path or pathlib.Path(environ.get("FLOW_CONFIG") or home / "flow.toml")
    data: dict[str, dict[str, object]] = {}
    if path.is_file():
        with path.open("rb") as fh:
            loaded = tomllib.load(fh)
        for section, values in loaded.items():
            if section not in _SECTIONS or not isinstance(values, dict):
                raise InvalidArgumentError(
                    f"Config file {path} has unknown section [{section}].", field=section,
                    reason="INVALID_CONFIG")
            data[section] = dict(values)
    for name, value in environ.items():
        if not name.startswith("FLOW_") or "__" not in name:
            continue
        section, _, key = name[5:].lower().partition("__")
        if section not in _SECTIONS:
            raise InvalidArgumentError(
                f"Environment variable {name} names unknown section '{section}'.", field=name,
                reason="INVALID_CONFIG")
        data.setdefault(section, {})[key] = value
    sections: dict[str, object] = {}
    for section, values in data.items():
        cls = _SECTIONS[section]
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, object] = {}
        for key, raw in values.items():
            if key not in hints:
                raise InvalidArgumentError(
                    f"Config '{section}.{key}' is not a known setting "
                    f"(known: {', '.join(sorted(hints))}).",
                    field=f"{section}.{key}", reason="INVALID_CONFIG")
            kwargs[key] = _convert(f"FLOW_{section.upper()}__{key.upper()}", raw, hints[key])
        sections[section] = cls(**kwargs)
    config = FlowConfig(home=home, **sections)  # type: ignore[arg-type]
    _validate(config)
    return config


def _validate(config: FlowConfig) -> None:
    if config.auth.session_ttl_seconds < 1:
        raise InvalidArgumentError(
            f"Config 'FLOW_AUTH__SESSION_TTL_SECONDS' has value "
            f"{config.auth.session_ttl_seconds}. Must be at least 1.",
            field="auth.session_ttl_seconds", reason="INVALID_CONFIG")
    for name, value, least in (
            ("parallelism", config.core.parallelism, 0),
            ("default_pool_task_slot_count", config.core.default_pool_task_slot_count, 0),
            ("max_active_tasks_per_dag", config.core.max_active_tasks_per_dag, 1),
            ("max_map_length", config.core.max_map_length, 1)):
        if value < least:
            raise InvalidArgumentError(
                f"Config 'FLOW_CORE__{name.upper()}' has value {value}. Must be at least "
                f"{least}.", field=f"core.{name}", reason="INVALID_CONFIG")
    if config.worker.concurrency < 1:
        raise InvalidArgumentError(
            f"Config 'FLOW_WORKER__CONCURRENCY' has value {config.worker.concurrency}. "
            "Must be at least 1.", field="worker.concurrency", reason="INVALID_CONFIG")
    if not config.worker.queues:
        raise InvalidArgumentError("Config 'FLOW_WORKER__QUEUES' is empty. Name a queue.",
                                   field="worker.queues", reason="INVALID_CONFIG")
    for queue in config.worker.queues:
        if not queue.replace("_", "").replace("-", "").isalnum():
            raise InvalidArgumentError(
                f"Config 'FLOW_WORKER__QUEUES' has queue {queue!r}. Queue names are letters, "
                "digits, '-' and '_'.", field="worker.queues", reason="INVALID_CONFIG")


def replace(config: FlowConfig, **sections: Mapping[str, object]) -> FlowConfig:
    """A copy with some keys of some sections changed: replace(c, worker={"concurrency": 2})."""
    changes: dict[str, object] = {}
    for name, values in sections.items():
        changes[name] = dataclasses.replace(getattr(config, name), **values)
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


__all__ = [
    "ApiConfig", "AuthConfig", "CoreConfig", "DatabaseConfig", "FlowConfig", "LogServerConfig",
    "NatsConfig", "SchedulerConfig", "SmtpConfig", "WorkerConfig", "default_home", "load_config",
    "replace",
]
