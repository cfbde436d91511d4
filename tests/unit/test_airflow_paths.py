"""A DAG file written for Airflow imports after replacing the `airflow` prefix with `flow`."""

from __future__ import annotations

import importlib

import pytest

from flow.sdk.baseoperator import BaseOperator
from flow.sdk.dag import DAG

# (module, names): Airflow 3 paths (providers.standard. dropped) and Airflow 2 paths.
PATHS = [
    ("flow.sdk", ["DAG", "dag", "task", "task_group", "TaskGroup", "chain", "cross_downstream",
                  "BaseSensorOperator", "PokeReturnValue",
                  "get_current_context", "BaseOperator", "TriggerRule", "XComArg"]),
    ("flow.sdk.bases.operator", ["BaseOperator", "chain"]),
    ("flow.operators.bash", ["BashOperator"]),
    ("flow.operators.python", ["PythonOperator", "BranchPythonOperator",
                               "ShortCircuitOperator", "get_current_context"]),
    ("flow.operators.empty", ["EmptyOperator"]),
    ("flow.operators.branch", ["BaseBranchOperator"]),
    ("flow.operators.trigger_dagrun", ["TriggerDagRunOperator"]),
    ("flow.operators.email", ["EmailOperator"]),
    ("flow.operators.smtp", ["EmailOperator"]),
    ("flow.providers.smtp.operators.smtp", ["EmailOperator"]),
    ("flow.providers.http.operators.http", ["HttpOperator", "SimpleHttpOperator"]),
    ("flow.sensors.base", ["BaseSensorOperator", "PokeReturnValue"]),
    ("flow.sensors.python", ["PythonSensor"]),
    ("flow.sensors.filesystem", ["FileSensor"]),
    ("flow.sensors.time_delta", ["TimeDeltaSensor", "TimeDeltaSensorAsync"]),
    ("flow.sensors.date_time", ["DateTimeSensor", "DateTimeSensorAsync"]),
    ("flow.sensors.http", ["HttpSensor"]),
    ("flow.sensors.external_task", ["ExternalTaskSensor"]),
    ("flow.providers.http.sensors.http", ["HttpSensor"]),
    ("flow.sdk.bases.sensor", ["BaseSensorOperator", "PokeReturnValue"]),
    ("flow.decorators", ["dag", "task", "task_group"]),
    ("flow.models", ["DAG", "BaseOperator"]),
    ("flow.models.baseoperator", ["BaseOperator", "chain", "cross_downstream"]),
    ("flow.models.dag", ["DAG"]),
    ("flow.models.skipmixin", ["SkipMixin"]),
    ("flow.utils.trigger_rule", ["TriggerRule"]),
    ("flow.utils.task_group", ["TaskGroup"]),
    ("flow.utils.helpers", ["chain", "cross_downstream"]),
    ("flow.utils.email", ["send_email"]),
    ("flow.utils.dates", ["days_ago"]),
    ("flow.operators.dummy", ["DummyOperator"]),
    ("flow", ["DAG"]),
    ("flow.exceptions", ["AirflowException", "AirflowSkipException", "AirflowFailException",
                         "AirflowTaskTerminated", "DagRunAlreadyExists", "FlowSkipException",
                         "AirflowSensorTimeout", "AirflowRescheduleException",
                         "FlowFailException"]),
]


@pytest.mark.parametrize(("module", "names"), PATHS, ids=[m for m, _ in PATHS])
def test_airflow_import_paths_exist(module: str, names: list[str]) -> None:
    """Each Airflow path has the names DAG files import from it."""
    loaded = importlib.import_module(module)
    missing = [n for n in names if not hasattr(loaded, n)]
    assert not missing


def test_alias_paths_reexport_one_implementation() -> None:
    """The aliases are the same objects, not copies."""
    from flow.decorators import task as decorators_task
    from flow.exceptions import AirflowSkipException, FlowSkipException
    from flow.models import DAG as ModelsDAG
    from flow.models.baseoperator import BaseOperator as ModelsBaseOperator
    from flow.sdk import task as sdk_task

    assert ModelsDAG is DAG and ModelsBaseOperator is BaseOperator
    assert decorators_task is sdk_task
    assert AirflowSkipException is FlowSkipException
