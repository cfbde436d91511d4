"""IdentityService (internal, gateway -> scheduler): thin, proto <-> IdentityStore.

Secrets leave here only in the answers that create them (CreateToken, Login, a generated
password); nothing here logs a request.
"""

from __future__ import annotations

from typing import Any

from flow.errors import InvalidArgumentError
from flow.identity import Role
from flow.v1 import (
    audit_service_pb2,
    identity_service_pb2,
    identity_service_pb2_grpc,
    user_service_pb2,
)
from services.scheduler import convert
from services.scheduler.identity import (
    AuditRecord,
    IdentityStore,
    PrincipalRecord,
    TokenRecord,
    UserRecord,
)


def role_from_proto(value: int, field: str = "role") -> Role:
    if value == user_service_pb2.ROLE_UNSPECIFIED or value not in Role._value2member_map_:
        raise InvalidArgumentError("role is required: viewer, user, op or admin.", field=field)
    return Role(value)


def user_to_proto(record: UserRecord) -> Any:
    return user_service_pb2.User(
        username=record.username, role=int(record.role),
        created_at=convert.timestamp(record.created_at),
        updated_at=convert.timestamp(record.updated_at))


def token_to_proto(record: TokenRecord) -> Any:
    return user_service_pb2.ApiToken(
        token_id=record.token_id, name=record.name, prefix=record.prefix, owner=record.owner,
        created_at=convert.timestamp(record.created_at),
        last_used_at=convert.timestamp(record.last_used_at),
        expires_at=convert.timestamp(record.expires_at))


def principal_to_proto(record: PrincipalRecord) -> Any:
    return identity_service_pb2.Principal(username=record.username, role=int(record.role),
                                          token_id=record.token_id,
                                          credential=record.credential)


def audit_to_proto(record: AuditRecord) -> Any:
    return audit_service_pb2.AuditEvent(
        id=record.id, created_at=convert.timestamp(record.created_at), actor=record.actor,
        operation=record.operation, outcome=record.outcome, details=record.details)


class IdentityServicer(identity_service_pb2_grpc.IdentityServiceServicer):  # type: ignore[misc]
    def __init__(self, store: IdentityStore) -> None:
        self._store = store

    async def Authenticate(self, request: Any, context: Any) -> Any:
        principal = await self._store.authenticate(request.secret)
        return identity_service_pb2.AuthenticateResponse(
            principal=principal_to_proto(principal))

    async def Login(self, request: Any, context: Any) -> Any:
        principal, secret, expires_at = await self._store.login(
            request.username, request.password, request.ttl_seconds)
        return identity_service_pb2.LoginResponse(
            principal=principal_to_proto(principal), secret=secret,
            expires_at=convert.timestamp(expires_at))

    async def ListUsers(self, request: Any, context: Any) -> Any:
        offset, limit = convert.page(request.page_size, request.page_token)
        records = await self._store.list_users(offset, limit)
        return user_service_pb2.ListUsersResponse(
            users=[user_to_proto(r) for r in records],
            next_page_token=convert.next_token(offset, limit, len(records)))

    async def GetUser(self, request: Any, context: Any) -> Any:
        return user_service_pb2.GetUserResponse(
            user=user_to_proto(await self._store.get_user(request.username)))

    async def CreateUser(self, request: Any, context: Any) -> Any:
        record, generated = await self._store.create_user(
            request.username, role_from_proto(request.role), request.password)
        return user_service_pb2.CreateUserResponse(user=user_to_proto(record),
                                                   generated_password=generated)

    async def DeleteUser(self, request: Any, context: Any) -> Any:
        await self._store.delete_user(request.username)
        return user_service_pb2.DeleteUserResponse()

    async def SetUserRole(self, request: Any, context: Any) -> Any:
        record = await self._store.set_role(request.username, role_from_proto(request.role))
        return user_service_pb2.SetUserRoleResponse(user=user_to_proto(record))

    async def ResetPassword(self, request: Any, context: Any) -> Any:
        generated = await self._store.reset_password(request.username, request.password)
        return user_service_pb2.ResetPasswordResponse(generated_password=generated)

    async def CreateToken(self, request: Any, context: Any) -> Any:
        record, secret = await self._store.create_token(
            request.owner, request.name, request.expires_in_seconds)
        return user_service_pb2.CreateTokenResponse(token=token_to_proto(record), secret=secret)

    async def ListTokens(self, request: Any, context: Any) -> Any:
        offset, limit = convert.page(request.page_size, request.page_token)
        records = await self._store.list_tokens(request.owner, offset, limit)
        return user_service_pb2.ListTokensResponse(
            tokens=[token_to_proto(r) for r in records],
            next_page_token=convert.next_token(offset, limit, len(records)))

    async def RevokeCredential(self, request: Any, context: Any) -> Any:
        await self._store.revoke(request.token_id, request.owner)
        return identity_service_pb2.RevokeCredentialResponse()

    async def RecordAuditEvent(self, request: Any, context: Any) -> Any:
        event = request.event
        if not event.operation:
            raise InvalidArgumentError("event.operation is required.", field="event.operation")
        await self._store.record(event.actor, event.operation, event.outcome or "ok",
                                 dict(event.details))
        return identity_service_pb2.RecordAuditEventResponse()

    async def ListAuditEvents(self, request: Any, context: Any) -> Any:
        offset, limit = convert.page(request.page_size, request.page_token)
        records = await self._store.list_audit(request.actor, request.operation, offset, limit)
        return audit_service_pb2.ListAuditEventsResponse(
            events=[audit_to_proto(r) for r in records],
            next_page_token=convert.next_token(offset, limit, len(records)))
