"""Airflow provider paths, with the `airflow` prefix replaced by `flow`."""
