"""Airflow 2's `airflow.models` path: DAG and BaseOperator."""

from flow.sdk.baseoperator import BaseOperator
from flow.sdk.dag import DAG

__all__ = ["DAG", "BaseOperator"]
