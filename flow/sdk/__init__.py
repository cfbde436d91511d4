"""What DAG files import, mirroring `airflow.sdk`.

Example:
    from flow.sdk import DAG, task

    with DAG("hello", schedule=None):
        @task
        def greet() -> str:
            return "hi"
        greet()
"""

from __future__ import annotations

from flow.sdk.assets import Asset
from flow.sdk.baseoperator import BaseOperator, chain, cross_downstream
from flow.sdk.connections import Connection
from flow.sdk.context import Context, get_current_context
from flow.sdk.dag import DAG, dag
from flow.sdk.decorators import task
from flow.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    FlowException,
    FlowFailException,
    FlowSkipException,
)
from flow.sdk.param import Param, ParamsDict
from flow.sdk.task_group import TaskGroup, task_group
from flow.sdk.trigger_rule import TriggerRule
from flow.sdk.variables import Variable
from flow.sdk.xcom_arg import XComArg
from flow.sensors.base import BaseSensorOperator, PokeReturnValue

__all__ = [
    "DAG",
    "AirflowException",
    "AirflowFailException",
    "AirflowSkipException",
    "Asset",
    "BaseOperator",
    "BaseSensorOperator",
    "Connection",
    "Context",
    "FlowException",
    "FlowFailException",
    "FlowSkipException",
    "Param",
    "ParamsDict",
    "PokeReturnValue",
    "TaskGroup",
    "TriggerRule",
    "Variable",
    "XComArg",
    "chain",
    "cross_downstream",
    "dag",
    "get_current_context",
    "task",
    "task_group",
]
