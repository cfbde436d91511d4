"""Dynamic task mapping, as Airflow's: `Operator.partial(...).expand(...)`, `expand_kwargs`,
and the same on TaskFlow tasks.

A mapped task is one task of the DAG (a MappedOperator). When its upstream is done, the
scheduler counts what it maps over (literal lists here, upstream XComs there) and creates
one task instance per element, map_index 0..n-1; zero elements skip it. Each instance
builds the real operator on the worker (`unmap`), with the element of its map_index.
Several `expand` arguments map over their cross product, the last one varying fastest.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sized
from typing import Any

from flow.sdk.baseoperator import BaseOperator, accepted_params, defaults_for, detached
from flow.sdk.context import Context
from flow.sdk.xcom_arg import XComArg, find_xcom_args

# As Airflow's [core] max_map_length: a mapped task has at most this many instances.
MAX_MAP_LENGTH = 1024


class UnmappableXComTypePushed(TypeError):
    """An upstream task pushed a value a mapped task cannot map over (not a list or dict)."""

    def __init__(self, value: Any) -> None:
        super().__init__(f"unmappable return type {type(value).__qualname__!r}")


class UnmappableXComLengthPushed(ValueError):
    """An upstream task pushed more elements than a mapped task may have instances."""

    def __init__(self, value: Sized, max_length: int) -> None:
        super().__init__(f"unmappable return value length: {len(value)} > {max_length}")


class XComForMappingNotPushed(TypeError):
    """An upstream task pushed nothing where a mapped task maps over its XCom."""

    def __init__(self) -> None:
        super().__init__("did not push XCom for task mapping")


def _mappable(value: Any) -> bool:
    return isinstance(value, list | tuple | dict)


def _elements(value: Any) -> list[Any]:
    """The elements mapped over: a list's items, a dict's (key, value) pairs."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list | tuple):
        return list(value)
    raise UnmappableXComTypePushed(value) from None


class ExpandInput:
    """What a mapped task maps over."""

    kind = ""

    def xcom_args(self) -> list[XComArg]:
        raise NotImplementedError

    def sources(self) -> list[dict[str, Any]]:
        """For the scheduler: each source's literal length, or the XCom it reads."""
        raise NotImplementedError

    def resolve(self, context: Context, map_index: int) -> dict[str, Any]:
        """The keyword arguments of instance `map_index`."""
        raise NotImplementedError


def _source(value: Any) -> dict[str, Any]:
    if isinstance(value, XComArg):
        return {"task_id": value.operator.task_id, "key": value.key}
    return {"length": len(value)}


def _resolved(value: Any, context: Context) -> Any:
    return value.resolve(context) if isinstance(value, XComArg) else value


class DictOfListsExpandInput(ExpandInput):
    """`expand(x=[...], y=[...])`: the cross product of the arguments' elements."""

    kind = "dict"

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def xcom_args(self) -> list[XComArg]:
        return [v for v in self.value.values() if isinstance(v, XComArg)]

    def sources(self) -> list[dict[str, Any]]:
        return [_source(v) for v in self.value.values()]

    def resolve(self, context: Context, map_index: int) -> dict[str, Any]:
        elements = {name: _elements(_resolved(v, context))
                    for name, v in self.value.items()}
        total = math.prod(len(e) for e in elements.values())
        if not 0 <= map_index < total:
            raise IndexError(f"map_index {map_index} is out of range: the task maps over "
                             f"{total} element(s) now")
        chosen: dict[str, Any] = {}
        index = map_index
        for name in reversed(list(elements)):  # as itertools.product: the last varies fastest
            items = elements[name]
            chosen[name] = items[index % len(items)]
            index //= len(items)
        return {name: chosen[name] for name in self.value}


class ListOfDictsExpandInput(ExpandInput):
    """`expand_kwargs([{...}, {...}])`: one instance per dict of keyword arguments."""

    kind = "list"

    def __init__(self, value: Any) -> None:
        self.value = value

    def xcom_args(self) -> list[XComArg]:
        return find_xcom_args(self.value)

    def sources(self) -> list[dict[str, Any]]:
        return [_source(self.value)]

    def resolve(self, context: Context, map_index: int) -> dict[str, Any]:
        items = _elements(_resolved(self.value, context))
        if not 0 <= map_index < len(items):
            raise IndexError(f"map_index {map_index} is out of range: the task maps over "
                             f"{len(items)} element(s) now")
        chosen = items[map_index]
        if not isinstance(chosen, Mapping):
            raise TypeError(f"expand_kwargs() expects a list of dicts; element {map_index} "
                            f"is {type(chosen).__name__}")
        return {str(k): _resolved(v, context) for k, v in chosen.items()}


def validate_expand(owner: str, accepted: Callable[[str], bool], partial: Mapping[str, Any],
                    mapped: Mapping[str, Any]) -> None:
    """Airflow's parse-time checks of `expand()` arguments (TypeError/ValueError)."""
    if not mapped:
        raise TypeError(f"{owner}.expand() got no arguments to expand against")
    for name, value in mapped.items():
        if name == "task_id":
            raise TypeError(f"{owner}.expand() cannot map over task_id")
        if not accepted(name):
            raise TypeError(f"{owner}.expand() got an unexpected keyword argument {name!r}")
        if name in partial:
            raise TypeError(f"{owner}.expand() got multiple values for argument {name!r}")
        if not (isinstance(value, XComArg) or _mappable(value)):
            raise ValueError(f"expand() got an unexpected type {type(value).__name__!r} for "
                             f"keyword argument {name!r}")


def validate_expand_kwargs(owner: str, value: Any) -> None:
    if isinstance(value, XComArg):
        return
    if not isinstance(value, list | tuple) or not all(
            isinstance(v, Mapping | XComArg) for v in value):
        raise TypeError(f"{owner}.expand_kwargs() expects a list of dicts or an XComArg; got "
                        f"{type(value).__name__}")


class OperatorPartial:
    """`SomeOperator.partial(**kwargs)`: the arguments every mapped instance shares."""

    def __init__(self, operator_class: type[BaseOperator], kwargs: dict[str, Any]) -> None:
        if "task_id" not in kwargs:
            raise TypeError(f"{operator_class.__name__}.partial() needs a task_id")
        self.operator_class = operator_class
        self.accepted = accepted_params(operator_class)
        unknown = sorted(k for k in kwargs if k not in self.accepted
                         and k not in ("dag", "task_group", "default_args"))
        if unknown:
            raise TypeError(
                f"Invalid arguments were passed to {operator_class.__name__}.partial() "
                f"(task_id: {kwargs['task_id']}). Invalid arguments were: {unknown}")
        self.kwargs = defaults_for(operator_class, kwargs)

    def expand(self, **mapped: Any) -> XComArg:
        validate_expand(self.operator_class.__name__, self.accepted.__contains__,
                        self.kwargs, mapped)
        return MappedOperator(self.operator_class, self.kwargs,
                              DictOfListsExpandInput(dict(mapped))).output

    def expand_kwargs(self, value: Any) -> XComArg:
        validate_expand_kwargs(self.operator_class.__name__, value)
        return MappedOperator(self.operator_class, self.kwargs,
                              ListOfDictsExpandInput(value)).output


_NOT_FOR_INSTANCES = ("dag", "task_group", "default_args")


class MappedOperator(BaseOperator):
    """A mapped task: BaseOperator's arguments from `partial`, so relationships, groups and
    the scheduler treat it as one task; `unmap` builds the operator of one instance."""

    is_mapped = True

    def __init__(self, operator_class: type[BaseOperator], partial_kwargs: dict[str, Any],
                 expand_input: ExpandInput, expand_into: str = "") -> None:
        self.operator_class = operator_class
        self.partial_kwargs = partial_kwargs
        self.expand_input = expand_input
        # TaskFlow maps into the function's arguments (op_kwargs), operators into their own.
        self.expand_into = expand_into
        base = accepted_params(BaseOperator)
        BaseOperator.__init__(self, **{k: v for k, v in partial_kwargs.items() if k in base})
        self._finish_init()

    __init__.__wrapped_by_flow__ = True  # type: ignore[attr-defined]  # defaults: partial()

    def __repr__(self) -> str:
        return f"<Mapped({self.operator_class.__name__}): {self.task_id}>"

    @property
    def operator_name(self) -> str:
        return self.operator_class.__name__

    def _finish_init(self) -> None:
        for arg in [*find_xcom_args(list(self.partial_kwargs.values())),
                    *self.expand_input.xcom_args()]:
            self.set_upstream(arg.operator)

    def unmap(self, context: Context) -> BaseOperator:
        """The operator of the instance `context["ti"].map_index`, its element resolved."""
        values = self.expand_input.resolve(context, int(context["ti"].map_index))
        kwargs = {k: v for k, v in self.partial_kwargs.items() if k not in _NOT_FOR_INSTANCES}
        if self.expand_into:
            kwargs[self.expand_into] = {**(kwargs.get(self.expand_into) or {}), **values}
        else:
            kwargs.update(values)
        with detached():
            op = self.operator_class(**kwargs)
        op.task_id, op.dag, op.task_group = self.task_id, self.dag, self.task_group
        op.upstream_task_ids = set(self.upstream_task_ids)
        op.downstream_task_ids = set(self.downstream_task_ids)
        return op


def function_accepts(func: Callable[..., Any]) -> Callable[[str], bool]:
    """Whether a TaskFlow function takes a keyword argument of this name."""
    params = inspect.signature(func).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return lambda name: True
    names = {n for n, p in params.items() if p.kind != p.VAR_POSITIONAL}
    return names.__contains__


def mapped_consumers(task: BaseOperator) -> list[tuple[BaseOperator, str]]:
    """The mapped tasks that map over an XCom of `task`, with the XCom key each reads."""
    if task.dag is None:
        return []
    found: list[tuple[BaseOperator, str]] = []
    for task_id in sorted(task.downstream_task_ids):
        other = task.dag.task_dict.get(task_id)
        expand_input = getattr(other, "expand_input", None)
        if other is None or expand_input is None:
            continue
        found.extend((other, arg.key) for arg in expand_input.xcom_args()
                     if arg.operator is task)
    return found


def check_mappable(task: BaseOperator, values: Mapping[str, Any],
                   max_length: int = MAX_MAP_LENGTH) -> None:
    """Raise Airflow's error when an XCom a mapped task maps over is missing, not a list or
    dict, or too long; `values` are the XComs the attempt pushed, by key."""
    for _consumer, key in mapped_consumers(task):
        if key not in values or values[key] is None:
            raise XComForMappingNotPushed()
        value = values[key]
        if not _mappable(value):
            raise UnmappableXComTypePushed(value)
        if len(value) > max_length:
            raise UnmappableXComLengthPushed(value, max_length)


def serialize_expand(expand_input: ExpandInput) -> dict[str, Any]:
    return {"kind": expand_input.kind, "sources": expand_input.sources()}
