"""Control-flow signals user code raises, with Airflow's names as aliases for ported DAGs."""

from __future__ import annotations


class FlowException(Exception):
    """Base of the exceptions a task may raise to steer its own outcome."""


class FlowSkipException(FlowException):
    """Raised by a task to end as `skipped` instead of `success`."""


class FlowFailException(FlowException):
    """Raised by a task to fail at once, without using its remaining retries."""


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
AirflowDagCycleException = DagCycleError
