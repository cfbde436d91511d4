"""`flowcli dags test` and `flowcli tasks test`: one DAG run, or one task, in this process,
as Airflow's commands of the same names. No service is involved: the DAG file is imported
here, tasks run one after the other in topological order with print() and breakpoints
working, XComs stay in memory, and Variables and Connections come from the environment
(`FLOW_VAR_<KEY>`, `FLOW_CONN_<CONN_ID>` as a URI, as Airflow's environment backend).

Trigger rules and the run's final state are decided by the scheduler's own functions, so the
outcome is the one the platform would reach. A failed task is retried at once, up to its
retries (retry delays and execution_timeout are not applied), and nothing is stored.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import pathlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from flow.errors import InvalidArgumentError, NotFoundError, did_you_mean
from flow.log import (
    is_sensitive_key,
    mask_text,
    register_secret,
    register_sensitive_fields,
    register_sensitive_text,
)
from flow.sdk.dag import DAG
from flow.sdk.loader import list_dag_files, load_dags_from_file
from flow.sdk.mapped import MAX_MAP_LENGTH

Key = tuple[str, int]  # (task_id, map_index)


def _env_name(prefix: str, name: str) -> str:
    return f"{prefix}{name.upper()}"


@dataclass
class LocalComms:
    """Answers the SDK's requests of a locally run task: XComs from memory, Variables and
    Connections from the environment."""

    xcoms: dict[tuple[str, int, str], Any] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)  # set by tasks during the run
    current: Key = ("", -1)

    def send(self, frame: dict[str, Any]) -> None:
        if frame.get("op") == "xcom_push":
            self.xcoms[(*self.current, str(frame["key"]))] = frame.get("value")

    def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        op = frame.get("op")
        if op == "xcom_pull":
            return self._pull(str(frame["task_id"]), frame.get("map_index", -1),
                              str(frame["key"]))
        if op == "variable_get":
            key = str(frame["key"])
            value = self.variables.get(key, os.environ.get(_env_name("FLOW_VAR_", key)))
            if value is not None and is_sensitive_key(key):  # masked as on a worker
                register_sensitive_text(value)
            return {"found": value is not None, "value": value}
        if op == "variable_set":
            self.variables[str(frame["key"])] = str(frame.get("value"))
            return {"found": True}
        if op == "connection_get":
            return self._connection(str(frame["conn_id"]))
        return {"error": f"'{op}' is not available in a local test run (no scheduler)."}

    def _pull(self, task_id: str, map_index: int | None, key: str) -> dict[str, Any]:
        if map_index is None:  # every instance of a mapped task, in map_index order
            values = sorted((i, v) for (t, i, k), v in self.xcoms.items()
                            if t == task_id and k == key and i >= 0)
            return {"found": True, "value": [v for _, v in values]}
        wanted = (task_id, map_index, key)
        return {"found": wanted in self.xcoms, "value": self.xcoms.get(wanted)}

    def _connection(self, conn_id: str) -> dict[str, Any]:
        from flow.sdk.connections import Connection

        uri = os.environ.get(_env_name("FLOW_CONN_", conn_id))
        if uri is None:
            return {"found": False}
        conn = Connection(conn_id=conn_id, uri=uri)
        if conn.password:
            register_secret(conn.password)
        register_sensitive_fields(conn.extra or "")
        return {"found": True, "connection": {
            "conn_type": conn.conn_type, "description": conn.description, "host": conn.host,
            "schema": conn.schema, "login": conn.login, "password": conn.password,
            "port": conn.port, "extra": conn.extra}}


def find_dag(dag_id: str, folder: pathlib.Path) -> DAG:
    """Import the DAG files of `folder` until one defines `dag_id`."""
    names: list[str] = []
    for path in list_dag_files(folder):
        try:
            dags = load_dags_from_file(path)
        except Exception:  # noqa: S112 - a broken file elsewhere must not stop the search
            continue
        for dag in dags:
            if dag.dag_id == dag_id:
                return dag
            names.append(dag.dag_id)
    hint = did_you_mean(dag_id, names)
    raise NotFoundError(f"DAG '{dag_id}' is not defined in {folder}{hint}.",
                        reason="DAG_NOT_FOUND")


class LocalRun:
    """One DAG run in this process."""

    def __init__(self, dag: DAG, conf: dict[str, Any], logical_date: datetime | None,
                 *, max_map_length: int = MAX_MAP_LENGTH) -> None:
        self.dag = dag
        self.conf = conf
        self.max_map_length = max_map_length  # [core] max_map_length, as the platform's
        self.logical_date = logical_date or datetime.now(UTC)
        self.run_id = f"manual__{self.logical_date.isoformat()}"
        self.comms = LocalComms()
        self.states: dict[Key, str] = {}

    def payload(self, task_id: str, map_index: int, try_number: int) -> dict[str, Any]:
        date = self.logical_date.isoformat()
        return {"dag_id": self.dag.dag_id, "run_id": self.run_id, "task_id": task_id,
                "map_index": map_index, "try_number": try_number,
                "max_tries": self.dag.get_task(task_id).retries + 1,
                "fileloc": self.dag.fileloc, "logical_date": date, "conf": self.conf,
                "data_interval_start": date, "data_interval_end": date,
                "run_type": "manual", "hostname": "localhost",
                "max_map_length": self.max_map_length}

    def run_task(self, task_id: str, map_index: int = -1) -> str:
        """Execute one task instance here; its final state."""
        from services.worker.task_runner import run_in_process

        name = task_id + (f"[{map_index}]" if map_index >= 0 else "")
        tries = self.dag.get_task(task_id).retries + 1
        self.comms.current = (task_id, map_index)
        for try_number in range(1, tries + 1):
            for stale in [k for k in self.comms.xcoms if k[:2] == (task_id, map_index)]:
                del self.comms.xcoms[stale]  # as the scheduler does before a new try
            _say(f"running {name}, try {try_number} of {tries}")
            with _masked_output():
                done = run_in_process(self.payload(task_id, map_index, try_number),
                                      self.comms, self.dag)
            state, error = str(done.get("state")), done.get("error")
            _say(f"{name}: {state}"
                 + (f" ({error['type']}: {error['message']})" if error else ""))
            if state != "failed" or (error or {}).get("non_retryable"):
                break
        for skipped in done.get("skip_task_ids") or ():
            self.states.setdefault((skipped, -1), "skipped")
        self.states[(task_id, map_index)] = state
        return state

    def run(self) -> str:
        """Run every task in topological order by its trigger rule; the run's final state."""
        from services.scheduler.core.scheduling import (
            Decision,
            evaluate_trigger_rule,
            run_final_state,
        )

        for task in self.dag.topological_sort():
            if (task.task_id, -1) in self.states:  # skipped by a branch
                continue
            upstream = [s for (t, _), s in self.states.items() if t in task.upstream_task_ids]
            decision = evaluate_trigger_rule(str(task.trigger_rule), [_ti(s) for s in upstream])
            if decision is Decision.SKIP:
                self.states[(task.task_id, -1)] = "skipped"
            elif decision is not Decision.RUN:
                self.states[(task.task_id, -1)] = "upstream_failed"
            elif task.is_mapped:
                self._run_mapped(task)
            else:
                self.run_task(task.task_id)
        final = run_final_state([(t, _ti(s)) for (t, _), s in self.states.items()],
                                [t.task_id for t in self.dag.tasks if not t.downstream_task_ids])
        return str(final or "failed")

    def _run_mapped(self, task: Any) -> None:
        lengths: list[int] = []
        for source in task.expand_input.sources():
            if "length" in source:
                lengths.append(int(source["length"]))
                continue
            mapped = self.dag.get_task(source["task_id"]).is_mapped
            reply = self.comms._pull(source["task_id"], None if mapped else -1, source["key"])
            value = reply.get("value")
            lengths.append(len(value) if isinstance(value, list | dict) else 0)
        count = math.prod(lengths)
        if count > self.max_map_length:  # as the scheduler: the mapped task cannot run
            self.states[(task.task_id, -1)] = "upstream_failed"
            _say(f"{task.task_id}: upstream_failed (it maps over {count} elements; at most "
                 f"{self.max_map_length} are allowed, FLOW_CORE__MAX_MAP_LENGTH)")
            return
        if count == 0:
            self.states[(task.task_id, -1)] = "skipped"
            _say(f"{task.task_id}: skipped (nothing to map over)")
        for index in range(count):
            self.run_task(task.task_id, index)


class _MaskingBuffer(io.RawIOBase):
    """The binary side (`.buffer`) of a masking stream: what e.g. BashOperator copies from
    its command."""

    def __init__(self, target: TextIO) -> None:
        self._target = target

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._target.write(mask_text(bytes(data).decode(errors="replace")))
        return len(data)

    def flush(self) -> None:
        self._target.flush()


class _MaskingStream(io.TextIOBase):
    """A task's stdout or stderr with the secrets it read masked as `***`."""

    def __init__(self, target: TextIO) -> None:
        self._target = target
        self.buffer = _MaskingBuffer(target)

    def write(self, text: str) -> int:
        self._target.write(mask_text(text))
        return len(text)

    def flush(self) -> None:
        self._target.flush()


@contextlib.contextmanager
def _masked_output() -> Iterator[None]:
    """The task's output, masked, on stderr: stdout is left to the command's result."""
    stream = _MaskingStream(sys.stderr)
    with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
        yield


def _ti(state: str) -> Any:
    from flow.states import TaskInstanceState

    return TaskInstanceState(state)


def _say(text: str) -> None:
    print(f"[flowcli test] {text}", file=sys.stderr, flush=True)


def dags_folder(option: str | None) -> pathlib.Path:
    """--dags-folder, else ./dags when it exists, else the configured folder."""
    if option:
        return pathlib.Path(option)
    local = pathlib.Path.cwd() / "dags"
    if local.is_dir():
        return local
    from flow.config import load_config

    return load_config().dags_folder


def parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgumentError(f"--logical-date {text!r} is not an ISO 8601 date.",
                                   field="logical_date") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _conf(text: str | None) -> dict[str, Any]:
    from flow.cli.output import parse_conf

    return parse_conf(text) or {}


def _configured_max_map_length() -> int:
    from flow.config import load_config

    return load_config().core.max_map_length


async def test_dag(args: Any) -> int:
    """`flowcli dags test DAG_ID`: exit 0 when the run succeeds, 1 when it fails."""
    from flow.sdk.param import ParamValidationError, resolve_params, serialize_params

    dag = find_dag(args.dag_id, dags_folder(args.dags_folder))
    conf = _conf(args.conf)
    try:
        resolve_params(serialize_params(dag.params), conf, True)
    except ParamValidationError as exc:
        raise InvalidArgumentError(f"DAG '{dag.dag_id}' refused the conf: {exc}",
                                   field="conf") from None
    run = LocalRun(dag, conf, parse_date(args.logical_date),
                   max_map_length=_configured_max_map_length())
    final = run.run()
    from flow.cli.output import emit, render_data, render_table

    rows = [(t, "" if i < 0 else i, s) for (t, i), s in run.states.items()]
    if args.output != "table":
        emit(render_data({"dag_id": dag.dag_id, "state": final, "task_instances": [
            {"task_id": t, "map_index": i, "state": s} for (t, i), s in run.states.items()]},
            args.output))
    else:
        emit(render_table(["TASK_ID", "MAP_INDEX", "STATE"], rows))
        emit(f"DAG run {run.run_id} of {dag.dag_id}: {final}")
    return 0 if final == "success" else 1


async def test_task(args: Any) -> int:
    """`flowcli tasks test DAG_ID TASK_ID`: the task alone, its upstream ignored."""
    dag = find_dag(args.dag_id, dags_folder(args.dags_folder))
    if not dag.has_task(args.task_id):
        raise NotFoundError(f"DAG '{dag.dag_id}' has no task '{args.task_id}'"
                            f"{did_you_mean(args.task_id, dag.task_dict)}.",
                            reason="TASK_NOT_FOUND")
    run = LocalRun(dag, _conf(args.conf), parse_date(args.logical_date),
                   max_map_length=_configured_max_map_length())
    state = run.run_task(args.task_id, args.map_index)
    from flow.cli.output import emit, render_data

    value = run.comms.xcoms.get((args.task_id, args.map_index, "return_value"))
    if args.output != "table":
        emit(render_data({"task_id": args.task_id, "state": state, "return_value": value},
                         args.output))
    else:
        emit(f"{args.task_id}: {state}" + (f", returned {value!r}" if value is not None else ""))
    return 0 if state in ("success", "skipped") else 1


def add_local_options(p: Any) -> None:
    p.add_argument("--conf", help="JSON object passed to the run as dag_run.conf")
    p.add_argument("--logical-date", help="ISO 8601 (default: now)")
    p.add_argument("--dags-folder", help="default: ./dags when it exists, else the configured "
                                          "folder ($FLOW_HOME/dags)")
