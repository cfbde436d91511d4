"""Jinja rendering of template fields, with Airflow's environment and context helpers.

The environment of a DAG loads template files (an operator's `template_ext`, e.g. `.sh`)
relative to the DAG file's folder and its `template_searchpath`; undefined names are errors
(StrictUndefined), as in Airflow. `var` and `conn` read through the scheduler, lazily.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import jinja2

from flow.sdk.exceptions import FlowException

if TYPE_CHECKING:
    from flow.sdk.dag import DAG


class TemplateRenderError(FlowException):
    """A template field could not be rendered (syntax error, undefined name, missing file)."""


def _searchpath(dag: DAG | None) -> list[str]:
    paths: list[str] = []
    if dag is not None and dag.fileloc:
        paths.append(os.path.dirname(os.path.abspath(dag.fileloc)))
    extra = getattr(dag, "template_searchpath", None)
    if isinstance(extra, str):
        paths.append(extra)
    elif isinstance(extra, Iterable):
        paths.extend(str(p) for p in extra)
    return paths


def template_env(dag: DAG | None) -> jinja2.Environment:
    """The DAG's Jinja environment (built once per DAG object)."""
    cached = getattr(dag, "_flow_jinja_env", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    env_class: type[jinja2.Environment] = jinja2.Environment
    if getattr(dag, "render_template_as_native_obj", False):
        from jinja2.nativetypes import NativeEnvironment

        env_class = NativeEnvironment
    env = env_class(
        loader=jinja2.FileSystemLoader(_searchpath(dag)), undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True, cache_size=0)
    if dag is not None:
        env.globals.update(getattr(dag, "user_defined_macros", None) or {})
        env.filters.update(getattr(dag, "user_defined_filters", None) or {})
        with contextlib.suppress(AttributeError):
            dag._flow_jinja_env = env  # type: ignore[attr-defined]
    return env


def render_string(env: jinja2.Environment, text: str, context: dict[str, Any],
                  template_ext: Iterable[str], *, field: str, task_id: str) -> Any:
    """Render `text`: a template file's content when it ends with one of `template_ext`."""
    try:
        if any(text.endswith(ext) for ext in template_ext):
            return env.get_template(text).render(**context)
        if "{{" not in text and "{%" not in text and "{#" not in text:
            return text
        return env.from_string(text).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateRenderError(
            f"Template syntax error in field '{field}' of task '{task_id}' (line "
            f"{exc.lineno}): {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateRenderError(
            f"Template file '{exc.name}' of field '{field}' of task '{task_id}' was not found "
            f"in {_describe_paths(env)}") from exc
    except jinja2.UndefinedError as exc:
        raise TemplateRenderError(
            f"Could not render field '{field}' of task '{task_id}': {exc.message}") from exc


def _describe_paths(env: jinja2.Environment) -> str:
    loader = env.loader
    paths = getattr(loader, "searchpath", None) or []
    return ", ".join(str(p) for p in paths) or "no template folder"


class _VariableValues:
    """`var.value.key` and `var.json.key` in templates."""

    def __init__(self, deserialize_json: bool) -> None:
        self._json = deserialize_json

    def __getattr__(self, key: str) -> Any:
        from flow.sdk.variables import Variable

        if key.startswith("__"):
            raise AttributeError(key)
        return Variable.get(key, deserialize_json=self._json)

    def get(self, key: str, default_var: Any = None) -> Any:
        from flow.sdk.variables import Variable

        return Variable.get(key, default_var=default_var, deserialize_json=self._json)


class VariableAccessor:
    """`var` in the template context."""

    def __init__(self) -> None:
        self.value = _VariableValues(deserialize_json=False)
        self.json = _VariableValues(deserialize_json=True)


class ConnectionAccessor:
    """`conn` in the template context: `{{ conn.my_db.host }}`."""

    def __getattr__(self, conn_id: str) -> Any:
        from flow.sdk.connections import Connection

        if conn_id.startswith("__"):
            raise AttributeError(conn_id)
        return Connection.get(conn_id)

    def get(self, conn_id: str, default_conn: Any = None) -> Any:
        from flow.sdk.connections import Connection

        try:
            return Connection.get(conn_id)
        except KeyError:
            return default_conn


def jsonable(value: Any) -> Any:
    """`value` when it is JSON data, else its repr (rendered fields, params, the DAG
    structure the scheduler stores)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value
