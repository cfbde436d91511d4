"""Airflow 3's `airflow.sdk.bases.operator` path."""

from flow.sdk.baseoperator import BaseOperator, chain, cross_downstream

__all__ = ["BaseOperator", "chain", "cross_downstream"]
