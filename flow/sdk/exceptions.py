"""Control-flow signals user code raises, with Airflow's names as aliases for ported DAGs."""

from __future__ import annotations

from datetime import datetime


class FlowException(Exception):
    """Base of the exceptions a task may raise to steer its own outcome."""


class FlowSkipException(FlowException):
    """Raised by a task to end as `skipped` instead of `success`."""


class FlowFailException(FlowException):
    """Raised by a task to fail at once, without using its remaining retries."""


class FlowRescheduleException(FlowException):
    """Raised by a sensor in reschedule mode: end this poke, free its slots, and poke again
    at `reschedule_date` with the same try number."""

    def __init__(self, reschedule_date: datetime) -> None:
        super().__init__(f"Reschedule to {reschedule_date.isoformat()}")
        self.reschedule_date = reschedule_date


class FlowSensorTimeout(FlowFailException):
    """A sensor ran out of its `timeout`: it fails without using its retries (as Airflow)."""


class FlowTaskTerminated(FlowException):
    """Raised in a task when its supervisor stops it (time-out or worker shutdown)."""


class DagRunAlreadyExists(FlowException):
    """The DAG run to create exists already (TriggerDagRunOperator)."""


class DuplicateTaskIdFound(ValueError):
    """Two tasks of one DAG share a task_id."""


class DagCycleError(ValueError):
    """A DAG's dependencies form a cycle."""


AirflowException = FlowException
AirflowSkipException = FlowSkipException
AirflowFailException = FlowFailException
AirflowTaskTerminated = FlowTaskTerminated
AirflowRescheduleException = FlowRescheduleException
AirflowSensorTimeout = FlowSensorTimeout
AirflowDagCycleException = DagCycleError
