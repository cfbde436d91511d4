"""Sensors: tasks that wait for something (Airflow's `airflow.sensors.*` paths)."""

from flow.sensors.base import BaseSensorOperator, PokeReturnValue

__all__ = ["BaseSensorOperator", "PokeReturnValue"]
