"""`flowcli dags test` and `flowcli tasks test` as a user runs them: the real command, the
real DAG files, no services; variables and connections from the environment, masked."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

from tests.e2e.test_standalone import flowcli
from tests.fixtures.platform import EXAMPLE_DAGS


def _flowcli(*args: str, env: dict[str, str] | None = None,
             cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*flowcli(), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def test_dags_test_runs_a_whole_dag_here_with_mapping_branches_and_retries(
        tmp_path: pathlib.Path) -> None:
    """The mapped example runs to success (its flaky instance retried at once), with each
    instance's state; the states are the ones the platform reaches (tests/e2e/test_mapping)."""
    done = _flowcli("dags", "test", "example_mapping", "--dags-folder", str(EXAMPLE_DAGS),
                    "-o", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    states = {(t["task_id"], t["map_index"]): t["state"] for t in result["task_instances"]}
    assert result["state"] == "success"
    assert states[("nothing_to_do", -1)] == "skipped"
    assert [states[("greet", i)] for i in range(4)] == ["success"] * 4
    assert "total=36 values=[11, 12, 13]" in done.stdout + done.stderr
    assert "running flaky[1], try 2 of 2" in done.stderr
    branching = _flowcli("dags", "test", "example_branching", "--dags-folder",
                         str(EXAMPLE_DAGS), "-o", "json", cwd=tmp_path)
    assert branching.returncode == 0, branching.stderr
    assert {t["task_id"]: t["state"] for t in json.loads(branching.stdout)["task_instances"]
            }["right"] == "skipped"


def test_dags_test_reads_variables_and_connections_from_the_environment_masked(
        tmp_path: pathlib.Path) -> None:
    env = {"FLOW_VAR_REGION": "eu-north-1", "FLOW_VAR_ETL_CONFIG": '{"batch": 7}',
           "FLOW_VAR_SERVICE_API_KEY": "key-local-27182",
           "FLOW_CONN_WAREHOUSE": "postgres://etl:pw-local-31415@db.example.com:5432/dw"}
    done = _flowcli("dags", "test", "example_variables", "--dags-folder", str(EXAMPLE_DAGS),
                    env=env, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "region=eu-north-1 batch=7" in output and "host=db.example.com" in output
    assert "key-local-27182" not in output and "pw-local-31415" not in output
    assert "password is ***" in output
    missing = _flowcli("dags", "test", "example_variables", "--dags-folder",
                       str(EXAMPLE_DAGS), cwd=tmp_path)
    assert missing.returncode == 1
    assert "KeyError: 'Variable region does not exist'" in missing.stderr


def test_tasks_test_and_bad_input(tmp_path: pathlib.Path) -> None:
    """One task alone; an unknown DAG or task suggests the nearest id (exit 1); a conf that
    fails the params' schema is refused (exit 2)."""
    done = _flowcli("tasks", "test", "example_mapping", "numbers", "--dags-folder",
                    str(EXAMPLE_DAGS), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "numbers: success, returned [1, 2, 3]" in done.stdout
    unknown = _flowcli("dags", "test", "example_maping", "--dags-folder", str(EXAMPLE_DAGS),
                       cwd=tmp_path)
    assert unknown.returncode == 1 and "did you mean 'example_mapping'?" in unknown.stderr
    unknown = _flowcli("tasks", "test", "example_mapping", "numbrs", "--dags-folder",
                       str(EXAMPLE_DAGS), cwd=tmp_path)
    assert unknown.returncode == 1 and "did you mean 'numbers'?" in unknown.stderr
    refused = _flowcli("dags", "test", "example_templating", "--dags-folder",
                       str(EXAMPLE_DAGS), "--conf", '{"days": "many"}', cwd=tmp_path)
    assert refused.returncode == 2 and "refused the conf" in refused.stderr


def test_dags_test_takes_max_map_length_from_the_configuration(tmp_path: pathlib.Path) -> None:
    """FLOW_CORE__MAX_MAP_LENGTH bounds a local run's mappings as the platform's: the same
    states as tests/e2e/test_mapping reaches through the services."""
    from tests.e2e.test_mapping import SHORT_MAPS_DAG

    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "short_maps.py").write_text(SHORT_MAPS_DAG)
    done = _flowcli("dags", "test", "short_maps", "--dags-folder", str(tmp_path / "dags"),
                    "-o", "json", env={"FLOW_CORE__MAX_MAP_LENGTH": "3"}, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    states = {t["task_id"]: t["state"] for t in json.loads(done.stdout)["task_instances"]}
    assert states == {"five": "failed", "show": "upstream_failed",
                      "over_literal": "upstream_failed"}
    assert "unmappable return value length: 5 > 3" in done.stderr
    assert "it maps over 4 elements; at most 3 are allowed" in done.stderr
