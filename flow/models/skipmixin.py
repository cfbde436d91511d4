"""Airflow 2's `airflow.models.skipmixin` path."""

from flow.sdk.skipping import SkipMixin

__all__ = ["SkipMixin"]
