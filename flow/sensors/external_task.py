"""ExternalTaskSensor: wait for another DAG's run, or some of its tasks, at a logical date
(Airflow's `airflow.sensors.external_task`). The states are read through the scheduler."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from flow.sdk.context import Context
from flow.sdk.exceptions import FlowException, FlowSkipException
from flow.sensors.base import BaseSensorOperator


class ExternalTaskSensor(BaseSensorOperator):
    """Done when the run of `external_dag_id` at this run's logical date (minus
    `execution_delta`, or `execution_date_fn(logical_date, context)`) is in `allowed_states`
    or, with `external_task_id(s)`, when each of those tasks is.

    A state in `failed_states` fails the sensor (skips it with soft_fail); one in
    `skipped_states` skips it. While the other DAG has no run at that date, the sensor waits
    (with `check_existence=True` too: Flow reads no other DAG's definition from a task).
    """

    template_fields = ("external_dag_id", "external_task_id", "external_task_ids")
    ui_color = "#4db7db"

    def __init__(self, *, external_dag_id: str, external_task_id: str | None = None,
                 external_task_ids: Collection[str] | None = None,
                 external_task_group_id: str | None = None,
                 allowed_states: Collection[str] | None = None,
                 skipped_states: Collection[str] | None = None,
                 failed_states: Collection[str] | None = None,
                 execution_delta: timedelta | None = None,
                 execution_date_fn: Callable[..., datetime] | None = None,
                 check_existence: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if external_task_id is not None and external_task_ids is not None:
            raise ValueError("Only one of `external_task_id` or `external_task_ids` may be "
                             "provided to ExternalTaskSensor; use external_task_ids.")
        if external_task_group_id is not None:
            raise ValueError("ExternalTaskSensor: external_task_group_id is not supported by "
                             "Flow yet; list the group's tasks in external_task_ids.")
        if execution_delta is not None and execution_date_fn is not None:
            raise ValueError("Only one of `execution_delta` or `execution_date_fn` may be "
                             "provided to ExternalTaskSensor; not both.")
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.external_task_ids: list[str] | None = (
            [external_task_id] if external_task_id is not None
            else list(external_task_ids) if external_task_ids is not None else None)
        self.allowed_states = [str(s) for s in (allowed_states or ["success"])]
        self.skipped_states = [str(s) for s in (skipped_states or [])]
        self.failed_states = [str(s) for s in (failed_states or [])]
        self.execution_delta = execution_delta
        self.execution_date_fn = execution_date_fn
        self.check_existence = check_existence

    def _logical_date(self, context: Context) -> datetime:
        logical: datetime = context["logical_date"]
        if self.execution_delta is not None:
            return logical - self.execution_delta
        if self.execution_date_fn is not None:
            return self.execution_date_fn(logical, context)
        return logical

    def poke(self, context: Context) -> bool:
        when = self._logical_date(context)
        tasks: Sequence[str] = self.external_task_ids or []
        what = f"{self.external_dag_id}.{list(tasks)}" if tasks else self.external_dag_id
        print(f"Poking for {what} on {when.isoformat()} ...", flush=True)
        reply = context["ti"].request({"op": "external_task_states",
                                       "dag_id": self.external_dag_id,
                                       "logical_date": when.isoformat(), "task_ids": list(tasks)})
        if reply is None or reply.get("error"):
            raise FlowException(f"Could not read the states of {what}: "
                                f"{reply and reply.get('error')}")
        found = reply["run"]
        if not found.get("found"):
            return False
        states = ([found["task_states"].get(t, "none") for t in tasks] if tasks
                  else [found["state"]])
        if any(s in self.failed_states for s in states):
            message = f"{what} on {when.isoformat()} is in a failed state: {states}"
            if self.soft_fail:
                raise FlowSkipException(message)
            raise FlowException(message)
        if any(s in self.skipped_states for s in states):
            raise FlowSkipException(f"{what} on {when.isoformat()} is in a skipped state: "
                                    f"{states}")
        return all(s in self.allowed_states for s in states)

