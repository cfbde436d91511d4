"""TriggerDagRunOperator: start a run of another DAG, optionally waiting for it to finish.

The run is created by the scheduler (TaskExecutionService.TriggerDagRun, through the worker's
supervisor); the task never opens the metadata DB.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flow.sdk.baseoperator import BaseOperator
from flow.sdk.context import Context
from flow.sdk.exceptions import DagRunAlreadyExists, FlowException, FlowSkipException

XCOM_RUN_ID = "trigger_run_id"
XCOM_LOGICAL_DATE_ISO = "trigger_logical_date_iso"


__all__ = ["DagRunAlreadyExists", "TriggerDagRunOperator"]


class TriggerDagRunOperator(BaseOperator):
    """Trigger a run of `trigger_dag_id`.

    Args:
        trigger_dag_id: the DAG to run (templated).
        trigger_run_id: the new run's id (templated); default `manual__<logical date>`.
        conf: the new run's conf (templated).
        logical_date: the new run's logical date (datetime or ISO text; templated).
        wait_for_completion: wait until the run reaches an allowed or failed state.
        poke_interval: seconds between checks while waiting (Airflow's default 60).
        allowed_states: run states that end the wait successfully (default ["success"]).
        failed_states: run states that fail the task (default ["failed"]).
        skip_when_already_exists: end skipped, instead of failing, when the run exists.
        reset_dag_run: not supported yet (clearing a run belongs to the operations API);
            True fails the task when the run exists.
    """

    template_fields = ("trigger_dag_id", "trigger_run_id", "logical_date", "conf")
    ui_color = "#ffefeb"

    def __init__(
        self,
        *,
        trigger_dag_id: str,
        trigger_run_id: str | None = None,
        conf: dict[str, Any] | None = None,
        logical_date: str | datetime | None = None,
        reset_dag_run: bool = False,
        wait_for_completion: bool = False,
        poke_interval: float = 60,
        allowed_states: Iterable[str] | None = None,
        failed_states: Iterable[str] | None = None,
        skip_when_already_exists: bool = False,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.trigger_dag_id = trigger_dag_id
        self.trigger_run_id = trigger_run_id
        self.conf = conf
        self.logical_date = logical_date
        self.reset_dag_run = reset_dag_run
        self.wait_for_completion = wait_for_completion
        self.poke_interval = poke_interval
        self.allowed_states = [str(s) for s in allowed_states] if allowed_states else ["success"]
        # As Airflow: None means ["failed"]; an explicit empty list means none.
        self.failed_states = ["failed"] if failed_states is None else [str(s)
                                                                       for s in failed_states]
        self.skip_when_already_exists = skip_when_already_exists
        self.deferrable = deferrable

    def execute(self, context: Context) -> None:
        ti = context["ti"]
        logical = self.logical_date.isoformat() if isinstance(
            self.logical_date, datetime) else self.logical_date
        reply = ti.request({"op": "trigger_dag_run", "dag_id": self.trigger_dag_id,
                            "run_id": self.trigger_run_id or "", "conf": dict(self.conf or {}),
                            "logical_date": logical})
        if reply is None:
            raise FlowException("No answer from the worker to the trigger request")
        if reply.get("error"):
            if reply.get("reason") == "DAG_RUN_EXISTS":
                if self.skip_when_already_exists:
                    raise FlowSkipException(
                        f"DAG run {self.trigger_run_id} already exists, skipping.")
                raise DagRunAlreadyExists(str(reply["error"]))
            raise FlowException(f"Could not trigger DAG '{self.trigger_dag_id}': "
                                f"{reply['error']}")
        run = reply["run"]
        print(f"Triggered DAG {run['dag_id']} with run_id {run['run_id']}", flush=True)
        ti.xcom_push(key=XCOM_RUN_ID, value=run["run_id"])
        ti.xcom_push(key=XCOM_LOGICAL_DATE_ISO, value=run["logical_date"])
        if self.wait_for_completion:
            self._wait(ti, run["run_id"])

    def _wait(self, ti: Any, run_id: str) -> None:
        while True:
            print(f"Waiting for {self.trigger_dag_id} on {run_id} to become allowed state "
                  f"{self.allowed_states} ...", flush=True)
            time.sleep(self.poke_interval)
            reply = ti.request({"op": "get_dag_run", "dag_id": self.trigger_dag_id,
                                "run_id": run_id})
            if reply is None or reply.get("error"):
                raise FlowException(f"Could not read the run {run_id} of "
                                    f"{self.trigger_dag_id}: {reply and reply.get('error')}")
            state = reply["run"]["state"]
            if state in self.failed_states:
                raise FlowException(
                    f"{self.trigger_dag_id} failed with failed states {state}")
            if state in self.allowed_states:
                print(f"{self.trigger_dag_id} finished with allowed state {state}", flush=True)
                return
