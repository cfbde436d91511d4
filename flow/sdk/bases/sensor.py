"""Airflow 3's `airflow.sdk.bases.sensor` path."""

from flow.sensors.base import BaseSensorOperator, PokeReturnValue

__all__ = ["BaseSensorOperator", "PokeReturnValue"]
