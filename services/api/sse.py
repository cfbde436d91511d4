"""Server-Sent Events from an async iterator of proto messages.

An error after the stream started cannot change the status any more, so it is sent as an
`error` event with the usual error model, and the stream ends.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from starlette.responses import StreamingResponse

from flow.errors import FlowError

log = structlog.get_logger(__name__)


def format_event(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def error_body(error: FlowError) -> dict[str, Any]:
    return {"error": {"reason": error.reason, "message": error.message,
                      "details": dict(error.metadata)}}


async def _events(items: AsyncIterator[Any], event: str,
                  render: Callable[[Any], Any]) -> AsyncIterator[str]:
    yield ": connected\n\n"
    try:
        async for item in items:
            yield format_event(event, render(item))
    except FlowError as exc:
        yield format_event("error", error_body(exc))
        return
    except Exception as exc:  # the status is sent already: report a reference id only
        ref = uuid.uuid4().hex[:12]
        log.error("event_stream_failed", error_ref=ref, exc_info=exc)
        yield format_event("error", {"error": {"reason": "INTERNAL", "details": {},
                                               "message": f"internal error (ref {ref})"}})
        return
    yield format_event("end", {})


def sse_response(items: AsyncIterator[Any], event: str,
                 render: Callable[[Any], Any]) -> StreamingResponse:
    return StreamingResponse(
        _events(items, event, render), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
