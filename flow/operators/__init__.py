"""Operators under Airflow's module paths (`airflow.operators.*`, and Airflow 3's
`airflow.providers.standard.operators.*` with `providers.standard.` dropped): bash, python,
empty, branch, trigger_dagrun, email/smtp, http."""
