"""Airflow 2's `airflow.models` path: DAG, BaseOperator, Variable, Connection, Param."""

from __future__ import annotations

from flow.sdk.baseoperator import BaseOperator
from flow.sdk.connections import Connection
from flow.sdk.dag import DAG
from flow.sdk.param import Param
from flow.sdk.variables import Variable

__all__ = ["DAG", "BaseOperator", "Connection", "Param", "Variable"]
