"""The gateway core of users, API tokens, WhoAmI and the audit log.

The role each operation needs is checked before these run (permissions.py); what depends on
*whose* resource it is (another user's tokens need admin) is checked here, against the
current principal. The scheduler's IdentityService stores everything.
"""

from __future__ import annotations

from typing import Any

from flow.errors import InvalidArgumentError, PermissionDeniedError
from flow.identity import Role
from flow.v1 import identity_service_pb2, user_service_pb2
from services.api.auth import Principal, current_principal
from services.api.core import forward


def _require(message: Any, *fields: str) -> None:
    for name in fields:
        if not getattr(message, name):
            raise InvalidArgumentError(f"Field '{name}' is required.", field=name)


def _check_page(page_size: int) -> None:
    if page_size < 0:
        raise InvalidArgumentError(f"page_size must not be negative, got {page_size}.",
                                   field="page_size")


def _check_role(role: int) -> None:
    if role not in Role._value2member_map_:
        raise InvalidArgumentError("role is required: ROLE_VIEWER, ROLE_USER, ROLE_OP or "
                                   "ROLE_ADMIN.", field="role")


class IdentityCore:
    """UserService and AuditService operations, proto in, proto out."""

    def __init__(self, identity: Any) -> None:
        self._identity = identity  # IdentityServiceStub (None: no user store)

    async def _call(self, method: str, request: Any) -> Any:
        if self._identity is None:
            raise InvalidArgumentError("This gateway has no user store.", reason="NO_USER_STORE")
        return await forward(getattr(self._identity, method)(request))

    @staticmethod
    def _me() -> Principal:
        return current_principal()

    async def who_am_i(self, request: Any) -> Any:
        me = self._me()
        return user_service_pb2.WhoAmIResponse(username=me.username, role=int(me.role),
                                               credential=me.credential)

    # Users (admin only, by the permission table)

    async def list_users(self, request: Any) -> Any:
        _check_page(request.page_size)
        return await self._call("ListUsers", request)

    async def get_user(self, request: Any) -> Any:
        _require(request, "username")
        return await self._call("GetUser", request)

    async def create_user(self, request: Any) -> Any:
        _require(request, "username")
        _check_role(request.role)
        return await self._call("CreateUser", request)

    async def delete_user(self, request: Any) -> Any:
        _require(request, "username")
        return await self._call("DeleteUser", request)

    async def set_user_role(self, request: Any) -> Any:
        _require(request, "username")
        _check_role(request.role)
        return await self._call("SetUserRole", request)

    async def reset_password(self, request: Any) -> Any:
        _require(request, "username")
        return await self._call("ResetPassword", request)

    # Tokens: one's own, or anyone's for an admin

    def _owner(self, owner: str, action: str) -> str:
        """The owner a request may act on: the caller, or anyone for an admin."""
        me = self._me()
        if me.role >= Role.ADMIN:
            return owner
        if owner and owner != me.username:
            raise PermissionDeniedError(
                f"{action} of another user needs the admin role; you have the "
                f"{me.role.label} role.", reason="ROLE_FORBIDS",
                metadata={"required_role": "admin", "role": me.role.label})
        return str(me.username)

    async def create_token(self, request: Any) -> Any:
        owner = self._owner(request.owner, "Creating a token") or self._me().username
        if self._me().credential == "bootstrap" and not request.owner:
            raise InvalidArgumentError(
                "The bootstrap credential is not a user: name the token's owner.",
                field="owner")
        internal = user_service_pb2.CreateTokenRequest()
        internal.CopyFrom(request)
        internal.owner = owner
        return await self._call("CreateToken", internal)

    async def list_tokens(self, request: Any) -> Any:
        _check_page(request.page_size)
        internal = user_service_pb2.ListTokensRequest()
        internal.CopyFrom(request)
        internal.owner = self._owner(request.owner, "Listing the tokens")
        return await self._call("ListTokens", internal)

    async def revoke_token(self, request: Any) -> Any:
        _require(request, "token_id")
        me = self._me()
        owner = "" if me.role >= Role.ADMIN else me.username
        await self._call("RevokeCredential", identity_service_pb2.RevokeCredentialRequest(
            token_id=request.token_id, owner=owner))
        return user_service_pb2.RevokeTokenResponse()

    # Audit log (admin only)

    async def list_audit_events(self, request: Any) -> Any:
        _check_page(request.page_size)
        return await self._call("ListAuditEvents", request)
