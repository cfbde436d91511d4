"""Airflow's `airflow.providers.http.sensors` path."""
