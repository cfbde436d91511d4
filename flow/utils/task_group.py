"""Airflow 2's `airflow.utils.task_group` path."""

from flow.sdk.task_group import TaskGroup

__all__ = ["TaskGroup"]
