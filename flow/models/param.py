"""Airflow 2's `airflow.models.param` path."""

from __future__ import annotations

from flow.sdk.param import Param, ParamsDict, ParamValidationError

__all__ = ["Param", "ParamValidationError", "ParamsDict"]
