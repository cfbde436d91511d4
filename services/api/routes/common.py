"""What every REST route shares: the Operation record, request parsing and JSON rendering.

Requests and responses are the protos themselves, converted with json_format, so the REST JSON
cannot drift from the gRPC API (STYLE B.13 item 10).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from starlette.requests import Request

from flow.errors import InvalidArgumentError
from services.api.core import GatewayCore

API_PREFIX = "/api/v1"


def message_to_dict(message: Message) -> dict[str, Any]:
    """The REST JSON of a proto message: field names as in the proto, defaults included."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


def _identity(params: dict[str, Any]) -> dict[str, Any]:
    return params


@dataclass(frozen=True)
class Operation:
    """One REST route: how to build the request proto, which core method, how to render."""

    method: str
    path: str  # under API_PREFIX, Starlette syntax
    operation_id: str
    summary: str
    request_type: type[Message]
    response_type: type[Message] | None
    call: Callable[[GatewayCore, Any], Awaitable[Any]] | None = None
    stream: Callable[[GatewayCore, Any], AsyncIterator[Any]] | None = None  # served as SSE
    query: tuple[str, ...] = ()
    shape: Callable[[dict[str, Any]], dict[str, Any]] = _identity
    render: Callable[[Any], Any] = message_to_dict
    body: bool = False
    body_field: str = ""  # when set, the JSON body is this field of the request message
    prepare_body: Callable[[dict[str, Any]], dict[str, Any]] = _identity  # Airflow spellings
    response_schema: dict[str, Any] | None = None  # OpenAPI schema when `render` reshapes
    event: str = "message"  # the SSE event name of each streamed item
    tags: tuple[str, ...] = field(default=())

    @property
    def rpc_name(self) -> str:
        """The gRPC method this route mirrors (its request is `<Rpc>Request`): its name in
        the permission table."""
        return str(self.request_type.DESCRIPTOR.name).removesuffix("Request")

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(part[1:-1].split(":")[0] for part in self.path.split("/")
                     if part.startswith("{"))


def _find_field(descriptor: Any, name: str) -> Any:
    if name in descriptor.fields_by_name:
        return descriptor.fields_by_name[name]
    for candidate in descriptor.fields:
        if candidate.message_type is not None and name in candidate.message_type.fields_by_name:
            return candidate.message_type.fields_by_name[name]
    return None


def _convert_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no", ""}:
        return False
    raise InvalidArgumentError(f"Query parameter '{name}' must be true or false, got {raw!r}.",
                               field=name)


def collect_params(op: Operation, request: Request) -> dict[str, Any]:
    """Path and query parameters as a flat dict; unknown query parameters are a 400."""
    params: dict[str, Any] = dict(request.path_params)
    descriptor = op.request_type.DESCRIPTOR
    for name in request.query_params:
        if name not in op.query:
            allowed = ", ".join(op.query) or "none"
            raise InvalidArgumentError(
                f"Unknown query parameter '{name}' (allowed: {allowed}).", field=name)
        found = _find_field(descriptor, name)
        values = request.query_params.getlist(name)
        if found is not None and found.type == FieldDescriptor.TYPE_BOOL:
            params[name] = _convert_bool(name, values[-1])
        elif found is not None and found.is_repeated:
            params[name] = [v for value in values for v in value.split(",") if v]
        else:
            params[name] = values[-1]
    return params


def parse_message(message_type: type[Message], data: Mapping[str, Any]) -> Any:
    """A proto from JSON-like data, or a 400 that says which field is wrong."""
    try:
        return json_format.ParseDict(dict(data), message_type())
    except json_format.ParseError as exc:
        raise InvalidArgumentError(f"Invalid request: {exc}", reason="INVALID_REQUEST") from None


async def read_json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object ({} when empty); malformed JSON is a 400."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(f"The request body is not valid JSON: {exc}",
                                   reason="MALFORMED_JSON") from None
    if not isinstance(data, dict):
        raise InvalidArgumentError("The request body must be a JSON object.",
                                   reason="MALFORMED_JSON")
    return data


async def build_request(op: Operation, request: Request) -> Any:
    """The request proto of `op`, from the body (if any), then query, then path parameters."""
    params = collect_params(op, request)
    data: dict[str, Any] = {}
    if op.body:
        body = op.prepare_body(await read_json_body(request))
        for name in op.path_params:
            body.pop(name, None)  # the path names the resource, never the body
        data.update({op.body_field: body} if op.body_field else body)
    shaped = op.shape(params)
    if op.body_field and isinstance(shaped.get(op.body_field), dict) \
            and isinstance(data.get(op.body_field), dict):
        # A path parameter that names the body's resource (PATCH /pools/{name}).
        data[op.body_field] = {**data[op.body_field], **shaped.pop(op.body_field)}
    data.update(shaped)
    return parse_message(op.request_type, data)
