"""Parse DAG files in child processes with a time limit; store their structure and errors.

User code never runs in the scheduler's process (DESIGN invariant 5).
"""

from services.scheduler.dag_processor.processor import DagProcessor

__all__ = ["DagProcessor"]
