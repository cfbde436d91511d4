"""DAGs submitted as data: validate a `flow.v1.DagSpec` and build it with flow.sdk objects.

The scheduler builds a spec with `resolve_callables=False` (a python task stays a reference,
so no user code is imported there) and stores its serialized structure; a worker builds the
claimed task with `resolve_callables=True` and runs it as any operator: command tasks are
BashOperators, http tasks HttpOperators, python tasks PythonOperators.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.protobuf import json_format

from flow.errors import InvalidArgumentError
from flow.sdk.baseoperator import BaseOperator
from flow.sdk.context import Context
from flow.sdk.dag import DAG, validate_id
from flow.sdk.dag import _created as created_dags
from flow.sdk.exceptions import FlowException
from flow.sdk.trigger_rule import TriggerRule
from flow.v1 import dag_pb2

FILELOC_PREFIX = "dagspec:"
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
_CALLABLE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_PRESETS = ("@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly",
            "@yearly", "@annually", "@midnight")

__all__ = ["FILELOC_PREFIX", "CallableReference", "build_dag", "canonical_json", "fileloc_of",
           "is_spec_fileloc", "reduced_to_task", "resolve_callable", "spec_hash",
           "validate_spec", "validate_task"]


def fileloc_of(dag_id: str) -> str:
    """The fileloc a submitted DAG is stored with: `dagspec:<dag_id>`."""
    return f"{FILELOC_PREFIX}{dag_id}"


def is_spec_fileloc(fileloc: str) -> bool:
    """Whether `fileloc` names a DAG submitted as data (not a file of the DAG folder)."""
    return fileloc.startswith(FILELOC_PREFIX)


def canonical_json(spec: Any) -> str:
    """The spec as JSON with sorted keys and proto field names: what versions compare."""
    return json.dumps(json_format.MessageToDict(spec, preserving_proto_field_name=True),
                      sort_keys=True, separators=(",", ":"))


def spec_hash(spec: Any) -> str:
    """SHA-256 (hex) of the spec's canonical JSON."""
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()


def _bad(message: str, field: str, reason: str = "INVALID_DAG_SPEC") -> InvalidArgumentError:
    """The error, its message starting with the field at fault (also in ErrorInfo)."""
    if not message.startswith("Field '"):
        message = f"Field '{field}': {message[0].lower()}{message[1:]}"
    return InvalidArgumentError(message, field=field, reason=reason)


def _check_id(kind: str, value: str, field: str) -> None:
    try:
        validate_id(kind, value)
    except ValueError as exc:
        raise _bad(f"Field '{field}': {exc}.", field) from None


def _check_schedule(schedule: str, field: str) -> None:
    if schedule in ("", "None") or schedule in _PRESETS:
        return
    if schedule.startswith("@") or len(schedule.split()) not in (5, 6):
        raise _bad(f"Field '{field}' has value {schedule!r}: use a preset such as '@daily' or "
                   "a cron expression of 5 fields, or leave it empty for manual runs only.",
                   field, reason="INVALID_SCHEDULE")


def _check_kind(task: Any, at: str) -> None:
    kind = task.WhichOneof("kind")
    if kind is None:
        raise _bad(f"Task '{task.task_id}' ({at}) has no kind: set exactly one of command, "
                   "http or python.", f"{at}.kind", reason="TASK_KIND_MISSING")
    if kind == "command" and not task.command.command.strip():
        raise _bad(f"Field '{at}.command.command' is required.", f"{at}.command.command")
    if kind == "http":
        method = task.http.method.upper() or "POST"
        if method not in HTTP_METHODS:
            raise _bad(f"Field '{at}.http.method' has value {task.http.method!r}: use one of "
                       f"{', '.join(HTTP_METHODS)}.", f"{at}.http.method")
        if not task.http.url.startswith(("http://", "https://")):
            raise _bad(f"Field '{at}.http.url' has value {task.http.url!r}: give a full "
                       "http:// or https:// URL.", f"{at}.http.url")
        bad = [s for s in task.http.expected_status if not 100 <= s <= 599]
        if bad:
            raise _bad(f"Field '{at}.http.expected_status' holds {bad[0]}: status codes are "
                       "100 to 599.", f"{at}.http.expected_status")
        if task.http.timeout_seconds < 0:
            raise _bad(f"Field '{at}.http.timeout_seconds' must not be negative.",
                       f"{at}.http.timeout_seconds")
    if kind == "python" and not _CALLABLE.match(task.python.callable):
        raise _bad(f"Field '{at}.python.callable' has value {task.python.callable!r}: use "
                   "'package.module:function', importable on the worker.",
                   f"{at}.python.callable")


def validate_task(task: Any, at: str = "task") -> None:
    """Raise InvalidArgumentError naming the field at fault (`at`.task_id, ...) when one
    task's own settings are invalid (its dependencies are checked with the whole spec)."""
    _check_id("task_id", task.task_id, f"{at}.task_id")
    if task.trigger_rule and not TriggerRule.is_valid(task.trigger_rule):
        raise _bad(f"Field '{at}.trigger_rule' has value {task.trigger_rule!r}: use one of "
                   f"{', '.join(r.value for r in TriggerRule)}.", f"{at}.trigger_rule",
                   reason="UNKNOWN_TRIGGER_RULE")
    for name in ("retries", "retry_delay_seconds", "execution_timeout_seconds"):
        if getattr(task, name) < 0:
            raise _bad(f"Field '{at}.{name}' must not be negative.", f"{at}.{name}")
    if task.queue:
        _check_id("queue", task.queue, f"{at}.queue")
    if task.pool:
        _check_id("pool", task.pool, f"{at}.pool")
    _check_kind(task, at)


def _check_cycles(spec: Any, prefix: str) -> None:
    """Depth-first search over upstream edges; a back edge is a cycle, named in the error."""
    upstream = {t.task_id: list(t.upstream_task_ids) for t in spec.tasks}
    index = {t.task_id: i for i, t in enumerate(spec.tasks)}
    done: set[str] = set()
    for root in upstream:
        if root in done:
            continue
        path = [root]
        stack = [iter(upstream[root])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done.add(path.pop())
            elif nxt in path:
                cycle = [*path[path.index(nxt):], nxt]
                raise _bad(f"The tasks form a cycle: {' <- '.join(cycle)}. Remove one of "
                           "these dependencies.",
                           # the task whose upstream list closes the cycle
                           f"{prefix}.tasks[{index[path[-1]]}].upstream_task_ids",
                           reason="DAG_CYCLE")
            elif nxt not in done:
                path.append(nxt)
                stack.append(iter(upstream[nxt]))


def validate_spec(spec: Any, prefix: str = "spec") -> None:
    """Raise InvalidArgumentError naming the field at fault (`prefix`.tasks[i]...) when the
    spec is not a valid DAG: bad ids, duplicate task ids, unknown upstream tasks, cycles,
    tasks without a kind, bad trigger rules, URLs, callables or schedules."""
    _check_id("dag_id", spec.dag_id, f"{prefix}.dag_id")
    _check_schedule(spec.schedule, f"{prefix}.schedule")
    if spec.max_active_runs < 0:
        raise _bad(f"Field '{prefix}.max_active_runs' must not be negative.",
                   f"{prefix}.max_active_runs")
    if not spec.tasks:
        raise _bad(f"Field '{prefix}.tasks' must hold at least one task.", f"{prefix}.tasks")
    seen: dict[str, int] = {}
    for i, task in enumerate(spec.tasks):
        at = f"{prefix}.tasks[{i}]"
        validate_task(task, at)
        if task.task_id in seen:
            raise _bad(f"Task id '{task.task_id}' is used twice ({prefix}.tasks"
                       f"[{seen[task.task_id]}] and {at}); task ids must be unique.",
                       f"{at}.task_id", reason="DUPLICATE_TASK_ID")
        seen[task.task_id] = i
    for i, task in enumerate(spec.tasks):
        for upstream in task.upstream_task_ids:
            if upstream not in seen:
                raise _bad(f"Task '{task.task_id}' names an unknown upstream task "
                           f"'{upstream}'; known tasks: {', '.join(sorted(seen))}.",
                           f"{prefix}.tasks[{i}].upstream_task_ids",
                           reason="UNKNOWN_UPSTREAM_TASK")
    _check_cycles(spec, prefix)


class CallableReference(BaseOperator):
    """A python task as the scheduler sees it: the callable's import path, never imported.

    Args:
        callable_ref: "package.module:function".
        op_kwargs: keyword arguments for the call (JSON values).
    """

    def __init__(self, *, callable_ref: str, op_kwargs: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.callable_ref = callable_ref
        self.op_kwargs = dict(op_kwargs or {})

    @property
    def operator_name(self) -> str:
        """Shown as the PythonOperator it becomes on the worker."""
        return "PythonOperator"

    def execute(self, context: Context) -> Any:
        """Never run: workers build a PythonOperator instead."""
        raise FlowException(f"{self.callable_ref} was not resolved on the worker")


def _named_context(func: Callable[..., Any], context: Context) -> dict[str, Any]:
    """The context entries `func` names as parameters. Unlike a PythonOperator, a **kwargs
    catch-all gets none: a referenced function (json:dumps, say) was not written for them."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):  # some builtins have no signature
        return {}
    return {name: value for name, value in context.items()
            if name in params and params[name].kind != inspect.Parameter.VAR_KEYWORD}


def _python_operator(func: Callable[..., Any], ref: str, **kwargs: Any) -> BaseOperator:
    from flow.operators.python import PythonOperator

    class SpecPythonOperator(PythonOperator):
        """PythonOperator of a spec's python task: kwargs, plus the context it names."""

        @property
        def operator_name(self) -> str:
            return "PythonOperator"

        def execute(self, context: Context) -> Any:
            print(f"Calling {ref}", flush=True)
            result = func(**{**_named_context(func, context), **self.op_kwargs})
            print(f"Done. Returned value was: {result!r}", flush=True)
            return result

    return SpecPythonOperator(python_callable=func, **kwargs)


def resolve_callable(ref: str) -> Callable[..., Any]:
    """Import "package.module:function" (dotted attributes allowed after ':').

    Raises:
        ImportError: the module or attribute does not exist, or is not callable.
    """
    module_name, _, attr_path = ref.partition(":")
    target: Any = importlib.import_module(module_name)
    for attr in attr_path.split("."):
        try:
            target = getattr(target, attr)
        except AttributeError:
            raise ImportError(f"{module_name!r} has no attribute {attr_path!r} "
                              f"(python callable {ref!r})") from None
    if not callable(target):
        raise ImportError(f"python callable {ref!r} is a {type(target).__name__}, not callable")
    return target  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    """A Struct value as plain JSON data; integral numbers become int (Struct has only
    doubles)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _struct(message: Any, field: str) -> dict[str, Any]:
    if not message.HasField(field):
        return {}
    return _plain(json_format.MessageToDict(getattr(message, field)))  # type: ignore[no-any-return]


def _status_check(expected: list[int]) -> Callable[[Any], bool]:
    def check(response: Any) -> bool:
        if response.status_code not in expected:
            raise FlowException(f"HTTP status {response.status_code} is not one of the expected "
                                f"{expected}")
        return True

    return check


def _build_task(task: Any, resolve_callables: bool) -> BaseOperator:
    from flow.operators.bash import BashOperator
    from flow.operators.http import HttpOperator

    common: dict[str, Any] = {
        "task_id": task.task_id, "trigger_rule": task.trigger_rule or TriggerRule.ALL_SUCCESS,
        "retries": task.retries, "params": _struct(task, "params"),
        "execution_timeout": task.execution_timeout_seconds or None}
    if task.retry_delay_seconds:
        common["retry_delay"] = task.retry_delay_seconds
    if task.queue:
        common["queue"] = task.queue
    if task.pool:
        common["pool"] = task.pool
    kind = task.WhichOneof("kind")
    if kind == "command":
        c = task.command
        return BashOperator(bash_command=c.command, env=dict(c.env) or None, append_env=True,
                            cwd=c.cwd or None, **common)
    if kind == "http":
        h = task.http
        expected = list(h.expected_status)
        options: dict[str, Any] = {"timeout": h.timeout_seconds or 60.0,
                                   "check_response": not expected}
        return HttpOperator(endpoint=h.url, method=h.method or "POST", data=h.body or None,
                            headers=dict(h.headers), http_conn_id=None, extra_options=options,
                            response_check=_status_check(expected) if expected else None,
                            **common)
    if kind == "python":
        kwargs = _struct(task.python, "kwargs")
        if resolve_callables:
            return _python_operator(resolve_callable(task.python.callable),
                                    task.python.callable, op_kwargs=kwargs, **common)
        return CallableReference(callable_ref=task.python.callable, op_kwargs=kwargs, **common)
    raise ValueError(f"task {task.task_id!r} has no kind")


def build_dag(spec: Any, *, resolve_callables: bool,
              start_date: datetime | None = None) -> DAG:
    """The DAG of a validated spec, with fileloc `dagspec:<dag_id>`.

    Args:
        spec: a `flow.v1.DagSpec` that passed validate_spec.
        resolve_callables: import python tasks' callables (workers only); otherwise they
            stay CallableReference operators.
        start_date: the DAG's start_date (when its schedule starts counting).
    """
    dag = DAG(spec.dag_id, description=spec.description or None,
              schedule=spec.schedule if spec.schedule not in ("", "None") else None,
              start_date=start_date, tags=list(spec.tags), params=_struct(spec, "params"),
              doc_md=spec.doc_md or None, max_active_runs=spec.max_active_runs or 16,
              fileloc=fileloc_of(spec.dag_id))
    # Not a file's DAG: keep it out of the list the file loader collects.
    if dag in created_dags:
        created_dags.remove(dag)
    tasks: dict[str, BaseOperator] = {}
    with dag:
        for task in spec.tasks:
            tasks[task.task_id] = _build_task(task, resolve_callables)
    for task in spec.tasks:
        for upstream in task.upstream_task_ids:
            if upstream in tasks:  # a worker's reduced spec holds the claimed task only
                tasks[upstream] >> tasks[task.task_id]
    return dag


def reduced_to_task(spec: Any, task_id: str) -> Any:
    """A copy of `spec` with only task `task_id` (its upstream ids dropped): what a worker
    needs to run one attempt (the claim answer carries it)."""
    out = dag_pb2.DagSpec()
    out.CopyFrom(spec)
    del out.tasks[:]
    for task in spec.tasks:
        if task.task_id == task_id:
            kept = out.tasks.add()
            kept.CopyFrom(task)
            del kept.upstream_task_ids[:]
    return out
