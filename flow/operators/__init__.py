"""Operators under Airflow's module paths: flow.operators.bash, .python, .empty."""
