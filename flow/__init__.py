"""Flow: author, schedule and monitor DAG workflows."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`from flow import DAG` (Airflow 2's `from airflow import DAG`), loaded on first use so
    that the services, which import `flow` too, do not pay for the SDK."""
    if name == "DAG":
        from flow.sdk.dag import DAG

        return DAG
    raise AttributeError(f"module 'flow' has no attribute {name!r}")
