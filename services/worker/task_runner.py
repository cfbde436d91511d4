"""What runs INSIDE the task process: load the DAG file, build the context, execute the task.

It reports to the supervisor over the control socket (services/worker/protocol.py): XCom
pushes and pulls, secrets to mask, and finally one `done` frame with the outcome.
"""

from __future__ import annotations

import contextlib
import html
import json
import signal
import socket
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from flow.sdk import macros
from flow.sdk.comms import SupervisorRequestError, installed
from flow.sdk.context import Context, set_current_context
from flow.sdk.exceptions import (
    FlowFailException,
    FlowRescheduleException,
    FlowSkipException,
    FlowTaskTerminated,
)
from flow.sdk.loader import load_dags_from_file
from flow.sdk.mapped import MAX_MAP_LENGTH, check_mappable
from flow.sdk.param import param_values
from flow.sdk.templating import ConnectionAccessor, VariableAccessor
from flow.sdk.xcom_arg import XCOM_RETURN_KEY
from services.worker.protocol import FrameChannel


def json_problem(value: Any) -> str | None:
    """Why `value` is not strict JSON data, or None when it is."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return str(exc)
    return None


XComPullError = SupervisorRequestError


class Comms(Protocol):
    """Where a running task's frames go: the supervisor, or a local test run."""

    def send(self, frame: dict[str, Any]) -> None: ...

    def request(self, frame: dict[str, Any]) -> dict[str, Any]: ...


class SupervisorComms:
    """Request/answer frames to the supervisor over the control socket (one at a time)."""

    def __init__(self, channel: FrameChannel) -> None:
        self._channel = channel
        self._next_id = 0

    def send(self, frame: dict[str, Any]) -> None:
        self._channel.send(frame)

    def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        request_id = self._next_id
        self._channel.send({**frame, "id": request_id})
        reply = self._channel.recv()
        if reply is None or reply.get("id") != request_id:
            raise SupervisorRequestError(f"no answer from the worker for {frame.get('op')}")
        return reply


@dataclass
class DagRunInfo:
    """`context["dag_run"]`: the run's id, logical date, data interval and conf."""

    dag_id: str
    run_id: str
    logical_date: datetime
    conf: dict[str, Any] = field(default_factory=dict)
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    run_type: str = "manual"

    @property
    def execution_date(self) -> datetime:
        return self.logical_date


class RuntimeTaskInstance:
    """`context["ti"]`: the running attempt, with XCom access through the supervisor."""

    def __init__(self, payload: dict[str, Any], comms: Comms, task: Any) -> None:
        self.dag_id: str = payload["dag_id"]
        self.run_id: str = payload["run_id"]
        self.task_id: str = payload["task_id"]
        self.map_index: int = int(payload["map_index"])
        self.try_number: int = int(payload["try_number"])
        self.max_tries: int = int(payload.get("max_tries") or 0)
        self.hostname: str = payload.get("hostname", "")
        # When the try started (a sensor's first poke, across reschedules); None if unknown.
        self.start_date: datetime | None = _date(payload, "ti_start_date")
        self.task = task
        # Tasks to skip when this attempt's result is stored (branching, short circuits).
        self.skip_task_ids: list[str] = []
        # What the attempt pushed, by key: checked when a mapped task maps over it.
        self.pushed: dict[str, Any] = {}
        self._comms = comms

    def __repr__(self) -> str:
        return (f"<TaskInstance: {self.dag_id}.{self.task_id} {self.run_id} "
                f"map_index={self.map_index} try={self.try_number}>")

    def xcom_push(self, key: str, value: Any) -> None:
        """Store `value` (JSON serializable) under `key` for this attempt."""
        problem = json_problem(value)
        if problem is not None:
            raise TypeError(
                f"XCom '{key}' of task '{self.task_id}' is not JSON serializable "
                f"({type(value).__name__}): {problem}. Push JSON data (dict, list, str, int, "
                "float, bool, None).")
        self.send_xcom(key, value)

    def send_xcom(self, key: str, value: Any) -> None:
        """Send a value already known to be JSON data to the supervisor."""
        self.pushed[key] = value
        self._comms.send({"op": "xcom_push", "key": key, "value": value})

    def xcom_pull(self, task_ids: str | Iterable[str] | None = None, dag_id: str | None = None,
                  key: str = XCOM_RETURN_KEY, include_prior_dates: bool = False, *,
                  map_indexes: int | Iterable[int] | None = None, default: Any = None,
                  map_index: int | None = None) -> Any:
        """XComs of this run (Airflow's signature). One task id gives its value (or
        `default`); a list of task ids gives a list, in their order, `default` where missing.
        `include_prior_dates` is accepted and ignored: XComs are read from this run. Without
        map_indexes, a mapped task's XCom is the list of its instances' values (in map_index
        order), as Airflow's."""
        if map_indexes is None and map_index is not None:
            map_indexes = map_index
        single = task_ids is None or isinstance(task_ids, str)
        ids = [self.task_id] if task_ids is None else (
            [task_ids] if isinstance(task_ids, str) else list(task_ids))
        indexes: list[int | None]
        if map_indexes is None or isinstance(map_indexes, int):
            indexes = [map_indexes]
        else:
            indexes, single = list(map_indexes), False
        values = [self._pull_one(t, key, self._source_index(t, i, dag_id), dag_id, default)
                  for t in ids for i in indexes]
        return values[0] if single and len(values) == 1 else values

    def _source_index(self, task_id: str, map_index: int | None, dag_id: str | None,
                      ) -> int | None:
        """The map_index to pull: as given, else None (all) for a mapped task, else -1."""
        if map_index is not None:
            return map_index
        dag = getattr(self.task, "dag", None)
        same_dag = dag_id in (None, self.dag_id)
        mapped = same_dag and dag is not None and dag.has_task(task_id) and dag.get_task(
            task_id).is_mapped
        return None if mapped else -1

    def request(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        """Send `frame` to the supervisor and return its answer (None if it did not answer)."""
        try:
            return self._comms.request(frame)
        except SupervisorRequestError:
            return None

    def _pull_one(self, task_id: str, key: str, map_index: int | None, dag_id: str | None,
                  default: Any) -> Any:
        reply = self._comms.request({"op": "xcom_pull", "task_id": task_id,
                                     "map_index": map_index, "key": key, "dag_id": dag_id})
        if reply.get("error"):
            raise XComPullError(str(reply["error"]))
        return reply.get("value") if reply.get("found") else default

    def get_template_context(self) -> Context:
        from flow.sdk.context import get_current_context

        return get_current_context()


def _date(payload: dict[str, Any], name: str) -> datetime | None:
    raw = payload.get(name)
    if not raw:
        return None
    value = datetime.fromisoformat(raw)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _build_context(payload: dict[str, Any], dag: Any, task: Any,
                   ti: RuntimeTaskInstance) -> Context:
    logical_date = _date(payload, "logical_date") or datetime.now(UTC)
    start = _date(payload, "data_interval_start") or logical_date
    end = _date(payload, "data_interval_end") or logical_date
    conf: dict[str, Any] = dict(payload.get("conf") or {})
    params = {**param_values(getattr(dag, "params", {})),
              **param_values(getattr(task, "params", {}))}
    if payload.get("conf_overrides_params", True):
        params.update(conf)
    dag_run = DagRunInfo(ti.dag_id, ti.run_id, logical_date, conf, start, end,
                         str(payload.get("run_type") or "manual"))
    ds = logical_date.strftime("%Y-%m-%d")
    return {
        "ti": ti, "task_instance": ti, "task": task, "dag": dag, "run_id": ti.run_id,
        "dag_run": dag_run, "logical_date": logical_date, "execution_date": logical_date,
        "data_interval_start": start, "data_interval_end": end, "ds": ds,
        "ds_nodash": ds.replace("-", ""), "ts": logical_date.isoformat(),
        "ts_nodash": logical_date.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": logical_date.isoformat().replace("-", "").replace(":", ""),
        "task_instance_key_str": f"{ti.dag_id}__{ti.task_id}__{ds.replace('-', '')}",
        "conf": conf, "params": params, "try_number": ti.try_number,
        "map_index": ti.map_index, "var": VariableAccessor(), "conn": ConnectionAccessor(),
        "macros": macros, "inlets": [], "outlets": [], "test_mode": False,
    }


def _error(exc: BaseException, *, non_retryable: bool = False) -> dict[str, Any]:
    return {"type": type(exc).__name__, "message": str(exc),
            "traceback": "".join(traceback.format_exception(exc)), "non_retryable": non_retryable}


def _callbacks(task: Any, name: str) -> list[Any]:
    found = getattr(task, name, None)
    if found is None:
        return []
    return list(found) if isinstance(found, list | tuple) else [found]


def run_callbacks(task: Any, name: str, context: Context) -> None:
    """Call the task's `name` callback(s) with the context; an error in one is logged and does
    not change the task's outcome (as in Airflow)."""
    for callback in _callbacks(task, name):
        print(f"Executing {name} {getattr(callback, '__name__', callback)}", flush=True)
        try:
            callback(context)
        except Exception:
            print(f"Error when executing {name}", file=sys.stderr, flush=True)
            traceback.print_exc()


def execute(payload: dict[str, Any], channel: FrameChannel,
            dags: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the attempt; returns the `done` frame (never raises for user-code errors).

    `dags` are the DAGs of the file when a template imported it already. The SDK's requests
    (XCom, Variable, Connection) reach the supervisor for the whole attempt, failure
    callbacks and email alerts included."""
    comms = SupervisorComms(channel)
    with installed(comms.request):
        return _execute(payload, comms, dags)


def run_in_process(payload: dict[str, Any], comms: Comms, dag: Any) -> dict[str, Any]:
    """Run the attempt in this process with `comms` answering its requests (flowcli's local
    `dags test`); returns the `done` frame."""
    with installed(comms.request):
        return _execute(payload, comms, {dag.dag_id: dag})


def _execute(payload: dict[str, Any], comms: Comms,
             dags: dict[str, Any] | None) -> dict[str, Any]:
    task: Any = None
    context: Context = {}
    try:
        if payload.get("dag_spec"):  # submitted as data: no file to import
            dags = {payload["dag_id"]: _dag_from_spec(payload["dag_spec"])}
        elif dags is None:
            dags = {d.dag_id: d for d in load_dags_from_file(payload["fileloc"])}
        dag = dags.get(payload["dag_id"])
        if dag is None:
            raise LookupError(f"DAG '{payload['dag_id']}' is not defined in {payload['fileloc']}")
        if payload.get("dag_callback"):
            return run_dag_callback(payload, comms, dag)
        if not dag.has_task(payload["task_id"]):
            raise LookupError(f"DAG '{dag.dag_id}' has no task '{payload['task_id']}'")
        task = dag.get_task(payload["task_id"])
        ti = RuntimeTaskInstance(payload, comms, task)
        context = _build_context(payload, dag, task, ti)
        with set_current_context(context):
            if task.is_mapped:  # this instance's operator, with its element
                task = ti.task = context["task"] = task.unmap(context)
            task.render_template_fields(context)
            run_callbacks(task, "on_execute_callback", context)
            rendered = task.rendered_fields()
            if any(value not in (None, "", [], {}) for value in rendered.values()):
                comms.send({"op": "rendered_fields", "fields": rendered})
            result = task.execute(context)
            pushing = getattr(task, "do_xcom_push", True) and result is not None
            check_mappable(task, {**ti.pushed, **({XCOM_RETURN_KEY: result} if pushing else {})},
                           int(payload.get("max_map_length") or MAX_MAP_LENGTH))
            if pushing:
                problem = json_problem(result)
                if problem is not None:
                    raise TypeError(
                        f"Task '{task.task_id}' returned a value of type "
                        f"{type(result).__name__} that is not JSON serializable ({problem}); "
                        "return JSON data or set do_xcom_push=False.")
                ti.send_xcom(XCOM_RETURN_KEY, result)
            run_callbacks(task, "on_success_callback", context)
    except FlowRescheduleException as exc:
        print(f"Rescheduling task: next poke at {exc.reschedule_date.isoformat()}",
              file=sys.stderr, flush=True)
        return {"op": "done", "state": "up_for_reschedule", "error": None,
                "reschedule_date": exc.reschedule_date.isoformat()}
    except FlowSkipException as exc:
        print(f"Skipping task: {exc}", file=sys.stderr, flush=True)
        if task is not None and context:
            with set_current_context(context):
                run_callbacks(task, "on_skipped_callback", context)
        return {"op": "done", "state": "skipped", "error": None}
    except FlowFailException as exc:
        traceback.print_exc()
        _after_failure(task, context, exc, retrying=False)
        return {"op": "done", "state": "failed", "error": _error(exc, non_retryable=True)}
    except Exception as exc:
        traceback.print_exc()
        try_number, max_tries = int(payload.get("try_number") or 1), int(
            payload.get("max_tries") or 0)
        _after_failure(task, context, exc, retrying=try_number < max_tries)
        return {"op": "done", "state": "failed", "error": _error(exc)}
    return {"op": "done", "state": "success", "error": None,
            "skip_task_ids": context["ti"].skip_task_ids}


def _dag_from_spec(data: dict[str, Any]) -> Any:
    """The DAG of a spec (reduced to the attempt's task), its python callables imported."""
    from google.protobuf import json_format

    from flow.sdk.dagspec import build_dag
    from flow.v1 import dag_pb2

    spec = json_format.ParseDict(data, dag_pb2.DagSpec())
    return build_dag(spec, resolve_callables=True)


def run_dag_callback(payload: dict[str, Any], comms: Comms, dag: Any,
                     ) -> dict[str, Any]:
    """Call the DAG's on_success_callback or on_failure_callback with the run's context (and
    `reason`); an error in it is logged and reported as a failed callback."""
    name = str(payload["dag_callback"])
    if name not in ("on_success_callback", "on_failure_callback"):
        raise ValueError(f"unknown DAG callback {name!r}")
    ti = RuntimeTaskInstance(payload, comms, None)
    context = _build_context(payload, dag, None, ti)
    context.update(reason=payload.get("reason", ""), ti=None, task_instance=None, task=None)
    failed = False
    with set_current_context(context):
        for callback in _callbacks(dag, name):
            print(f"Executing {name} {getattr(callback, '__name__', callback)}", flush=True)
            try:
                callback(context)
            except Exception as exc:
                failed = True
                print(f"Error when executing {name}", file=sys.stderr, flush=True)
                traceback.print_exc()
                error = _error(exc)
    if failed:
        return {"op": "done", "state": "failed", "error": error}
    return {"op": "done", "state": "success", "error": None}


def _after_failure(task: Any, context: Context, exc: BaseException, *, retrying: bool) -> None:
    """on_retry_callback when the scheduler will retry the task, else on_failure_callback."""
    if task is None or not context:
        return
    context["exception"] = exc
    with set_current_context(context):
        run_callbacks(task, "on_retry_callback" if retrying else "on_failure_callback", context)
    if getattr(task, "email", None) and getattr(
            task, "email_on_retry" if retrying else "email_on_failure", False):
        _email_alert(task, context, exc, "up_for_retry" if retrying else "failed")


def _email_alert(task: Any, context: Context, exc: BaseException, state: str) -> None:
    """Airflow's email_on_failure / email_on_retry alert; a failure to send is logged."""
    from flow.utils.email import send_email

    ti = context["ti"]
    subject = f"Flow alert: <TaskInstance: {ti.dag_id}.{ti.task_id} {ti.run_id} [{state}]>"
    body = (f"Try {ti.try_number} out of {ti.max_tries}<br>Exception:<br>"
            f"{html.escape(repr(exc))}<br>Host: {html.escape(ti.hostname)}<br>")
    try:
        send_email(task.email, subject, body)
    except Exception:
        print(f"Failed to send email to: {task.email}", file=sys.stderr, flush=True)
        traceback.print_exc()


def warm_up() -> None:
    """Fill the SDK's per-process caches in the forkserver, so that every task process
    forked from it starts with them (constructor signatures, the Jinja environment)."""
    from flow.operators.bash import BashOperator
    from flow.operators.empty import EmptyOperator
    from flow.operators.python import PythonOperator
    from flow.sdk.baseoperator import accepted_params, default_jinja_env
    from flow.sdk.decorators import _python_operator_class

    for cls in (BashOperator, EmptyOperator, PythonOperator, _python_operator_class()):
        accepted_params(cls)
    default_jinja_env().from_string("{{ ds }}").render(ds="")


warm_up()


def _terminated(signum: int, frame: object) -> None:
    """The supervisor stops the attempt (time-out, shutdown) with SIGTERM to its group, and
    SIGKILL after a grace period. As Airflow, the task sees an exception, so that its
    on_failure/on_retry callbacks run within that grace period."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process
    print("Received SIGTERM. Terminating subprocesses.", file=sys.stderr, flush=True)
    raise FlowTaskTerminated("Task received SIGTERM signal")


def run_task(payload: dict[str, Any], control: socket.socket,
             dags: dict[str, Any] | None = None) -> int:
    """Entry point used by the process pool; returns the process exit code."""
    channel = FrameChannel(control)
    signal.signal(signal.SIGTERM, _terminated)
    done = execute(payload, channel, dags)
    sys.stdout.flush()
    sys.stderr.flush()
    channel.send(done)
    channel.close()
    return 0 if done["state"] in ("success", "skipped", "up_for_reschedule") else 1


WARM_UP_DAG_ID = "__flow_warm_up__"


def _noop() -> None:
    return None


def warm_up_dags(dags: Iterable[Any]) -> None:
    """In a DAG template, before it forks: what each task process of these DAGs would build
    for itself on first use (the DAG's Jinja environment, its callables' signatures), built
    once and shared. That saved ~200 copy-on-write page faults per attempt."""
    from flow.operators.python import callable_signature
    from flow.sdk.templating import template_env

    for dag in dags:
        template_env(dag)
        for task in dag.tasks:
            func = getattr(task, "python_callable", None)
            if callable(func):
                with contextlib.suppress(TypeError, ValueError):  # unhashable, no signature
                    callable_signature(func)


def warm_up_execution() -> None:
    """Run one no-op task of a built-in DAG (never user code) through the whole task path, in
    a template before it forks: the lazy set-up on that path (imports, caches, first
    allocations) then happens once, not in every task process. That saved ~1 ms of CPU and
    a quarter of the copy-on-write faults per attempt."""
    import io

    from flow.sdk import DAG, task

    with DAG(WARM_UP_DAG_ID, schedule=None, start_date=datetime(2024, 1, 1, tzinfo=UTC)) as dag:
        task(task_id="noop")(_noop)()
    payload = {"dag_id": WARM_UP_DAG_ID, "run_id": "warm_up", "task_id": "noop",
               "map_index": -1, "try_number": 1, "fileloc": "", "max_tries": 1,
               "logical_date": datetime(2024, 1, 1, tzinfo=UTC).isoformat()}
    ours, theirs = socket.socketpair()
    handler = signal.getsignal(signal.SIGTERM)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            run_task(payload, ours, dags={WARM_UP_DAG_ID: dag})
    finally:
        signal.signal(signal.SIGTERM, handler)
        ours.close()
        theirs.close()
