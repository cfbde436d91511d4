"""Airflow's `airflow.providers.http.sensors.http` path."""

from flow.sensors.http import HttpSensor

__all__ = ["HttpSensor"]
