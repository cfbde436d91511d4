"""REST routes of XComService: Airflow's xcomEntries of a task instance, values as JSON."""

from __future__ import annotations

import json
from typing import Any

from flow.v1 import xcom_service_pb2 as pb
from services.api.routes.common import Operation, message_to_dict

_TI = "/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries"


def _entry(entry: Any) -> dict[str, Any]:
    """An XComEntry with its JSON value decoded (not base64 bytes)."""
    data = message_to_dict(entry)
    try:
        data["value"] = json.loads(entry.value) if entry.value else None
    except ValueError:
        data["value"] = entry.value.decode("utf-8", errors="replace")
    return data


def render_entry(response: Any) -> dict[str, Any]:
    return {"xcom": _entry(response.xcom)}


def render_entries(response: Any) -> dict[str, Any]:
    return {"xcoms": [_entry(e) for e in response.xcoms],
            "next_page_token": response.next_page_token}


_ENTRY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "dag_id": {"type": "string"}, "run_id": {"type": "string"}, "task_id": {"type": "string"},
    "map_index": {"type": "integer"}, "key": {"type": "string"},
    "value": {"description": "The XCom value as JSON (any type)."},
    "content_type": {"type": "string"}, "timestamp": {"type": "string", "format": "date-time"}}}

OPERATIONS = (
    Operation(
        "GET", _TI, "listXComEntries",
        "Lists the XComs of a task instance, values included as JSON.",
        pb.ListXComsRequest, pb.ListXComsResponse,
        call=lambda core, req: core.list_xcoms(req), render=render_entries,
        query=("page_size", "page_token"), tags=("XCom",),
        response_schema={"type": "object", "properties": {
            "xcoms": {"type": "array", "items": _ENTRY_SCHEMA},
            "next_page_token": {"type": "string"}}}),
    Operation(
        "GET", _TI + "/{key}", "getXComEntry",
        "Gets one XCom value as JSON; map_index defaults to -1.",
        pb.GetXComRequest, pb.GetXComResponse,
        call=lambda core, req: core.get_xcom(req), render=render_entry,
        query=("map_index",), tags=("XCom",),
        response_schema={"type": "object", "properties": {"xcom": _ENTRY_SCHEMA}}),
)
