"""The scheduling core imports no transport: neither grpc nor nats (checked in a fresh
interpreter, so other tests' imports cannot hide a violation)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import services.scheduler.core
import services.scheduler.core.event_applier
import services.scheduler.core.scheduling
import services.scheduler.core.state_machine
import services.scheduler.core.timers
bad = sorted(m for m in sys.modules
             if m.split(".")[0] in {"grpc", "nats"} or m.startswith("flow.v1"))
print(",".join(bad))
"""


def test_core_imports_neither_grpc_nor_nats() -> None:
    """Importing services.scheduler.core pulls in no grpc, nats or generated proto module."""
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
