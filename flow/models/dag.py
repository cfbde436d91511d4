"""Airflow 2's `airflow.models.dag` path."""

from flow.sdk.dag import DAG, dag

__all__ = ["DAG", "dag"]
