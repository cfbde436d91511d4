"""Who is calling the gateway, whether they may, and the record of what they did.

One `Gatekeeper` serves both transports: gRPC (`authorization: Bearer <token>` metadata, via
`GrpcGuard` in flow.grpcutil's boundary) and HTTP (`Authorization: Bearer <token>`, or the
UI's session cookie plus a CSRF token on mutations). Credentials are checked by the
scheduler's IdentityService (the gateway never opens the DB), except the configured
bootstrap token (`FLOW_AUTH__TOKEN`), which acts as an admin named "bootstrap" and is
compared in constant time. Roles are checked against the one table in `permissions.py`.
"""

from __future__ import annotations

import contextvars
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.requests import Request

from flow.errors import FlowError, PermissionDeniedError, UnauthenticatedError
from flow.identity import TOKEN_PREFIX, Role, csrf_token_for
from flow.v1 import audit_service_pb2, identity_service_pb2
from services.api.core import forward
from services.api.permissions import permission_for, require_role

log = structlog.get_logger(__name__)

BOOTSTRAP_USER = "bootstrap"
SESSION_COOKIE = "flow_session"
CSRF_COOKIE = "flow_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Request fields copied into audit events: names of things, never values or secrets.
AUDIT_FIELDS = frozenset({"dag_id", "run_id", "task_id", "map_index", "key", "conn_id",
                          "username", "role", "token_id", "owner", "name", "state",
                          "task_regex", "try_number"})


@dataclass(frozen=True)
class Principal:
    """The caller: a user (through a token or a UI session) or the bootstrap credential."""

    username: str
    role: Role
    credential: str  # "token", "session" or "bootstrap"
    token_id: str = ""
    secret: str = ""  # the session secret (to derive its CSRF token); never logged

    def __repr__(self) -> str:
        return f"Principal({self.username!r}, {self.role.label}, {self.credential})"


_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "flow_principal", default=None)


def current_principal() -> Principal:
    """The caller of the request being served (set by the Gatekeeper)."""
    principal = _current.get()
    if principal is None:
        raise UnauthenticatedError("This call needs a signed-in caller.")
    return principal


def set_principal(principal: Principal | None) -> None:
    _current.set(principal)


def bearer_of(value: str | None) -> str | None:
    scheme, _, secret = (value or "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def audit_details(message: Any, transport: str) -> dict[str, str]:
    """The names a request acts on (AUDIT_FIELDS, one nesting level deep) and the transport."""
    details = {"transport": transport}
    if message is None or not hasattr(message, "ListFields"):
        return details
    for field, value in message.ListFields():
        if field.message_type is not None and not field.is_repeated:
            if field.message_type.full_name.startswith("flow.v1."):
                for inner, inner_value in value.ListFields():
                    if inner.name in AUDIT_FIELDS and inner.message_type is None:
                        details[inner.name] = _text(inner, inner_value)
        elif field.name in AUDIT_FIELDS and not field.is_repeated:
            details[field.name] = _text(field, value)
    return details


def _text(field: Any, value: Any) -> str:
    if field.enum_type is not None:
        return str(field.enum_type.values_by_number[value].name)
    return str(value)


class Gatekeeper:
    """Authentication, the role check and the audit log, for every transport."""

    def __init__(self, identity: Any | None, *, bootstrap_token: str = "",
                 session_ttl_seconds: int = 43200) -> None:
        self._identity = identity  # IdentityServiceStub, or None (no user store)
        self._bootstrap = bootstrap_token.encode()
        self.session_ttl_seconds = session_ttl_seconds

    # --- who -----------------------------------------------------------------------------

    async def authenticate(self, secret: str | None) -> Principal:
        """The principal behind `secret`, or UnauthenticatedError (no detail leaks why)."""
        if not secret:
            raise UnauthenticatedError(
                "Missing credential: send 'authorization: Bearer <token>' (gRPC metadata or "
                "HTTP header), or sign in at /login.")
        if self._bootstrap and hmac.compare_digest(secret.encode(), self._bootstrap):
            return Principal(BOOTSTRAP_USER, Role.ADMIN, "bootstrap")
        if self._identity is None or not secret.startswith(TOKEN_PREFIX):
            raise UnauthenticatedError("Unknown, revoked or expired token.")
        response = await forward(self._identity.Authenticate(
            identity_service_pb2.AuthenticateRequest(secret=secret)))
        p = response.principal
        return Principal(p.username, Role(p.role), p.credential, p.token_id,
                         secret if p.credential == "session" else "")

    async def admit(self, operation: str, secret: str | None, transport: str,
                    details: Mapping[str, str] | None = None, message: Any = None
                    ) -> Principal:
        """Authenticate and authorize one call, and make its principal current. A refused
        audited operation is logged with the reason (and what `message` names)."""
        principal = await self.authenticate(secret)
        try:
            require_role(principal.role, operation)
        except PermissionDeniedError as exc:
            await self.audit(principal.username, operation, message, exc, transport, details)
            raise
        set_principal(principal)
        return principal

    async def admit_http(self, operation: str, request: Request) -> Principal:
        """A REST or UI call: the bearer header, else the session cookie; a mutation made with
        the cookie must carry the session's CSRF token in the X-CSRF-Token header."""
        bearer = bearer_of(request.headers.get("authorization"))
        if bearer is not None:
            return await self.admit(operation, bearer, "rest", request.path_params)
        cookie = request.cookies.get(SESSION_COOKIE)
        principal = await self.authenticate(cookie)
        if principal.credential != "session":
            raise UnauthenticatedError("The session cookie holds no session; sign in again.")
        if request.method not in SAFE_METHODS:
            self.check_csrf(principal, request.headers.get(CSRF_HEADER))
        return await self.admit(operation, cookie, "ui", request.path_params)

    @staticmethod
    def check_csrf(principal: Principal, presented: str | None) -> None:
        expected = csrf_token_for(principal.secret)
        if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
            raise PermissionDeniedError(
                "Missing or wrong CSRF token: send the flow_csrf cookie's value in the "
                "X-CSRF-Token header (or the csrf_token form field).", reason="CSRF_FAILED")

    # --- what they did -------------------------------------------------------------------

    async def audit(self, actor: str, operation: str, message: Any,
                    error: BaseException | None, transport: str,
                    extra: Mapping[str, str] | None = None) -> None:
        """Append to the audit log if `operation` is audited; a failure to write is logged,
        never raised (the operation itself already happened)."""
        if not permission_for(operation).audited or self._identity is None:
            return
        details = audit_details(message, transport)
        details.update({k: str(v) for k, v in (extra or {}).items() if k in AUDIT_FIELDS})
        if error is None:
            outcome = "ok"
        elif isinstance(error, FlowError):
            outcome = error.reason
        else:
            outcome = "INTERNAL"
        event = audit_service_pb2.AuditEvent(actor=actor, operation=operation, outcome=outcome,
                                             details=details)
        try:
            await forward(self._identity.RecordAuditEvent(
                identity_service_pb2.RecordAuditEventRequest(event=event)))
        except Exception:
            log.warning("audit_event_not_saved", operation=operation, actor=actor)

    # --- UI sessions ---------------------------------------------------------------------

    async def login(self, username: str, password: str) -> tuple[Principal, str]:
        """(principal, session secret) for a correct username and password."""
        if self._identity is None:
            raise UnauthenticatedError("No user store is configured.")
        try:
            response = await forward(self._identity.Login(identity_service_pb2.LoginRequest(
                username=username, password=password, ttl_seconds=self.session_ttl_seconds)))
        except FlowError as exc:
            await self.audit(username[:250], "Login", None, exc, "ui", {"username": username})
            raise
        await self.audit(username, "Login", None, None, "ui", {"username": username})
        p = response.principal
        return Principal(p.username, Role(p.role), "session", p.token_id,
                         response.secret), response.secret

    async def logout(self, principal: Principal) -> None:
        if self._identity is not None and principal.credential == "session":
            await forward(self._identity.RevokeCredential(
                identity_service_pb2.RevokeCredentialRequest(token_id=principal.token_id)))


class GrpcGuard:
    """The Gatekeeper as flow.grpcutil's per-call guard: method name -> operation."""

    def __init__(self, gatekeeper: Gatekeeper) -> None:
        self._gate = gatekeeper

    async def enter(self, method: str, metadata: Iterable[tuple[str, Any]] | None,
                    request: Any) -> Any:
        secret = None
        for key, value in metadata or ():
            if key == "authorization":
                secret = bearer_of(value.decode() if isinstance(value, bytes) else str(value))
        return await self._gate.admit(method.rsplit("/", 1)[-1], secret, "grpc",
                                      message=request)

    async def exit(self, state: Any, method: str, request: Any,
                   error: BaseException | None) -> None:
        await self._gate.audit(state.username, method.rsplit("/", 1)[-1], request, error,
                               "grpc")


__all__ = [
    "BOOTSTRAP_USER",
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "Gatekeeper",
    "GrpcGuard",
    "Principal",
    "current_principal",
]
