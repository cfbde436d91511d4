"""The Starlette application: REST routes from the route table, SSE, the UI and its static
assets, one error model.

Every route except health, the OpenAPI document and the sign-in page requires a credential
(a bearer token, or the UI's session cookie with a CSRF token on mutations) and the role the
permission table names for its operation; mutations are written to the audit log. Errors
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
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from flow.errors import FlowError
from services.api.auth import Gatekeeper, current_principal
from services.api.core import GatewayCore
from services.api.openapi import build_openapi
from services.api.routes import API_PREFIX, OPERATIONS, Operation
from services.api.routes.common import build_request
from services.api.sse import error_body, sse_response
from services.api.ui import STATIC_DIR, WebUI

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


def _guarded(endpoint: Endpoint, gate: Gatekeeper | None, operation: str = "") -> Endpoint:
    """Admit the caller for `operation` (unless `gate` is None: a public route) and turn
    unknown exceptions into a 500 with a reference id."""

    async def guarded(request: Request) -> Response:
        try:
            if gate is not None:
                await gate.admit_http(operation, request)
            return await endpoint(request)
        except FlowError:
            raise  # rendered by the FlowError handler
        except Exception as exc:
            ref = uuid.uuid4().hex[:12]
            log.error("http_request_failed", error_ref=ref, path=request.url.path,
                      exc_info=exc)
            return error_response(500, "INTERNAL", f"internal error (ref {ref})")

    return guarded


def _endpoint(op: Operation, core: GatewayCore, gate: Gatekeeper) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        message = await build_request(op, request)
        if op.stream is not None:
            return sse_response(op.stream(core, message), op.event, op.render)
        assert op.call is not None
        transport = "rest" if "authorization" in request.headers else "ui"
        actor = current_principal().username
        try:
            response = await op.call(core, message)
        except Exception as exc:
            await gate.audit(actor, op.rpc_name, message, exc, transport)
            raise
        await gate.audit(actor, op.rpc_name, message, None, transport)
        return JSONResponse(op.render(response))

    return endpoint


def build_app(core: GatewayCore, gate: Gatekeeper) -> Starlette:
    """The HTTP application of the gateway."""
    ui = WebUI(gate)
    openapi = build_openapi(OPERATIONS)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def openapi_json(_request: Request) -> Response:
        return JSONResponse(openapi)

    routes: list[Any] = [
        Route("/", _guarded(ui.home, None), methods=["GET"]),
        Route("/login", _guarded(ui.login_form, None), methods=["GET"]),
        Route("/login", _guarded(ui.login, None), methods=["POST"]),
        Route("/logout", _guarded(ui.logout, None), methods=["POST"]),
        Route(f"{API_PREFIX}/health", _guarded(health, None), methods=["GET"]),
        Route(f"{API_PREFIX}/openapi.json", _guarded(openapi_json, None), methods=["GET"]),
        # The app's code (no data): public, so that the sign-in page has its style sheet.
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    routes += [Route(API_PREFIX + op.path, _guarded(_endpoint(op, core, gate), gate,
                                                    op.rpc_name),
                     methods=[op.method], name=op.operation_id) for op in OPERATIONS]
    return Starlette(routes=routes, exception_handlers={
        FlowError: _flow_error, HTTPException: _http_error})
