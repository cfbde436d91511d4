"""Airflow 2's `airflow.utils.helpers` path for chain() and cross_downstream()."""

from flow.sdk.baseoperator import chain, cross_downstream

__all__ = ["chain", "cross_downstream"]
