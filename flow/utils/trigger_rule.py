"""Airflow 2's `airflow.utils.trigger_rule` path."""

from flow.sdk.trigger_rule import TriggerRule

__all__ = ["TriggerRule"]
