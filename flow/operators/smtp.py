"""`flow.operators.smtp`: Airflow 3's smtp provider path with `providers.` dropped."""

from flow.operators.email import EmailOperator

__all__ = ["EmailOperator"]
