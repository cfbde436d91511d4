"""Airflow's `airflow.providers.smtp.operators` path."""
