"""Parse DAG files in child processes with a time limit; store their structure and errors.

User code never runs in the scheduler's process (DESIGN invariant 5). This package imports
nothing itself: each child (`python -m services.scheduler.dag_processor.child`) is a fresh
interpreter, and importing the scheduler there first would double its start-up time.
"""
