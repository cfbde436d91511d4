"""Airflow's `airflow.providers.http.operators` path."""
