"""Service logs: JSON when stderr is not a terminal, console lines on a terminal, and
sensitive values masked either way (flow/log.py)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

SNIPPET = (
    "import structlog; from flow.log import configure_logging, register_secret; "
    "configure_logging('scheduler'); register_secret('s3cr3t-token'); "
    "structlog.get_logger().info('dag_run_created', dag_id='etl', password='hunter2', "
    "note='token is s3cr3t-token')"
)


def test_json_lines_when_not_a_terminal() -> None:
    done = subprocess.run([sys.executable, "-c", SNIPPET], capture_output=True, text=True,
                          timeout=60, check=True)
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert line["event"] == "dag_run_created" and line["service"] == "scheduler"
    assert line["dag_id"] == "etl" and line["level"] == "info" and "timestamp" in line
    assert "hunter2" not in done.stderr and "s3cr3t-token" not in done.stderr


def test_console_lines_on_a_terminal() -> None:
    leader, follower = pty.openpty()
    try:
        subprocess.run([sys.executable, "-c", SNIPPET], stderr=follower, timeout=60,
                       check=True)
        output = os.read(leader, 65536).decode()
    finally:
        os.close(leader)
        os.close(follower)
    assert "dag_run_created" in output and "dag_id=etl" in output
    assert not output.lstrip().startswith("{")
    assert "hunter2" not in output and "s3cr3t-token" not in output


def test_masking_longest_first_in_data_and_json_fields() -> None:
    """A secret containing another is masked whole; data is masked before it is serialised
    (JSON escaping would hide a secret); sensitive keys of a JSON object are masked."""
    from flow.log import mask_data, mask_json_fields, mask_text, register_secret

    register_secret("abcd-short")
    register_secret("abcd-short-and-longer")
    assert mask_text("x abcd-short-and-longer y") == "x *** y"
    register_secret('pä"ss\\wörd')
    rendered = {"bash_command": 'echo pä"ss\\wörd', "env": {"API_TOKEN": "t", "HOME": "/"}}
    masked = mask_data(rendered)
    assert masked == {"bash_command": "echo ***", "env": {"API_TOKEN": "***", "HOME": "/"}}
    assert json.loads(mask_json_fields('{"timeout": 5, "api_key": "k1", "nested": '
                                       '{"password": "p"}}')) == {
        "timeout": 5, "api_key": "***", "nested": {"password": "***"}}


def test_a_param_schema_that_cannot_be_applied_is_a_validation_error() -> None:
    """An unresolvable $ref is reported as the param's error, not an internal failure."""
    import pytest

    from flow.sdk.param import ParamValidationError, validate_param_value

    with pytest.raises(ParamValidationError, match="could not be applied"):
        validate_param_value("p", 3, {"$ref": "https://example.invalid/schema.json"})
