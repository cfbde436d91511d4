"""Bad input at the REST API, generated: schemathesis reads /api/v1/openapi.json from a real
gateway and sends a bounded number of generated requests to every operation. No answer may
be a 5xx, and every answer must match the documented schema."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import sysconfig

import pytest

from flow.platform import Platform
from tests.e2e.runtime import module_platform

pytestmark = pytest.mark.e2e
platform = module_platform(["example_taskflow.py"])
EXAMPLES_PER_OPERATION = 5


def test_generated_requests_get_no_server_error_and_match_the_schema(
        platform: Platform, tmp_path: pathlib.Path) -> None:
    cli = shutil.which("schemathesis", path=sysconfig.get_path("scripts"))
    if cli is None:
        pytest.skip(f"schemathesis is not installed for {sys.executable}")
    addresses = platform.addresses
    done = subprocess.run(
        [cli, "run", f"{addresses.http}/api/v1/openapi.json",
         "-H", f"Authorization: Bearer {addresses.token}",
         "-n", str(EXAMPLES_PER_OPERATION), "--seed", "20261125", "--no-color",
         "-c", "not_a_server_error,response_schema_conformance",
         "--phases", "examples,coverage,fuzzing"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path)  # its cache dir goes there
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
