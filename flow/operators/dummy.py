"""Airflow 2's `airflow.operators.dummy` path (DummyOperator, the old EmptyOperator)."""

from flow.operators.empty import DummyOperator, EmptyOperator

__all__ = ["DummyOperator", "EmptyOperator"]
