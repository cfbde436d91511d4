"""The OpenAPI 3 document of the REST API, generated from the route table and the protos.

Schemas come from the proto descriptors (proto3 JSON mapping), so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor

from services.api.permissions import permission_for
from services.api.routes.common import API_PREFIX, Operation

_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "example": "1.5s"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
}
_SCALARS: dict[int, dict[str, Any]] = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_INT64: {"type": "string", "format": "int64"},  # proto3 JSON
    FieldDescriptor.TYPE_UINT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}
_ERROR = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "reason": {"type": "string"}, "message": {"type": "string"},
    "details": {"type": "object", "additionalProperties": {"type": "string"}}}}}}
# One server-sent event: its name and its data, a JSON text (a response message or an error).
_SSE_EVENT = {"type": "object", "properties": {
    "event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"},
    "retry": {"type": "integer"}}}
_LOG = {"type": "object", "properties": {
    "content": {"type": "string"}, "next_offset": {"type": "integer"},
    "complete": {"type": "boolean"}, "try_number": {"type": "integer"}}}


def _field_schema(field: Any, components: dict[str, Any]) -> dict[str, Any]:
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:  # a map: a JSON object
        return {"type": "object", "additionalProperties": _field_schema(
            entry.fields_by_name["value"], components)}
    if field.enum_type is not None:
        schema: dict[str, Any] = {"type": "string",
                                  "enum": [v.name for v in field.enum_type.values]}
    elif field.message_type is not None:
        schema = _message_ref(field.message_type, components)
    else:
        schema = dict(_SCALARS.get(field.type, {"type": "string"}))
    if field.is_repeated:
        return {"type": "array", "items": schema}
    return schema


def _message_ref(descriptor: Any, components: dict[str, Any]) -> dict[str, Any]:
    if descriptor.full_name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[descriptor.full_name])
    name = descriptor.name
    if name not in components:
        components[name] = {}  # placeholder first: recursive messages terminate
        components[name] = {"type": "object", "properties": {
            f.name: _field_schema(f, components) for f in descriptor.fields}}
    return {"$ref": f"#/components/schemas/{name}"}


def _parameters(op: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in op.path_params]
    descriptor: Any = op.request_type.DESCRIPTOR
    for name in op.query:
        field = descriptor.fields_by_name.get(name)
        if field is None:  # a TaskInstanceKey field moved under "key"
            field = descriptor.fields_by_name["key"].message_type.fields_by_name.get(name)
        schema = _field_schema(field, components) if field is not None else {"type": "string"}
        params.append({"name": name, "in": "query", "required": False, "schema": schema})
    return params


def _operation(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    if op.stream is not None:
        ok: dict[str, Any] = {"description": op.summary,
                              "content": {"text/event-stream": {"schema": _SSE_EVENT}}}
    elif op.operation_id == "readTaskLog":
        ok = {"description": "OK", "content": {"application/json": {"schema": _LOG}}}
    elif op.response_schema is not None:
        ok = {"description": "OK", "content": {"application/json": {
            "schema": op.response_schema}}}
    else:
        assert op.response_type is not None
        ok = {"description": "OK", "content": {"application/json": {
            "schema": _message_ref(op.response_type.DESCRIPTOR, components)}}}
    error = {"description": "Error", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}
    role = permission_for(op.rpc_name).role.label
    spec: dict[str, Any] = {
        "operationId": op.operation_id, "summary": op.summary, "tags": list(op.tags),
        "description": f"Needs the {role} role (or higher).", "x-flow-role": role,
        "parameters": _parameters(op, components),
        "responses": {"200": ok, "400": error, "401": error, "403": error, "404": error,
                      "409": error, "default": error},
    }
    if op.body:
        body: Any = op.request_type.DESCRIPTOR
        if op.body_field:
            body = body.fields_by_name[op.body_field].message_type
        spec["requestBody"] = {"required": bool(op.body_field), "content": {
            "application/json": {"schema": _message_ref(body, components)}}}
    return spec


def build_openapi(operations: Iterable[Operation]) -> dict[str, Any]:
    """The whole document, for GET /api/v1/openapi.json."""
    components: dict[str, Any] = {"Error": _ERROR}
    paths: dict[str, dict[str, Any]] = {
        f"{API_PREFIX}/health": {"get": {"operationId": "health", "summary": "Liveness.",
                                         "security": [], "responses": {"200": {
                                             "description": "OK"}}}},
    }
    for op in operations:
        path = API_PREFIX + op.path
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, components)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Flow REST API", "version": "v1",
                 "description": "The flow.v1 API as JSON (proto3 JSON mapping, proto field "
                                "names). Authenticate with 'Authorization: Bearer <token>' "
                                "(an API token: POST /api/v1/tokens), or the web UI's "
                                "session cookie plus its CSRF token in 'X-CSRF-Token' on "
                                "mutations. 401 without a valid credential; 403 when the "
                                "caller's role (viewer < user < op < admin) is too low."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {
                           "bearer": {"type": "http", "scheme": "bearer"},
                           "session": {"type": "apiKey", "in": "cookie",
                                       "name": "flow_session"}}},
    }
