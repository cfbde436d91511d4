"""Airflow's `airflow.exceptions` path: the signals a task may raise."""

from flow.sdk.exceptions import (
    AirflowDagCycleException,
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    AirflowTaskTerminated,
    DagCycleError,
    DagRunAlreadyExists,
    DuplicateTaskIdFound,
    FlowException,
    FlowFailException,
    FlowSkipException,
    FlowTaskTerminated,
)

__all__ = [
    "AirflowDagCycleException", "AirflowException", "AirflowFailException",
    "AirflowSkipException", "AirflowTaskTerminated", "DagCycleError", "DagRunAlreadyExists",
    "DuplicateTaskIdFound",
    "FlowException", "FlowFailException", "FlowSkipException", "FlowTaskTerminated",
]
