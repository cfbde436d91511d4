"""Airflow 2's `airflow.datasets` path: a Dataset is an Asset (Airflow 3's name)."""

from flow.sdk.assets import Asset, Dataset

__all__ = ["Asset", "Dataset"]
