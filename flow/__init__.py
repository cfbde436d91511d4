"""Flow: author, schedule and monitor DAG workflows."""

__version__ = "0.1.0"
