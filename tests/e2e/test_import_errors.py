"""Bad DAG files are import errors naming the file and line, listed by `flowcli dags
errors`; the services keep running and the good DAGs still run."""

from __future__ import annotations

import json
import pathlib
import subprocess

import pytest

from flow.v1 import common_pb2
from tests.e2e.api import Api, eventually
from tests.e2e.test_standalone import flowcli
from tests.fixtures.platform import PlatformFactory

pytestmark = pytest.mark.e2e
BAD_DAGS = pathlib.Path(__file__).parent / "bad_dags"

EXPECTED = {
    "cycle.py": ("line 5", "DagCycleError: Cycle detected in DAG 'bad_cycle'"),
    "duplicate.py": ("line 7", "DuplicateTaskIdFound: Task id 'same' has already been added"),
    "trigger_rule.py": ("line 6", "The trigger_rule must be one of"),
    "dag_argument.py": ("line 4", "unexpected keyword argument 'colour'"),
    "operator_argument.py": ("line 6", "Invalid arguments were passed to BashOperator "
                                       "(task_id: x). Invalid arguments were:\n**kwargs: "
                                       "{'bash_comand': 'typo'}"),
}


def test_bad_dag_files_are_import_errors_with_file_and_line(
        platform_factory: PlatformFactory) -> None:
    """A cycle, a duplicate task id, an unknown trigger rule and unknown DAG or operator
    arguments each give one import error that names the file and line; the good file in the
    same folder still runs, and flowcli lists the errors."""
    platform = platform_factory(BAD_DAGS)
    api = Api(platform)
    try:
        api.wait_for_dag("good_neighbour")
        errors = eventually(lambda: (found := {pathlib.Path(e.filename).name: e.stacktrace
                                               for e in api.import_errors()})
                            and len(found) == len(EXPECTED) and found)
        for name, (line, message) in EXPECTED.items():
            text = errors[name]
            assert f'{name}", {line}' in text, text
            assert message in text, text
        run = api.trigger("good_neighbour")
        assert api.wait_for_run("good_neighbour", run.run_id).state == \
            common_pb2.DAG_RUN_STATE_SUCCESS
        addresses = platform.addresses
        listed = subprocess.run(
            [*flowcli(), "dags", "errors", "--server", addresses.grpc, "--token",
             addresses.token, "-o", "json"], capture_output=True, text=True, timeout=60,
            check=True)
        rows = json.loads(listed.stdout)
        assert {pathlib.Path(r["filename"]).name for r in rows} == set(EXPECTED)
        assert not platform.crashed()
    finally:
        api.close()
