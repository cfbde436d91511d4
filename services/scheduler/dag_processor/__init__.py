"""Parse DAG files in child processes with a time limit; store their structure and errors.

User code never runs in the scheduler's process (DESIGN invariant 5). This package imports
nothing itself: every parse child runs `python -m services.scheduler.dag_processor.child`,
which imports this package first, and must not pay for the scheduler's modules (SQLAlchemy,
the core: about half a second per file). Import DagProcessor from `.processor`.
"""
