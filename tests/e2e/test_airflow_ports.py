"""DAG files written for Airflow 2 and Airflow 3 run on Flow once their import lines say
`flow` instead of `airflow` (and Airflow 3's `providers.standard.` part is dropped)."""

from __future__ import annotations

import pathlib
import re

import pytest

from flow.v1 import common_pb2
from tests.e2e.api import Api
from tests.fixtures.platform import PlatformFactory

pytestmark = pytest.mark.e2e
SOURCES = pathlib.Path(__file__).parent / "airflow_dags"
IMPORT = re.compile(r"^(from|import) airflow(\.providers\.standard)?\b", re.MULTILINE)


def port(text: str) -> str:
    """The documented port: only the import lines change."""
    return IMPORT.sub(lambda m: f"{m.group(1)} flow", text)


def test_port_rewrites_only_import_lines() -> None:
    """Strings that mention airflow stay as they are."""
    ported = port('from airflow.providers.standard.operators.bash import BashOperator\n'
                  'from airflow import DAG\nowner = "airflow"\n')
    assert ported == ('from flow.operators.bash import BashOperator\nfrom flow import DAG\n'
                      'owner = "airflow"\n')


def test_airflow_dag_files_run_after_the_import_rewrite(
        platform_factory: PlatformFactory, tmp_path: pathlib.Path) -> None:
    """An Airflow 2 tutorial-style file (DAG, default_args, days_ago, DummyOperator, chain,
    XCom push/pull, a branch into a task group) and an Airflow 3 TaskFlow file
    (multiple_outputs, @task_group, @task.short_circuit) run to the states Airflow gives."""
    folder = tmp_path / "ported"
    folder.mkdir()
    for source in SOURCES.glob("*.py"):
        (folder / source.name).write_text(port(source.read_text()))
    api = Api(platform_factory(folder))
    try:
        api.wait_for_dag("tutorial_airflow2")
        api.wait_for_dag("taskflow_airflow3")
        assert api.import_errors() == []
        run = api.trigger("tutorial_airflow2")
        assert api.wait_for_run("tutorial_airflow2", run.run_id).state == \
            common_pb2.DAG_RUN_STATE_SUCCESS
        states = api.states("tutorial_airflow2", run.run_id)
        assert states == {
            "start": "success", "print_date": "success", "push_numbers": "success",
            "sleep": "success", "total": "success", "templated": "success",
            "branch": "success", "fast_path": "success", "slow_path": "skipped",
            "paths.fast_path_inner": "success", "join": "success"}
        assert "total of [1, 2, 3] is 6" in api.read_log("tutorial_airflow2", run.run_id, "total")
        assert " step 2" in api.read_log("tutorial_airflow2", run.run_id, "templated")

        run = api.trigger("taskflow_airflow3")
        assert api.wait_for_run("taskflow_airflow3", run.run_id).state == \
            common_pb2.DAG_RUN_STATE_SUCCESS
        assert api.states("taskflow_airflow3", run.run_id) == {
            "extract": "success", "transform": "success", "load_group.load": "success",
            "is_big": "success", "celebrate": "skipped", "done": "skipped"}
        assert "Total order value is: 1236.70" in api.read_log(
            "taskflow_airflow3", run.run_id, "load_group.load")
    finally:
        api.close()
