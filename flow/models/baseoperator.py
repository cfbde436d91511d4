"""Airflow 2's `airflow.models.baseoperator` path."""

from flow.sdk.baseoperator import BaseOperator, chain, cross_downstream

__all__ = ["BaseOperator", "chain", "cross_downstream"]
