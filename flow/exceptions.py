"""Airflow's `airflow.exceptions` path: the signals a task may raise."""

from flow.sdk.exceptions import (
    AirflowDagCycleException,
    AirflowException,
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTerminated,
    DagCycleError,
    DagRunAlreadyExists,
    DuplicateTaskIdFound,
    FlowException,
    FlowFailException,
    FlowRescheduleException,
    FlowSensorTimeout,
    FlowSkipException,
    FlowTaskTerminated,
)

__all__ = [
    "AirflowDagCycleException", "AirflowException", "AirflowFailException",
    "AirflowRescheduleException", "AirflowSensorTimeout", "AirflowSkipException",
    "AirflowTaskTerminated", "DagCycleError", "DagRunAlreadyExists",
    "DuplicateTaskIdFound",
    "FlowException", "FlowFailException", "FlowRescheduleException",
    "FlowSensorTimeout", "FlowSkipException", "FlowTaskTerminated",
]
