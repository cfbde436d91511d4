"""Start the whole platform as one process tree: nats-server and the four services.

Used by `flowcli standalone`, the end-to-end tests and the benchmarks, so all three start
the platform the same way. Each service binds the ports it is told (0 picks a free one) and
reports what it bound in its ready file (docs/internals.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flow.config import TlsConfig, load_config
from flow.crypto import load_or_create_key, new_token
from flow.natsserver import NatsServer

SERVICES = ("logserver", "scheduler", "worker", "api")


@dataclass
class WorkerSpec:
    """One worker process: its queues and slots."""

    queues: Sequence[str] = ("default",)
    concurrency: int = 8


@dataclass
class ServiceProcess:
    """A running service: its process, ready info and log file."""

    name: str
    args: list[str]
    env: dict[str, str]
    ready_file: pathlib.Path
    log_path: pathlib.Path
    proc: subprocess.Popen[bytes] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def start(self) -> None:
        self.ready_file.unlink(missing_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            self.proc = subprocess.Popen(
                self.args, env=self.env, stdout=log_file, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self, deadline: float) -> dict[str, Any]:
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.ready_file.exists():
                with contextlib.suppress(ValueError):
                    self.info = json.loads(self.ready_file.read_text())
                    return self.info
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode} before it was ready:\n"
                    + self.log_tail())
            time.sleep(0.01)
        raise RuntimeError(f"{self.name} was not ready in time:\n{self.log_tail()}")

    def log_tail(self, size: int = 4000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-size:].decode(errors="replace")

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def stop(self, grace: float = 10.0) -> None:
        if self.proc is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait()
        # whatever else is left in the service's process group (task processes and DAG
        # templates have sessions of their own and end with the worker's sockets)
        self.signal(signal.SIGKILL)


@dataclass
class PlatformAddresses:
    """Where clients reach a started platform."""

    grpc: str
    http: str
    token: str  # the bootstrap token (FLOW_AUTH__TOKEN): an admin at the gateway
    nats_url: str
    ca_file: str = ""  # with TLS on: the root a client trusts (FLOW_TLS__CA_FILE)


class Platform:
    """nats-server + logserver + scheduler + workers + api, under one FLOW_HOME."""

    def __init__(
        self,
        home: pathlib.Path,
        *,
        dags_folder: pathlib.Path,
        database_url: str | None = None,
        host: str = "127.0.0.1",
        http_port: int = 0,
        grpc_port: int = 0,
        workers: Sequence[WorkerSpec] = (WorkerSpec(),),
        token: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        nats_url: str | None = None,
        inherit_flow_env: bool = False,
    ) -> None:
        """`inherit_flow_env` passes this process's FLOW_* settings on to every service
        (standalone does; tests start from a clean slate)."""
        self.home = pathlib.Path(home)
        self.dags_folder = pathlib.Path(dags_folder)
        self.database_url = database_url
        self.host = host
        self.http_port = http_port
        self.grpc_port = grpc_port
        self.worker_specs = list(workers)
        self.token = token or new_token(24)
        self.internal_token = new_token(24)
        self.extra_env = dict(extra_env or {})
        self.external_nats_url = nats_url
        self.inherit_flow_env = inherit_flow_env
        self.nats: NatsServer | None = None
        self.services: dict[str, ServiceProcess] = {}

    @property
    def run_dir(self) -> pathlib.Path:
        return self.home / "run"

    @property
    def service_log_dir(self) -> pathlib.Path:
        return self.home / "logs" / "services"

    def _env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if (self.inherit_flow_env or not k.startswith("FLOW_"))
               and k != "FLOW_ADMIN_PASSWORD"}  # standalone's; no service needs it
        env.update({
            "FLOW_HOME": str(self.home),
            "FLOW_CORE__DAGS_FOLDER": str(self.dags_folder),
            "FLOW_NATS__URL": self.nats_url,
            "FLOW_AUTH__TOKEN": self.token,
            "FLOW_AUTH__INTERNAL_TOKEN": self.internal_token,
            "FLOW_SCHEDULER__GRPC_BIND": f"{self.host}:0",
            "FLOW_LOGSERVER__GRPC_BIND": f"{self.host}:0",
            "PYTHONUNBUFFERED": "1",
        })
        if self.database_url:
            env["FLOW_DATABASE__URL"] = self.database_url
        env.update(self.extra_env)
        env.update(overrides)
        if not env.get("FLOW_CORE__FERNET_KEY") and not load_config(env).core.fernet_key:
            # No key configured: keep one under FLOW_HOME, so a restart decrypts what it stored.
            env["FLOW_CORE__FERNET_KEY"] = load_or_create_key(self.home)
        return env

    @property
    def nats_url(self) -> str:
        if self.external_nats_url:
            return self.external_nats_url
        assert self.nats is not None, "nats-server is not started"
        return self.nats.url

    def _service(self, name: str, key: str, env: dict[str, str],
                 args: Sequence[str] = ()) -> ServiceProcess:
        ready = self.run_dir / f"{key}.json"
        env["FLOW_READY_FILE"] = str(ready)
        service = ServiceProcess(
            name=key, args=[sys.executable, "-m", f"services.{name}", *args], env=env,
            ready_file=ready, log_path=self.service_log_dir / f"{key}.log")
        self.services[key] = service
        return service

    def start(self, timeout: float = 60.0) -> PlatformAddresses:
        """Start everything; returns once every service reported ready."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if not self.external_nats_url:
            self.nats = NatsServer(self.home / "nats")
            self.nats.start()
        deadline = time.monotonic() + timeout
        try:
            first = [self._service("logserver", "logserver", self._env()),
                     self._service("scheduler", "scheduler", self._env())]
            for service in first:
                service.start()
            for service in first:
                service.wait_ready(deadline)
            self._start_second_wave(deadline)
        except BaseException:
            self.stop()
            raise
        return self.addresses

    def _peer_env(self) -> dict[str, str]:
        return {
            "FLOW_SCHEDULER__ADDRESS":
                f"{self.host}:{self.services['scheduler'].info['grpc_port']}",
            "FLOW_LOGSERVER__ADDRESS":
                f"{self.host}:{self.services['logserver'].info['grpc_port']}",
        }

    def _start_second_wave(self, deadline: float) -> None:
        second: list[ServiceProcess] = []
        for index, spec in enumerate(self.worker_specs):
            env = self._env(**self._peer_env(), FLOW_WORKER__QUEUES=",".join(spec.queues),
                            FLOW_WORKER__CONCURRENCY=str(spec.concurrency))
            second.append(self._service("worker", f"worker-{index}", env))
        second.append(self._service("api", "api", self._env(
            **self._peer_env(), FLOW_API__HTTP_BIND=f"{self.host}:{self.http_port}",
            FLOW_API__GRPC_BIND=f"{self.host}:{self.grpc_port}")))
        for service in second:
            service.start()
        for service in second:
            service.wait_ready(deadline)

    @property
    def addresses(self) -> PlatformAddresses:
        api = self.services["api"].info
        tls = self.tls
        return PlatformAddresses(
            grpc=f"{self.host}:{api['grpc_port']}",
            http=f"{'https' if tls.enabled else 'http'}://{self.host}:{api['http_port']}",
            token=self.token,
            nats_url=self.nats_url,
            ca_file=tls.ca_file if tls.enabled else "",
        )

    @property
    def tls(self) -> TlsConfig:
        """The TLS settings the services get (FLOW_TLS__*: given, or inherited)."""
        env = {**(os.environ if self.inherit_flow_env else {}), **self.extra_env}
        return TlsConfig(cert_file=env.get("FLOW_TLS__CERT_FILE", ""),
                         key_file=env.get("FLOW_TLS__KEY_FILE", ""),
                         ca_file=env.get("FLOW_TLS__CA_FILE", ""))

    def restart_service(self, key: str, *, kill: bool = False, timeout: float = 30.0) -> None:
        """Stop one service (SIGKILL when `kill`) and start it again with the same settings."""
        service = self.services[key]
        # Come back on the same ports: the other services hold this one's address.
        section = "worker" if key.startswith("worker") else key
        if service.info.get("grpc_port"):
            service.env[f"FLOW_{section.upper()}__GRPC_BIND"] = (
                f"{self.host}:{service.info['grpc_port']}")
        if service.info.get("http_port"):
            service.env[f"FLOW_{section.upper()}__HTTP_BIND"] = (
                f"{self.host}:{service.info['http_port']}")
        if kill:
            service.signal(signal.SIGKILL)
            assert service.proc is not None
            service.proc.wait()
        else:
            service.stop()
        service.start()
        service.wait_ready(time.monotonic() + timeout)

    def crashed(self) -> list[str]:
        """Names of services whose process has exited."""
        return [name for name, s in self.services.items() if not s.is_running()]

    def log_tails(self) -> str:
        return "\n".join(f"===== {name} =====\n{s.log_tail()}" for name, s in self.services.items())

    def stop(self) -> None:
        """SIGTERM every service (gateway and workers first), then nats-server."""
        order = ["api", *[k for k in self.services if k.startswith("worker")],
                 "scheduler", "logserver"]
        for key in order:
            service = self.services.get(key)
            if service is not None:
                service.signal(signal.SIGTERM)
        for key in order:
            service = self.services.get(key)
            if service is not None:
                service.stop()
        if self.nats is not None:
            self.nats.stop()
