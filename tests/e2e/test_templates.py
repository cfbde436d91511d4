"""Attempts fork from a per-file DAG template: the file is imported once per version, a
changed file gets a new template, and time-outs still kill the attempt's process group."""

from __future__ import annotations

import dataclasses
import pathlib
import textwrap
from collections.abc import Iterator

import pytest

from flow.platform import Platform
from flow.v1 import common_pb2
from tests.e2e.api import Api
from tests.fixtures.platform import PlatformFactory

pytestmark = pytest.mark.e2e

DAG_FILE = """
import os
from datetime import datetime, timedelta, timezone
from flow.operators.bash import BashOperator
from flow.sdk import DAG, task

VERSION = {version}
if "FLOW_WORKER__QUEUES" in os.environ:  # count imports in worker processes only
    with open({imports!r}, "a") as fh:
        fh.write("import\\n")

with DAG("templated", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)):
    @task
    def step():
        import time
        time.sleep(0.2)
        print(f"version {{VERSION}}")

    previous = None
    for i in range(8):
        current = step.override(task_id=f"s{{i}}")()
        if previous is not None:
            previous >> current
        previous = current

with DAG("too_slow", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)):
    BashOperator(task_id="sleeps", bash_command="sleep 60 & sleep 60",
                 execution_timeout=timedelta(seconds=1))
"""


def write_dag(folder: pathlib.Path, version: int, imports: pathlib.Path) -> pathlib.Path:
    dag_file = folder / "templated.py"
    dag_file.write_text(textwrap.dedent(DAG_FILE.format(version=version, imports=str(imports))))
    return dag_file


@dataclasses.dataclass
class Templated:
    platform: Platform
    api: Api
    imports: pathlib.Path  # one line per import of the DAG file in a worker process


@pytest.fixture
def templated(tmp_path: pathlib.Path, platform_factory: PlatformFactory
              ) -> Iterator[Templated]:
    """A platform over version 1 of the DAG file."""
    imports = tmp_path / "imports.txt"
    platform = platform_factory(write_dag(tmp_path, 1, imports))
    api = Api(platform)
    try:
        yield Templated(platform, api, imports)
    finally:
        api.close()


def test_dag_file_is_imported_once_per_version(templated: Templated) -> None:
    api, platform = templated.api, templated.platform
    api.wait_for_dag("templated")
    run = api.trigger("templated")
    assert api.wait_for_run("templated", run.run_id).state == common_pb2.DAG_RUN_STATE_SUCCESS
    # 8 attempts, one import: the template's (the attempts wait for it to start, then all
    # fork from it).
    assert len(templated.imports.read_text().splitlines()) == 1
    assert "template_started" in platform.services["worker-0"].log_tail(size=1_000_000)
    assert "version 1" in api.read_log("templated", run.run_id, "s7")

    write_dag(platform.dags_folder, 2, templated.imports)
    again = api.trigger("templated")
    assert api.wait_for_run("templated", again.run_id).state == (
        common_pb2.DAG_RUN_STATE_SUCCESS)
    assert "version 2" in api.read_log("templated", again.run_id, "s0")
    assert "version 2" in api.read_log("templated", again.run_id, "s7")


def test_execution_timeout_kills_a_templated_attempt(templated: Templated) -> None:
    api = templated.api
    api.wait_for_dag("too_slow")
    for _ in range(2):  # the second attempt forks from the template
        run = api.trigger("too_slow")
        finished = api.wait_for_run("too_slow", run.run_id)
        assert finished.state == common_pb2.DAG_RUN_STATE_FAILED
        ti = api.task_instances("too_slow", run.run_id)["sleeps"]
        assert common_pb2.TaskInstanceState.Name(ti.state) == "TASK_INSTANCE_STATE_FAILED"
        assert "timed out" in api.read_log("too_slow", run.run_id, "sleeps").lower()
    assert "template_started" in templated.platform.services["worker-0"].log_tail(
        size=1_000_000)
