"""Airflow 2's `airflow.decorators` path: @dag, @task (with .bash/.branch/...), @task_group."""

from flow.sdk.dag import dag
from flow.sdk.decorators import task
from flow.sdk.task_group import task_group

__all__ = ["dag", "task", "task_group"]
