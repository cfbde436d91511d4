"""REST routes of TaskInstanceService: a run's task instances and their logs."""

from __future__ import annotations

from typing import Any

from flow.v1 import task_instance_service_pb2 as pb
from services.api.routes.common import Operation

_RUN = "/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
_KEY_FIELDS = ("dag_id", "run_id", "task_id", "map_index", "try_number")


def _keyed(params: dict[str, Any]) -> dict[str, Any]:
    """Move the TaskInstanceKey fields of flat path/query parameters under "key"."""
    key = {name: params.pop(name) for name in _KEY_FIELDS if name in params}
    key.setdefault("map_index", -1)
    return {**params, "key": key}


def render_log(response: Any) -> dict[str, Any]:
    """A log range as JSON: the bytes as text (invalid UTF-8 replaced), offsets as numbers."""
    return {"content": response.content.decode("utf-8", errors="replace"),
            "next_offset": int(response.next_offset),
            "complete": bool(getattr(response, "complete", False)),
            "try_number": int(getattr(response, "try_number", 0))}


def _state_body(body: dict[str, Any]) -> dict[str, Any]:
    """Accept Airflow's {"new_state": "success"} as well as the proto enum name."""
    state = body.pop("new_state", None) or body.get("state")
    if isinstance(state, str) and not state.upper().startswith("TASK_INSTANCE_STATE_"):
        state = f"TASK_INSTANCE_STATE_{state.upper()}"
    if state is not None:
        body["state"] = state
    return body


OPERATIONS = (
    Operation(
        "GET", _RUN, "listTaskInstances",
        "Lists a run's task instances, ordered by task_id and map_index.",
        pb.ListTaskInstancesRequest, pb.ListTaskInstancesResponse,
        call=lambda core, req: core.list_task_instances(req),
        query=("page_size", "page_token"), tags=("TaskInstance",)),
    Operation(
        "GET", _RUN + "/{task_id}", "getTaskInstance",
        "Gets one task instance (its latest try); map_index defaults to -1.",
        pb.GetTaskInstanceRequest, pb.GetTaskInstanceResponse,
        call=lambda core, req: core.get_task_instance(req),
        query=("map_index",), shape=_keyed, tags=("TaskInstance",)),
    Operation(
        "GET", _RUN + "/{task_id}/logs/{try_number}", "readTaskLog",
        "Reads a range of one try's log (at most 1 MiB); try_number 0 means the latest try. "
        "Returns {content, next_offset, complete, try_number}.",
        pb.ReadTaskLogRequest, pb.ReadTaskLogResponse,
        call=lambda core, req: core.read_task_log(req),
        query=("map_index", "offset", "limit"), shape=_keyed, render=render_log,
        tags=("TaskInstance",)),
    Operation(
        "GET", _RUN + "/{task_id}/logs/{try_number}/follow", "followTaskLog",
        "Server-Sent Events: one `log` event ({content, next_offset}) per chunk of the log, "
        "then an `end` event when the try has ended.",
        pb.FollowTaskLogRequest, pb.FollowTaskLogResponse,
        stream=lambda core, req: core.follow_task_log(req),
        query=("map_index", "offset"), shape=_keyed, render=render_log, event="log",
        tags=("TaskInstance",)),
    Operation(
        "POST", "/dags/{dag_id}/dagRuns/{run_id}/clearTaskInstances", "clearTaskInstances",
        "Clears task instances of a run so they run again with the next try number. Body: "
        "{\"task_regex\", \"include_downstream\", \"include_upstream\", \"only_failed\", "
        "\"dry_run\"}, every key optional.",
        pb.ClearTaskInstancesRequest, pb.ClearTaskInstancesResponse,
        call=lambda core, req: core.clear_task_instances(req), body=True,
        tags=("TaskInstance",)),
    Operation(
        "GET", _RUN + "/{task_id}/tries", "listTaskInstanceTries",
        "Lists the finished tries of a task instance, oldest first; map_index defaults to -1.",
        pb.ListTaskInstanceTriesRequest, pb.ListTaskInstanceTriesResponse,
        call=lambda core, req: core.list_task_instance_tries(req),
        query=("map_index", "page_size", "page_token"), shape=_keyed, tags=("TaskInstance",)),
    Operation(
        "GET", _RUN + "/{task_id}/renderedFields", "getRenderedTemplateFields",
        "Gets the rendered template fields (masked) of a task instance's latest try that "
        "rendered them; map_index defaults to -1.",
        pb.GetRenderedTemplateFieldsRequest, pb.GetRenderedTemplateFieldsResponse,
        call=lambda core, req: core.get_rendered_template_fields(req),
        query=("map_index",), shape=_keyed, tags=("TaskInstance",)),
    Operation(
        "PATCH", _RUN + "/{task_id}", "setTaskInstanceState",
        "Marks a task instance success or failed. Body: {\"new_state\": \"success\"|"
        "\"failed\", \"include_upstream\", \"include_downstream\", \"dry_run\"}.",
        pb.SetTaskInstanceStateRequest, pb.SetTaskInstanceStateResponse,
        call=lambda core, req: core.set_task_instance_state(req), body=True,
        prepare_body=_state_body, tags=("TaskInstance",)),
)
