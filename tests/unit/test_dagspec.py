"""flow.sdk.dagspec: validation names the field at fault, the scheduler's build never imports
a callable, the worker's does, and versions compare by canonical JSON."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format

from flow.errors import InvalidArgumentError
from flow.sdk.dagspec import (
    CallableReference,
    build_dag,
    reduced_to_task,
    resolve_callable,
    spec_hash,
    validate_spec,
)
from flow.sdk.serialization import serialize_dag
from flow.v1 import dag_pb2
from services.scheduler.dag_specs import adhoc_spec

ECHO = {"command": {"command": "true"}}


def _spec(tasks: list[dict[str, Any]], **extra: Any) -> Any:
    return json_format.ParseDict({"dag_id": "d", "tasks": tasks, **extra}, dag_pb2.DagSpec())


def _error(spec: Any) -> InvalidArgumentError:
    with pytest.raises(InvalidArgumentError) as info:
        validate_spec(spec)
    return info.value


@pytest.mark.parametrize(("tasks", "extra", "field", "reason"), [
    ([{"task_id": "a", "upstream_task_ids": ["c"], **ECHO},
      {"task_id": "b", "upstream_task_ids": ["a"], **ECHO},
      {"task_id": "c", "upstream_task_ids": ["b"], **ECHO}], {},
     "spec.tasks[1].upstream_task_ids", "DAG_CYCLE"),
    ([{"task_id": "a", "upstream_task_ids": ["a"], **ECHO}], {},
     "spec.tasks[0].upstream_task_ids", "DAG_CYCLE"),
    ([{"task_id": "a", "upstream_task_ids": ["x"], **ECHO}], {},
     "spec.tasks[0].upstream_task_ids", "UNKNOWN_UPSTREAM_TASK"),
    ([{"task_id": "a", **ECHO}, {"task_id": "a", **ECHO}], {}, "spec.tasks[1].task_id",
     "DUPLICATE_TASK_ID"),
    ([{"task_id": "a"}], {}, "spec.tasks[0].kind", "TASK_KIND_MISSING"),
    ([{"task_id": "a b", **ECHO}], {}, "spec.tasks[0].task_id", "INVALID_DAG_SPEC"),
    ([{"task_id": "a", "trigger_rule": "often", **ECHO}], {}, "spec.tasks[0].trigger_rule",
     "UNKNOWN_TRIGGER_RULE"),
    ([{"task_id": "a", "http": {"url": "/relative"}}], {}, "spec.tasks[0].http.url",
     "INVALID_DAG_SPEC"),
    ([{"task_id": "a", "http": {"url": "http://x", "method": "BREW"}}], {},
     "spec.tasks[0].http.method", "INVALID_DAG_SPEC"),
    ([{"task_id": "a", "python": {"callable": "json.dumps"}}], {},
     "spec.tasks[0].python.callable", "INVALID_DAG_SPEC"),
    ([{"task_id": "a", "retries": -1, **ECHO}], {}, "spec.tasks[0].retries",
     "INVALID_DAG_SPEC"),
    ([{"task_id": "a", **ECHO}], {"schedule": "every day"}, "spec.schedule",
     "INVALID_SCHEDULE"),
    ([], {}, "spec.tasks", "INVALID_DAG_SPEC"),
])
def test_invalid_specs_name_the_field(tasks: list[dict[str, Any]], extra: dict[str, Any],
                                      field: str, reason: str) -> None:
    """Each kind of mistake is INVALID_ARGUMENT with the field in its metadata and message."""
    error = _error(_spec(tasks, **extra))
    assert error.metadata["field"] == field and error.reason == reason
    assert error.message.startswith(f"Field '{field}'")


def test_the_scheduler_build_keeps_python_tasks_as_references() -> None:
    """Without resolving, a python task is a CallableReference shown as PythonOperator, and
    its module is never imported; dependencies and settings reach the serialized DAG."""
    spec = _spec([
        {"task_id": "a", "queue": "etl", "retries": 2, "retry_delay_seconds": 5, **ECHO},
        {"task_id": "b", "upstream_task_ids": ["a"], "trigger_rule": "all_done",
         "python": {"callable": "no_such_module_anywhere:fn", "kwargs": {"n": 1}}}],
        schedule="@daily", tags=["x"])
    validate_spec(spec)
    dag = build_dag(spec, resolve_callables=False)
    assert isinstance(dag.get_task("b"), CallableReference)
    data = serialize_dag(dag)
    tasks = {t["task_id"]: t for t in data["tasks"]}
    assert data["fileloc"] == "dagspec:d" and data["schedule"] == "@daily"
    assert tasks["b"]["operator"] == "PythonOperator"
    assert tasks["b"]["upstream_task_ids"] == ["a"]
    assert tasks["b"]["trigger_rule"] == "all_done"
    assert (tasks["a"]["queue"], tasks["a"]["retries"], tasks["a"]["retry_delay"]) == (
        "etl", 2, 5.0)


def test_the_worker_build_imports_the_callable_of_its_task() -> None:
    """The reduced spec holds the claimed task only; built with resolving, it calls the
    referenced function with the kwargs (whole numbers as int)."""
    spec = _spec([{"task_id": "a", **ECHO}, {"task_id": "b", "upstream_task_ids": ["a"],
                  "python": {"callable": "json:dumps", "kwargs": {"obj": [1, 2]}}}])
    reduced = reduced_to_task(spec, "b")
    assert [t.task_id for t in reduced.tasks] == ["b"] and not reduced.tasks[0].upstream_task_ids
    task = build_dag(reduced, resolve_callables=True).get_task("b")
    assert task.execute({"ti": object()}) == "[1, 2]"


def test_resolve_callable_explains_what_is_missing() -> None:
    """A missing attribute or a non-callable is an ImportError naming the reference."""
    assert resolve_callable("os.path:join") is __import__("os").path.join
    with pytest.raises(ImportError, match="json:nope"):
        resolve_callable("json:nope")
    with pytest.raises(ImportError, match="not callable"):
        resolve_callable("json:__name__")


def test_versions_compare_by_canonical_json() -> None:
    """Map order does not change the hash; a changed command does."""
    first = _spec([{"task_id": "a", "command": {"command": "x", "env": {"A": "1", "B": "2"}}}])
    second = _spec([{"task_id": "a", "command": {"command": "x", "env": {"B": "2", "A": "1"}}}])
    assert spec_hash(first) == spec_hash(second)
    second.tasks[0].command.command = "y"
    assert spec_hash(first) != spec_hash(second)


def test_adhoc_tasks_get_one_dag_per_distinct_task() -> None:
    """The same task maps to the same adhoc_ DAG; upstream tasks and bad fields are refused
    with the request's field names."""
    task = dag_pb2.TaskSpec(command=dag_pb2.CommandTask(command="echo hi"))
    spec = adhoc_spec(task)
    assert spec.dag_id.startswith("adhoc_") and list(spec.tags) == ["adhoc"]
    assert spec.tasks[0].task_id == "task" and adhoc_spec(task).dag_id == spec.dag_id
    other = adhoc_spec(dag_pb2.TaskSpec(command=dag_pb2.CommandTask(command="echo ho")))
    assert other.dag_id != spec.dag_id
    with pytest.raises(InvalidArgumentError) as info:
        adhoc_spec(dag_pb2.TaskSpec(upstream_task_ids=["x"], command=task.command))
    assert info.value.metadata["field"] == "task.upstream_task_ids"
    with pytest.raises(InvalidArgumentError) as info:
        adhoc_spec(dag_pb2.TaskSpec(http=dag_pb2.HttpTask(url="x")))
    assert info.value.metadata["field"] == "task.http.url"
