"""Variable: Airflow's key/value store, read and written inside tasks through the scheduler.

Example:
    from flow.sdk import Variable

    bucket = Variable.get("bucket", default_var="scratch")
    config = Variable.get("etl_config", deserialize_json=True)
"""

from __future__ import annotations

import json
from typing import Any

from flow.sdk import comms


class _NotSet:
    def __repr__(self) -> str:
        return "NOTSET"


NOTSET: Any = _NotSet()


class Variable:
    """A key/value pair stored (encrypted) by the scheduler.

    Variables whose key looks sensitive (password, secret, token, api_key, ...) are masked as
    `***` in the task's log once read, as in Airflow.
    """

    def __init__(self, key: str | None = None, val: Any = None,
                 description: str | None = None) -> None:
        self.key = key
        self.val = val
        self.description = description

    def __repr__(self) -> str:
        return f"Variable(key={self.key!r})"

    @classmethod
    def get(cls, key: str, default_var: Any = NOTSET, deserialize_json: bool = False) -> Any:
        """The value of `key`.

        Args:
            key: the variable's key.
            default_var: returned when the variable does not exist.
            deserialize_json: parse the stored text as JSON.

        Raises:
            KeyError: the variable does not exist and no default was given (as Airflow).
        """
        reply = comms.request("variable_get", key=key)
        if not reply.get("found"):
            if default_var is NOTSET:
                raise KeyError(f"Variable {key} does not exist")
            return default_var
        value = str(reply.get("value", ""))
        return json.loads(value) if deserialize_json else value

    @classmethod
    def set(cls, key: str, value: Any, description: str | None = None,
            serialize_json: bool = False) -> None:
        """Create or replace `key`; with serialize_json the value is stored as JSON text."""
        text = json.dumps(value, indent=2) if serialize_json else str(value)
        comms.request("variable_set", key=key, value=text, description=description or "")

    @classmethod
    def setdefault(cls, key: str, default: Any, description: str | None = None,
                   deserialize_json: bool = False) -> Any:
        """The value of `key`, first storing `default` when it does not exist."""
        value = cls.get(key, default_var=None, deserialize_json=deserialize_json)
        if value is None:
            if default is None:
                raise ValueError("Default Value must be set")
            cls.set(key, default, description=description, serialize_json=deserialize_json)
            return default
        return value
