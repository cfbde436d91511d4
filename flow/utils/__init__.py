"""Airflow 2's `airflow.utils` paths that DAG files import."""
