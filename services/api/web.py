"""The Starlette application: REST routes from the route table, SSE, the UI, one error model.

Every /api/v1 route except health and the OpenAPI document requires the bearer token. Errors
render as {"error": {"reason", "message", "details"}} with the status from flow/errors.py;
unknown exceptions answer 500 with a reference id only, and are logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flow.errors import FlowError
from services.api.auth import TokenAuth
from services.api.core import GatewayCore
from services.api.openapi import build_openapi
from services.api.routes import API_PREFIX, OPERATIONS, Operation
from services.api.routes.common import build_request
from services.api.sse import error_body, sse_response
from services.api.ui import WebUI

log = structlog.get_logger(__name__)
Endpoint = Callable[[Request], Awaitable[Response]]


def error_response(status: int, reason: str, message: str,
                   details: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"reason": reason, "message": message,
                                   "details": details or {}}}, status_code=status)


async def _flow_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FlowError)
    return JSONResponse(error_body(exc), status_code=exc.http_status)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    reason = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
    return error_response(exc.status_code, reason, str(exc.detail))


def _guarded(endpoint: Endpoint, auth: TokenAuth | None) -> Endpoint:
    """Authenticate (unless `auth` is None) and turn unknown exceptions into a 500 with a ref."""

    async def guarded(request: Request) -> Response:
        try:
            if auth is not None:
                auth.require_bearer(request)
            return await endpoint(request)
        except FlowError:
            raise  # rendered by the FlowError handler
        except Exception as exc:
            ref = uuid.uuid4().hex[:12]
            log.error("http_request_failed", error_ref=ref, path=request.url.path,
                      exc_info=exc)
            return error_response(500, "INTERNAL", f"internal error (ref {ref})")

    return guarded


def _endpoint(op: Operation, core: GatewayCore) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        message = await build_request(op, request)
        if op.stream is not None:
            return sse_response(op.stream(core, message), op.event, op.render)
        assert op.call is not None
        return JSONResponse(op.render(await op.call(core, message)))

    return endpoint


def build_app(core: GatewayCore, *, token: str) -> Starlette:
    """The HTTP application of the gateway."""
    auth = TokenAuth(token)
    ui = WebUI(core, auth)
    openapi = build_openapi(OPERATIONS)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def openapi_json(_request: Request) -> Response:
        return JSONResponse(openapi)

    routes: list[Any] = [
        Route("/", _guarded(ui.home, None), methods=["GET"]),
        Route("/login", _guarded(ui.login, None), methods=["GET"]),
        Route(f"{API_PREFIX}/health", _guarded(health, None), methods=["GET"]),
        Route(f"{API_PREFIX}/openapi.json", _guarded(openapi_json, None), methods=["GET"]),
    ]
    routes += [Route(API_PREFIX + op.path, _guarded(_endpoint(op, core), auth),
                     methods=[op.method], name=op.operation_id) for op in OPERATIONS]
    return Starlette(routes=routes, exception_handlers={
        FlowError: _flow_error, HTTPException: _http_error})
