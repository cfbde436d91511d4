"""Task groups through the real services: prefixed ids, group dependencies, @task_group."""

from __future__ import annotations

import pytest

from flow.v1 import common_pb2, dag_service_pb2
from tests.e2e.api import Api

pytestmark = pytest.mark.e2e



def test_task_groups_prefix_ids_link_as_groups_and_branch_to_a_group(api: Api) -> None:
    """Tasks get `group.task` ids (nested groups too); `group >> x` links the group's leaves;
    a @task_group call returns its last task's XComArg; a branch returning a group id
    follows the group's roots and skips the other group."""
    api.wait_for_dag("example_task_groups")
    run = api.trigger("example_task_groups")
    assert api.wait_for_run("example_task_groups", run.run_id).state == \
        common_pb2.DAG_RUN_STATE_SUCCESS
    states = api.states("example_task_groups", run.run_id)
    assert states == {
        "start": "success", "extract.a": "success", "extract.b": "success",
        "transform.add": "success", "transform.double": "success", "choose": "success",
        "reports.r1": "success", "reports.r2": "success", "reports.nested.deep": "success",
        "unused.u1": "skipped", "unused.u2": "skipped", "end": "success"}
    assert "Returned value was: 6" in api.read_log("example_task_groups", run.run_id,
                                                   "transform.double")
    assert "deep in reports.nested.deep" in api.read_log("example_task_groups", run.run_id,
                                                         "reports.nested.deep")
    dag = api.dags.GetDag(dag_service_pb2.GetDagRequest(
        dag_id="example_task_groups"), metadata=api.metadata, timeout=10).dag
    tasks = {t.task_id: t for t in dag.tasks}
    assert set(tasks["end"].upstream_task_ids) == {"reports.r2", "reports.nested.deep",
                                                  "unused.u2"}
    assert set(tasks["choose"].downstream_task_ids) == {"reports.r1", "reports.nested.deep",
                                                       "unused.u1"}
    assert tasks["extract.a"].retries == 1 and tasks["start"].retries == 0
