"""A Node.js client (tests/node/client.js, @grpc/grpc-js + @grpc/proto-loader loading protos/
directly) against the real platform: it authenticates, submits a DagSpec, triggers it,
follows a task's log and waits for the run to succeed."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess

import pytest

from flow.platform import Platform
from tests.e2e.runtime import module_platform

pytestmark = pytest.mark.e2e
NODE_DIR = pathlib.Path(__file__).resolve().parents[1] / "node"
NODE = shutil.which("node")
NPM = shutil.which("npm")


def _install() -> None:
    """`npm ci` into tests/node/node_modules (ignored by git), once per package-lock.json:
    npm writes node_modules/.package-lock.json, newer than the lock file, when it is done."""
    assert NPM is not None
    marker = NODE_DIR / "node_modules" / ".package-lock.json"
    lock = NODE_DIR / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    done = subprocess.run([NPM, "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                          cwd=NODE_DIR, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"


platform = module_platform([])


@pytest.mark.skipif(NODE is None or NPM is None,
                    reason="Node.js (node and npm) is not installed: the Node.js client test "
                           "needs them on PATH")
@pytest.mark.timeout(300)
def test_node_client_submits_triggers_follows_and_succeeds(platform: Platform) -> None:
    """The Node.js client's run succeeds; it read the templated command's output from the
    followed log, and every task (command, python callable, all_done) succeeded."""
    assert NODE is not None
    _install()
    env = {**os.environ, "FLOW_SERVER": platform.addresses.grpc,
           "FLOW_TOKEN": platform.addresses.token}
    done = subprocess.run([NODE, "client.js", "node_client_spec"], cwd=NODE_DIR, env=env,
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["state"] == "DAG_RUN_STATE_SUCCESS"
    assert summary["version"] == 1 and summary["created"] is True
    assert "hello from node" in summary["log"] and "node-marker-1" in summary["log"]
    assert summary["states"] == {task: "TASK_INSTANCE_STATE_SUCCESS"
                                 for task in ("greet", "encode", "finish")}
    wrong = subprocess.run([NODE, "client.js", "node_client_spec"], cwd=NODE_DIR,
                           env={**env, "FLOW_TOKEN": "flow_" + "0" * 64},
                           capture_output=True, text=True, timeout=60, check=False)
    assert wrong.returncode == 1 and "16" in wrong.stderr  # UNAUTHENTICATED
