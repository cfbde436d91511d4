"""Airflow 3's `airflow.sdk.bases` paths."""
