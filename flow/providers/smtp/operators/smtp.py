"""Airflow 3's `airflow.providers.smtp.operators.smtp` path."""

from flow.operators.email import EmailOperator

__all__ = ["EmailOperator"]
