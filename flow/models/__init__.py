"""Airflow 2's `airflow.models` path: `from flow.models import Variable, Connection, Param`."""

from __future__ import annotations

from flow.sdk.connections import Connection
from flow.sdk.param import Param
from flow.sdk.variables import Variable

__all__ = ["Connection", "Param", "Variable"]
