"""Param: a DAG or task parameter with a default and a JSON-schema, as Airflow's.

Example:
    from flow.sdk import DAG, Param

    with DAG("report", params={"days": Param(7, type="integer", minimum=1),
                               "env": Param("dev", enum=["dev", "prod"])}):
        ...

A trigger's conf overrides the defaults; a run whose resulting params fail their schema is
refused by the scheduler with the reason.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from flow.sdk.templating import jsonable


class ParamValidationError(ValueError):
    """A param's value does not satisfy its schema (Airflow's ParamValidationError)."""


class _NotSet:
    def __repr__(self) -> str:
        return "NOTSET"


NOTSET: Any = _NotSet()


class Param:
    """A parameter with an optional default, a description and JSON-schema keywords.

    Args:
        default: the value when the trigger's conf does not set one; without a default the
            param is required.
        description: shown to people triggering the DAG.
        **schema: JSON-schema keywords: type, enum, minimum, maximum, minLength, maxLength,
            pattern, format, items, properties, required, ...
    """

    def __init__(self, default: Any = NOTSET, description: str | None = None,
                 **schema: Any) -> None:
        self.value = default
        self.description = description
        self.schema: dict[str, Any] = dict(schema)

    def __repr__(self) -> str:
        return f"Param({self.value!r}, schema={self.schema!r})"

    @property
    def has_value(self) -> bool:
        return self.value is not NOTSET

    def resolve(self, value: Any = NOTSET, suppress_exception: bool = False) -> Any:
        """The value (`value` if given, else the default), validated against the schema."""
        final = self.value if value is NOTSET else value
        try:
            return validate_param_value("param", final, self.schema)
        except ParamValidationError:
            if suppress_exception:
                return None
            raise

    def dump(self) -> dict[str, Any]:
        """The serialized form the scheduler validates triggers with."""
        out: dict[str, Any] = {"schema": self.schema, "description": self.description}
        if self.has_value:
            out["default"] = self.value
        return out


def validate_param_value(name: str, value: Any, schema: Mapping[str, Any]) -> Any:
    """`value` when it satisfies `schema`; ParamValidationError naming the param otherwise."""
    if value is NOTSET:
        raise ParamValidationError(
            f"Param '{name}': no value was passed and it has no default value.")
    if not schema:
        return value
    import jsonschema  # only when a schema needs it: DAG files import this module

    try:
        jsonschema.validate(value, dict(schema), format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as exc:
        raise ParamValidationError(f"Param '{name}' with value {value!r}: {exc.message}.") \
            from None
    except jsonschema.SchemaError as exc:
        raise ParamValidationError(f"Param '{name}' has an invalid schema: {exc.message}.") \
            from None
    except Exception as exc:  # e.g. an unresolvable $ref: the schema cannot be applied
        raise ParamValidationError(
            f"Param '{name}': its schema could not be applied ({type(exc).__name__}: {exc}).") \
            from None
    return value


def serialize_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Every param as {"default"?, "schema", "description"}; plain values have no schema.

    Raises:
        ParamValidationError: a Param's default does not satisfy its own schema.
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Param):
            dumped = value.dump()
            if "default" in dumped:
                # An invalid default is the DAG file's error (an import error), as Airflow's
                # params validation at parse time; a param without default is "required".
                validate_param_value(key, dumped["default"], value.schema)
                dumped["default"] = jsonable(dumped["default"])
            out[key] = dumped
        else:
            out[key] = {"default": jsonable(value), "schema": {}, "description": None}
    return out


def resolve_params(serialized: Mapping[str, Any], conf: Mapping[str, Any],
                   conf_overrides_params: bool = True) -> dict[str, Any]:
    """A run's params: the defaults, overridden by `conf` (all of its keys, as Airflow's
    dag_run_conf_overrides_params), each validated against its schema.

    Raises:
        ParamValidationError: naming the first param that fails.
    """
    values: dict[str, Any] = {}
    for key, spec in serialized.items():
        spec = spec if isinstance(spec, Mapping) else {"default": spec}
        value = spec.get("default", NOTSET)
        if conf_overrides_params and key in conf:
            value = conf[key]
        values[key] = validate_param_value(key, value, spec.get("schema") or {})
    if conf_overrides_params:
        for key, value in conf.items():
            values.setdefault(key, value)
    return values


def param_values(params: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values of a params mapping (Param objects replaced by their defaults)."""
    return {k: (copy.deepcopy(v.value) if isinstance(v, Param) and v.has_value else
                None if isinstance(v, Param) else v) for k, v in params.items()}


ParamsDict = dict
