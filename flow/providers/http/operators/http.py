"""Airflow's `airflow.providers.http.operators.http` path."""

from flow.operators.http import HttpOperator, SimpleHttpOperator

__all__ = ["HttpOperator", "SimpleHttpOperator"]
